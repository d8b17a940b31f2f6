"""The kubelet's crash-loop back-off (flowcontrol.Backoff as the kubelet uses it), on the cluster's clock.

A container that exits is restarted at once the first time; each later exit waits the current back-off
(10 s, doubling up to 5 minutes) counted from when it exited, showing CrashLoopBackOff meanwhile. A container
that ran longer than twice the cap (10 minutes) before exiting starts over at the initial back-off.

Layer: sim (the simulated cluster; apart from the product).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class AgedLoop:
    """Where a crash loop that began `age` seconds ago stands now (for pods seeded or dated in the past)."""

    restarts: int
    running: bool  # True: the container is up; False: it exited and waits out its back-off
    since: float  # seconds ago it started (running) or exited (waiting)
    exited: float | None  # seconds ago it last exited (None: never)
    backoff: float  # the current back-off (0 before the first restart)
    updated: float  # seconds ago the back-off last moved (a restart)
    wait: float  # seconds left until the restart (waiting only)


@dataclass(frozen=True)
class BackOff:
    initial: float
    cap: float

    def expired(self, exited: float, updated: float) -> bool:
        """A container that ran more than twice the cap since the last restart starts over (hasExpired)."""
        return exited - updated > 2 * self.cap

    def waiting(self, backoff: float, updated: float, exited: float, now: float) -> bool:
        """Whether a container that exited at `exited` must still wait before its restart (IsInBackOffSince)."""
        return backoff > 0 and not self.expired(exited, updated) and now - exited < backoff

    def next(self, backoff: float, updated: float, exited: float) -> float:
        """The back-off after a restart now (Next): the initial one at first or after a long run, else doubled."""
        if backoff <= 0 or self.expired(exited, updated):
            return self.initial
        return min(backoff * 2, self.cap)

    def age(self, run: float, age: float) -> AgedLoop:
        """Replay a loop whose container runs `run` seconds before each exit, started `age` seconds ago."""
        started, restarts, backoff, updated = 0.0, 0, 0.0, 0.0
        exited: float | None = None
        while True:
            if backoff >= self.cap:
                # Steady state: every cycle is one run and one capped wait; skip whole cycles at once.
                cycles = max(int((age - started) // (run + self.cap)) - 1, 0)
                if cycles:
                    started += cycles * (run + self.cap)
                    restarts += cycles
                    updated, exited = started, started - self.cap
            if started + run > age:
                ago = None if exited is None else age - exited
                return AgedLoop(restarts, True, age - started, ago, backoff, age - updated, 0.0)
            exited = started + run
            wait = backoff if self.waiting(backoff, updated, exited, exited) else 0.0
            if exited + wait > age:
                left = exited + wait - age
                return AgedLoop(restarts, False, age - exited, age - exited, backoff, age - updated, left)
            backoff = self.next(backoff, updated, exited)
            started = updated = exited + wait
            restarts += 1


def go_duration(seconds: float) -> str:
    """A duration as Go's time.Duration prints it: 10s, 1m20s, 5m0s."""
    whole = int(round(seconds))
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours}h{minutes}m{secs}s"
    if minutes:
        return f"{minutes}m{secs}s"
    if seconds != whole:
        return f"{seconds:g}s"
    return f"{secs}s"

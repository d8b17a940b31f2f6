"""When a pod was last OOMKilled and how long that run lasted: the two numbers that tell a slow leak from a burst.

A container killed seconds after it started has a limit below what it needs to run: raise it now. One killed hours
after it started ran into the limit as memory grew: by a leak (the next kill is due when its usage climbs back, a
rolling restart resets it, a higher limit buys time until the leak is fixed) or by a load peak (a daily high: the
kill comes with the hour, and the limit must hold the peak). Restart timing tells these two apart only across pods:
kills hours apart after runs of the same length follow uptime (a leak); kills together after runs of different
lengths follow the clock (a peak). One kill, or kills together after equal runs, cannot tell: memory over time and
the traffic at the kills can. The kubelet records both ends of the killed run (lastState.terminated startedAt ->
finishedAt).

Layer: tools.k8s.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from incident_response.tools.k8s.memory_climb import Sample, climb_text, climbs
from incident_response.tools.k8s.quantity import human_age, parse_time
from incident_response.tools.k8s.usage import PodUsage
from incident_response.tools.k8s.views import meta

# A run this long before its kill was memory growing over time, not a working set above the limit from the start.
LEAK_RUN_SECONDS = 30 * 60
# How assessments and plans name what the killed runs say (the handoff, restore and verify read a plan's summary for
# it: said()). EITHER contains PEAK, so it is looked for first.
LEAK = "a slow leak"
PEAK = "a load peak"
EITHER = "a leak or a load peak"
# Kills this far apart after runs of one length follow uptime; runs this different ending together follow the clock.
APART_SECONDS = 30 * 60


@dataclass(frozen=True)
class OomRun:
    pod: str
    ran: int | None  # seconds from the killed run's start to its kill (None: the kubelet did not record both)
    ago: int | None  # seconds since the kill
    use: str = ""  # memory now against the limit ("470Mi, 92% of its 512Mi limit"), when the metrics API says

    def when(self) -> str:
        """'3h ago, 6h10m after it started' (either half left out when the kubelet did not record it)."""
        ago = f"{human_age(self.ago)} ago" if self.ago is not None else ""
        lasted = f"{run_length(self.ran)} after it started" if self.ran is not None else ""
        return ", ".join(part for part in (ago, lasted) if part)

    def text(self) -> str:
        """'web-1 OOMKilled 3h ago, 6h10m after it started; now 470Mi, 92% of its 512Mi limit'."""
        return f"{self.pod} OOMKilled {self.when()}".rstrip() + (f"; now {self.use}" if self.use else "")


def last_oom(pod: dict[str, Any], now: datetime, use: str = "") -> OomRun | None:
    """The pod's most recent OOMKilled run (any container, current or last state), or None when its last
    termination was not an OOM kill."""
    ended = [
        terminated
        for status in (pod.get("status") or {}).get("containerStatuses") or []
        for state in (status.get("state") or {}, status.get("lastState") or {})
        if (terminated := state.get("terminated"))
    ]
    latest = max(ended, key=lambda t: str(t.get("finishedAt") or ""), default=None)
    if latest is None or latest.get("reason") != "OOMKilled":
        return None
    started, finished = parse_time(latest.get("startedAt")), parse_time(latest.get("finishedAt"))
    ran = int((finished - started).total_seconds()) if started and finished and finished >= started else None
    ago = max(0, int((now - finished).total_seconds())) if finished else None
    return OomRun(str(meta(pod).name), ran, ago, use)


def ended_a_long_run(pod: dict[str, Any]) -> bool:
    """The pod's last OOM kill ended a run of LEAK_RUN_SECONDS or more (memory that crept up, not a working set
    above the limit): Ready again, such a pod is not failing on its own, its next kill is hours away."""
    run = last_oom(pod, datetime.now(UTC))
    return run is not None and long_runs([run])


def run_length(seconds: int) -> str:
    """kubectl's short duration; the kubelet's timestamps are whole seconds, so 0 is 'under 1s'."""
    return human_age(seconds) if seconds else "under 1s"


def long_runs(runs: list[OomRun]) -> bool:
    """Every killed run lasted long enough to be memory growing into the limit, not a limit below the working set."""
    return bool(runs) and all(r.ran is not None and r.ran >= LEAK_RUN_SECONDS for r in runs)


def spreads(runs: list[OomRun]) -> tuple[int, int]:
    """(seconds between the first and the last kill, between the shortest and the longest killed run)."""
    kills = [r.ago for r in runs if r.ago is not None]
    lengths = [r.ran for r in runs if r.ran is not None]
    return max(kills) - min(kills), max(lengths) - min(lengths)


def reading(runs: list[OomRun], samples: Sequence[Sample] = ()) -> str | None:
    """LEAK, PEAK or EITHER for killed runs that all lasted long (None: a burst, or runs not timed). Where their
    timing cannot tell, memory now climbing with uptime across the pods (`samples`: memory_climb) reads as LEAK."""
    found = timing_reading(runs)
    return LEAK if found == EITHER and climbs(list(samples)) else found


def by_use(runs: list[OomRun], samples: Sequence[Sample]) -> bool:
    """The reading is LEAK by memory against uptime, not by the kills' timing."""
    return timing_reading(runs) == EITHER and climbs(list(samples))


def timing_reading(runs: list[OomRun]) -> str | None:
    """reading() by the kills' timing alone."""
    if not long_runs(runs):
        return None
    timed = [r for r in runs if r.ago is not None]
    if len(timed) < 2:
        return EITHER
    kills, lengths = spreads(timed)
    if kills >= APART_SECONDS and lengths * 4 <= kills:
        return LEAK
    if lengths >= APART_SECONDS and kills * 4 <= lengths:
        return PEAK
    return EITHER


def said(text: str) -> str | None:
    """Which reading a plan's summary (or a reason) states, if any."""
    return next((r for r in (EITHER, LEAK, PEAK) if r in text), None)


def shortest_run(runs: list[OomRun]) -> str:
    """'6h10m': the shortest killed run, how long a pod lasts at this limit at best."""
    return run_length(min(r.ran for r in runs if r.ran is not None))


def next_kill(runs: list[OomRun]) -> str:
    """'in about 1h': when the pod restarted longest ago reaches the shortest killed run again (a leak's pace)."""
    left = min((r.ran or 0) - (r.ago or 0) for r in runs)
    return f"in about {human_age(left)}" if left > 0 else "any time now"


def memory_use(usage: PodUsage) -> str:
    """'470Mi, 92% of its 512Mi limit' ('' when the metrics API gave no figure against a limit)."""
    if usage.memory_percent_of_limit is None:
        return ""
    return f"{usage.memory}, {usage.memory_percent_of_limit}% of its {usage.memory_limit} limit"


# What to do, after the reading: a leak's next kill and owners, a peak's limit, or how to tell the two apart.
ADVICE = {
    LEAK: ", the next kill due {due}. A rolling restart resets the usage (set_memory_limit's does) and a higher limit "
    "buys time; file the leak with {component}'s owners",
    PEAK: ", not uptime. Raise the limit to what the peak needs; a restart does not help",
    EITHER: " (their timing cannot tell: check its memory over time and the traffic at the kills). A higher limit buys "
    "time either way",
}


def shape(component: str, runs: list[OomRun], samples: Sequence[Sample] = ()) -> str:
    """What the killed runs say and what to do, as the end of 'N pods of X were OOMKilled'."""
    found = reading(runs, samples)
    if found is not None:
        advice = ADVICE[found].format(due=next_kill(runs) if found == LEAK else "", component=component)
        if by_use(runs, samples):
            return f"{lasted(runs, EITHER, 'of running')}: {found} ({climb_text(list(samples))}){advice}"
        return f"{lasted(runs, found, 'of running')}: {found}{advice}"
    timed = [r for r in runs if r.ran is not None]
    if timed and not long_runs(timed):
        return f" {shortest_run(timed)} after starting: the limit is below what it needs to run; raise it now"
    return ": raise the memory limit"


def lasted(runs: list[OomRun], found: str, running: str) -> str:
    """', each after 6h10m or more of running, 2h apart' (a leak; no 'apart' for either), or ' within 4m of each
    other after runs of 2h to 9h' (a peak)."""
    timed = [r for r in runs if r.ago is not None]
    kills, _ = spreads(timed) if timed else (0, 0)
    if found == PEAK:
        longest = run_length(max(r.ran for r in runs if r.ran is not None))
        return f" within {human_age(kills)} of each other after runs of {shortest_run(runs)} to {longest}"
    return f", each after {shortest_run(runs)} or more {running}" + (
        f", {human_age(kills)} apart" if found == LEAK else ""
    )


def plan_note(runs: list[OomRun], samples: Sequence[Sample] = ()) -> str:
    """What a plan raising the limit says of the kills it answers, after 'OOMKilled last: N of M pods': when the
    latest was and how long the killed runs lasted. Short: the summary is in the plan's text and its data both, and
    assess_namespace's reason says what to do about it."""
    latest = min((r.ago for r in runs if r.ago is not None), default=None)
    when = f", the latest {human_age(latest)} ago" if latest is not None else ""
    found = reading(runs, samples)
    if by_use(runs, samples):
        return f"{when}{lasted(runs, EITHER, 'running')}: {found} ({climb_text(list(samples), short=True)})."
    if found == PEAK:  # shorter than shape's: the plan's summary is in its text and its data both
        kills, _ = spreads([r for r in runs if r.ago is not None])
        longest = run_length(max(r.ran for r in runs if r.ran is not None))
        return f"{when}, all within {human_age(kills)} after runs of {shortest_run(runs)} to {longest}: {PEAK}."
    if found is not None:
        return f"{when}{lasted(runs, found, 'running')}: {found}."
    timed = [r for r in runs if r.ran is not None]
    after = f", {shortest_run(timed)} after starting" if timed else ""
    return f"{when}{after}."

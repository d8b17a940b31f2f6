"""When a pod was last OOMKilled and how long that run lasted: the two numbers that tell a slow leak from a burst.

A container killed hours after it started, by memory that grew until the limit, is a leak: the next kill is due
when its usage climbs back, a rolling restart resets the usage, and a higher limit buys time until the leak is fixed.
One killed seconds after it started has a limit below what it needs to run: raise it now. The kubelet records both
ends of the killed run (lastState.terminated startedAt -> finishedAt).

Layer: tools.k8s.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from incident_response.tools.k8s.quantity import human_age, parse_time
from incident_response.tools.k8s.usage import PodUsage
from incident_response.tools.k8s.views import meta

# A run this long before its kill was memory growing over time, not a working set above the limit from the start.
LEAK_RUN_SECONDS = 30 * 60
LEAK = "a slow leak"  # how assessments and plans name it (the handoff reads a plan's summary for it)


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
    return run is not None and slow_leak([run])


def run_length(seconds: int) -> str:
    """kubectl's short duration; the kubelet's timestamps are whole seconds, so 0 is 'under 1s'."""
    return human_age(seconds) if seconds else "under 1s"


def slow_leak(runs: list[OomRun]) -> bool:
    """Every killed run lasted long enough to be memory creeping up, not a limit below the working set."""
    return bool(runs) and all(r.ran is not None and r.ran >= LEAK_RUN_SECONDS for r in runs)


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


def shape(component: str, runs: list[OomRun]) -> str:
    """What the killed runs say and what to do, as the end of 'N pods of X were OOMKilled'."""
    if slow_leak(runs):
        return (
            f", each after {shortest_run(runs)} or more of running: {LEAK}, the next kill due {next_kill(runs)}. "
            "A rolling restart resets the usage (set_memory_limit's does) and a higher limit buys time; file the leak "
            f"with {component}'s owners"
        )
    timed = [r for r in runs if r.ran is not None]
    if timed and not slow_leak(timed):
        return f" {shortest_run(timed)} after starting: the limit is below what it needs to run; raise it now"
    return ": raise the memory limit"


def plan_note(runs: list[OomRun]) -> str:
    """What a plan raising the limit says of the kills it answers, after 'OOMKilled last: N of M pods': when the
    latest was and how long the killed runs lasted. Short: the summary is in the plan's text and its data both, and
    assess_namespace's reason says what to do about a leak."""
    latest = min((r.ago for r in runs if r.ago is not None), default=None)
    when = f", the latest {human_age(latest)} ago" if latest is not None else ""
    if slow_leak(runs):
        return f"{when}, each after {shortest_run(runs)} or more running: {LEAK}."
    timed = [r for r in runs if r.ran is not None]
    lasted = f", {shortest_run(timed)} after starting" if timed else ""
    return f"{when}{lasted}."

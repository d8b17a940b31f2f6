"""Memory now against uptime, across a workload's pods: the one trend the metrics API shows.

metrics.k8s.io serves only the current window (metrics-server keeps no history), so a single pod's memory over time
is not readable from the cluster. Its pods, though, have been up for different lengths of time: under a slow leak
their memory now rises with their uptime (a pod restarted 10 minutes ago low, one up for hours near its limit); under
a load peak it follows the traffic, not the uptime. A clear climb across pods whose uptimes differ by half an hour or
more is read as a leak, unless it levels off (pods up half an hour or more apart at the same height once risen: a
cache filling to its size); anything less says nothing (memory that does not follow uptime is not proof of a peak).

Layer: tools.k8s.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from incident_response.tools.k8s.quantity import human_age, parse_time
from incident_response.tools.k8s.usage import PodUsage
from incident_response.tools.k8s.views import meta

UPTIMES_APART = 30 * 60  # seconds between the newest and the oldest pod's start, at least
CLIMB_POINTS = 25  # percent of the limit the oldest pod uses over the newest, at least
NOISE_POINTS = 5  # a pod up longer may use this much less than one up shorter and still climb


@dataclass(frozen=True)
class Sample:
    """One running pod's memory now against its limit, and how long its container has been up."""

    pod: str
    uptime: int  # seconds
    percent: int  # memory now, percent of the limit
    memory: str  # as kubectl top prints it


def sample(pod: dict[str, Any], usage: PodUsage | None, now: datetime) -> Sample | None:
    """The pod's sample: its first running container's start, its memory against the limit (None without either)."""
    if usage is None or usage.memory_percent_of_limit is None or meta(pod).deletion_timestamp:
        return None
    for status in (pod.get("status") or {}).get("containerStatuses") or []:
        started = parse_time(((status.get("state") or {}).get("running") or {}).get("startedAt"))
        if started is not None:
            uptime = max(0, int((now - started).total_seconds()))
            return Sample(str(meta(pod).name), uptime, usage.memory_percent_of_limit, usage.memory)
    return None


def climbs(samples: list[Sample]) -> bool:
    """Memory now rises with uptime across the pods: uptimes far enough apart, the oldest well above the newest, and
    no pod up longer using clearly less than one up shorter."""
    ordered = sorted(samples, key=lambda s: s.uptime)
    if len(ordered) < 2 or ordered[-1].uptime - ordered[0].uptime < UPTIMES_APART:
        return False
    steady = all(b.percent + NOISE_POINTS >= a.percent for a, b in zip(ordered, ordered[1:], strict=False))
    return steady and ordered[-1].percent - ordered[0].percent >= CLIMB_POINTS and not levels_off(ordered)


def levels_off(ordered: list[Sample]) -> bool:
    """After rising, memory stays level across pods up half an hour or more apart: a cache or heap filling to its
    size, not a leak (a leak keeps climbing until the kill; review-landed8 R5). `ordered`: by uptime."""
    low = ordered[0].percent
    return any(
        b.uptime - a.uptime >= UPTIMES_APART
        and b.percent - a.percent < NOISE_POINTS
        and a.percent - low >= CLIMB_POINTS
        for i, a in enumerate(ordered)
        for b in ordered[i + 1 :]
    )


def climb_text(samples: list[Sample], short: bool = False) -> str:
    """'memory now climbs with uptime: 74Mi (29% of the limit) 10m after its start, 203Mi (79%) after 2h10m';
    `short` (a plan's summary, in its text and data both): 'memory climbs with uptime: 74Mi at 10m, 203Mi at 2h10m'."""
    ordered = sorted(samples, key=lambda s: s.uptime)
    low, high = ordered[0], ordered[-1]
    if short:
        at = f"{low.memory} at {human_age(low.uptime)}, {high.memory} at {human_age(high.uptime)}"
        return f"memory climbs with uptime: {at}"
    return (
        f"memory now climbs with uptime: {low.memory} ({low.percent}% of the limit) {human_age(low.uptime)} after "
        f"its start, {high.memory} ({high.percent}%) after {human_age(high.uptime)}"
    )

"""Memory now against uptime across a workload's pods: a climb reads as a leak, anything less says nothing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from incident_response.tools.k8s.memory_climb import Sample, climb_text, climbs, sample
from incident_response.tools.k8s.oom_runs import EITHER, LEAK, PEAK, OomRun, reading, shape
from incident_response.tools.k8s.usage import PodUsage

H = 3600


def s(pod: str, uptime: int, percent: int) -> Sample:
    return Sample(pod, uptime, percent, f"{percent * 5}Mi")


def test_a_clear_climb_across_uptimes_far_apart_is_a_climb() -> None:
    assert climbs([s("a", 600, 27), s("b", 2 * H, 50), s("c", 4 * H, 75)])
    assert climbs([s("a", 600, 27), s("c", 4 * H, 75), s("b", 2 * H, 48)])  # any order; within the noise


def test_flat_close_or_crossing_memory_says_nothing() -> None:
    assert not climbs([s("a", 600, 70), s("b", 4 * H, 75)])  # flat: not proof of a peak either
    assert not climbs([s("a", 600, 27), s("b", 20 * 60, 75)])  # uptimes too close to tell
    assert not climbs([s("a", 600, 27), s("b", 2 * H, 80), s("c", 4 * H, 60)])  # the oldest uses less
    assert not climbs([s("a", 600, 27)])


def test_a_rise_that_levels_off_is_a_cache_filling_not_a_leak() -> None:
    """review-landed8 R5: a cache warms up in its first hour, then holds its size: the pods up 2h and 4h use the same;
    a leak would have climbed on (it did read as a slow leak)."""
    assert not climbs([s("a", 600, 27), s("b", 2 * H, 78), s("c", 4 * H, 80)])
    assert not climbs([s("a", 600, 27), s("b", 1 * H, 79), s("c", 2 * H, 80), s("d", 3 * H, 80)])
    assert climbs([s("a", 600, 27), s("b", 2 * H, 55), s("c", 2 * H + 600, 57), s("d", 4 * H, 80)])  # close uptimes


def test_the_climb_is_said_from_the_newest_to_the_oldest() -> None:
    text = climb_text([s("c", 4 * H, 75), s("a", 600, 27)])
    assert text == "memory now climbs with uptime: 135Mi (27% of the limit) 10m after its start, 375Mi (75%) after 4h"
    assert climb_text([s("a", 600, 27), s("c", 4 * H, 75)], short=True) == (
        "memory climbs with uptime: 135Mi at 10m, 375Mi at 4h"
    )


def test_only_a_timing_that_cannot_tell_is_settled_by_the_climb() -> None:
    one_kill = [OomRun("a", ran=6 * H, ago=600)]
    climb = [s("a", 600, 27), s("c", 4 * H, 75)]
    assert reading(one_kill) == EITHER and reading(one_kill, climb) == LEAK
    assert "a slow leak (memory now climbs with uptime" in shape("recommender", one_kill, climb)
    peak = [OomRun("a", 3 * H, 2 * H), OomRun("b", 5 * H, 2 * H + 120), OomRun("c", 9 * H, 2 * H + 300)]
    assert reading(peak, climb) == PEAK  # the kills' timing, when it tells, is not overruled
    burst = [OomRun("a", ran=2, ago=30)]
    assert reading(burst, climb) is None


def test_a_sample_is_the_running_containers_uptime_and_memory() -> None:
    now = datetime(2026, 12, 5, 12, 0, tzinfo=UTC)
    pod = {
        "metadata": {"name": "a"},
        "status": {"containerStatuses": [{"state": {"running": {"startedAt": "2026-12-05T10:00:00Z"}}}]},
    }
    usage = PodUsage(
        name="a",
        cpu="5m",
        memory="256Mi",
        cpu_cores=0.005,
        memory_bytes=256 * 2**20,
        cpu_request="100m",
        cpu_limit="500m",
        memory_request="256Mi",
        memory_limit="512Mi",
        cpu_percent_of_limit=1,
        cpu_percent_of_request=5,
        memory_percent_of_limit=50,
    )
    assert sample(pod, usage, now) == Sample("a", 2 * H, 50, "256Mi")
    assert sample(pod, None, now) is None
    waiting = {**pod, "status": {"containerStatuses": [{"state": {"waiting": {"reason": "CrashLoopBackOff"}}}]}}
    assert sample(waiting, usage, now + timedelta(0)) is None

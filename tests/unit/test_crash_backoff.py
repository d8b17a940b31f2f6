"""Crash loops restart on the kubelet's back-off (10 s doubling to 5 minutes, reset after 10 minutes of running),
on the cluster's clock: these tests move a hand-advanced clock, nothing waits for real time."""

from __future__ import annotations

from typing import Any

import pytest

from incident_response.sim import behaviors
from incident_response.sim.cluster import Cluster, ManualClock, Timing
from incident_response.sim.controllers.backoff import BackOff, go_duration
from incident_response.sim.resources import DEPLOYMENTS, EVENTS, PODS
from incident_response.sim.scenarios.builders import deployment_body, minimal
from incident_response.sim.store import Store

KUBELET = BackOff(initial=10.0, cap=300.0)


def make(timing: Timing | None = None) -> Cluster:
    clock = ManualClock()
    cluster = Cluster(Store(clock=clock.wall), timing or Timing(), clock=clock, sleep=clock.sleep)
    minimal(cluster)
    return cluster


def container(cluster: Cluster, app: str) -> dict[str, Any]:
    pods = [p for p in cluster.store.items(PODS, "default") if p["metadata"]["labels"].get("app") == app]
    assert len(pods) <= 1, pods
    statuses: list[dict[str, Any]] = [{"state": {}, "restartCount": 0}]
    if pods:
        statuses = pods[0]["status"].get("containerStatuses") or statuses
    return statuses[0]


def test_go_durations_read_as_the_kubelet_prints_them() -> None:
    assert [go_duration(s) for s in (10, 20, 40, 80, 160, 300)] == ["10s", "20s", "40s", "1m20s", "2m40s", "5m0s"]


def test_a_crash_loop_restarts_at_once_then_waits_10s_doubling_to_5_minutes() -> None:
    cluster = make()
    crash = {behaviors.BEHAVIOR: behaviors.CRASHLOOP}
    cluster.store.create(DEPLOYMENTS, deployment_body("api", replicas=1, pod_annotations=crash))
    restarts: list[tuple[int, float]] = []  # (restartCount, cluster time it was first seen)
    messages: list[str] = []
    first_run: float | None = None
    start = cluster.now()
    while cluster.now() - start < 1300:
        cluster.advance(0.25, step=0.25)
        status = container(cluster, "api")
        if first_run is None and "running" in status["state"]:
            first_run = cluster.now() - start
        count = status["restartCount"]
        if not restarts or restarts[-1][0] != count:
            restarts.append((count, cluster.now() - start))
        waiting = status["state"].get("waiting") or {}
        if waiting.get("reason") == "CrashLoopBackOff" and waiting["message"] not in messages:
            messages.append(waiting["message"])
    counts = [count for count, _ in restarts]
    assert counts == list(range(len(counts)))  # one restart at a time, never skipped
    gaps = [b - a for (_, a), (_, b) in zip(restarts[1:], restarts[2:], strict=False)]
    # Between restarts the container runs (0.5 s) then waits its back-off (seen to within a 0.25 s step).
    waits = [10, 20, 40, 80, 160, 300, 300]
    assert all(abs(gap - 0.5 - wait) <= 0.3 for gap, wait in zip(gaps, waits, strict=False)), restarts
    assert len(gaps) >= len(waits)
    assert first_run is not None and restarts[1][1] - first_run <= 1.0  # the first exit restarts at once
    shown = [m.split(" restarting")[0] for m in messages]
    assert shown == [f"back-off {d}" for d in ("10s", "20s", "40s", "1m20s", "2m40s", "5m0s")]
    # 38 restarts in three minutes is what the old simulator did; the kubelet allows five.
    assert max(count for count, at in restarts if at <= 180) == 5
    backoff = [e for e in cluster.store.items(EVENTS, "default") if e["reason"] == "BackOff"]
    assert len(backoff) == 1 and backoff[0]["count"] >= 6 and backoff[0]["type"] == "Warning"


def test_a_container_that_ran_ten_minutes_restarts_at_once_with_the_backoff_reset() -> None:
    cluster = make(Timing(crash_after=700.0))  # runs 11 minutes 40 before each exit
    cluster.store.create(
        DEPLOYMENTS, deployment_body("api", replicas=1, pod_annotations={behaviors.BEHAVIOR: behaviors.CRASHLOOP})
    )
    seen_waiting = False
    start = cluster.now()
    while cluster.now() - start < 3 * 700 + 30:
        cluster.advance(5.0, step=1.0)
        seen_waiting = seen_waiting or "waiting" in container(cluster, "api")["state"]
    assert container(cluster, "api")["restartCount"] == 3
    assert not seen_waiting  # each exit came more than 10 minutes after the last restart: no CrashLoopBackOff


def test_a_container_that_ran_five_minutes_keeps_its_backoff() -> None:
    cluster = make(Timing(crash_after=300.0))
    cluster.store.create(
        DEPLOYMENTS, deployment_body("api", replicas=1, pod_annotations={behaviors.BEHAVIOR: behaviors.CRASHLOOP})
    )
    start = cluster.now()
    messages = set()
    while cluster.now() - start < 3 * 300 + 60:
        cluster.advance(5.0, step=1.0)
        waiting = container(cluster, "api")["state"].get("waiting") or {}
        if waiting.get("reason") == "CrashLoopBackOff":
            messages.add(waiting["message"].split(" restarting")[0])
    assert messages == {"back-off 10s", "back-off 20s"}


@pytest.mark.parametrize(
    ("age", "restarts", "running"),
    [
        (0.4, 0, True),  # still in its first run
        (5.0, 1, False),  # restarted at once, exited again, waits 10 s
        (7 * 60, 6, False),  # a bad deploy seven minutes ago: waits its first 5-minute back-off
        (3600.0, 16, False),  # then one restart every 5 minutes (and the half second it runs)
    ],
)
def test_a_loop_seeded_in_the_past_stands_where_the_kubelet_would_have_it(
    age: float, restarts: int, running: bool
) -> None:
    loop = KUBELET.age(0.5, age)
    assert (loop.restarts, loop.running) == (restarts, running)
    if not running:
        assert 0 < loop.wait <= loop.backoff


def test_a_loop_seeded_days_ago_is_computed_without_replaying_every_restart() -> None:
    loop = KUBELET.age(0.5, 40 * 86400.0)
    assert loop.backoff == 300.0 and 11500 < loop.restarts < 11530

"""restore_measure's judgement of whether what a measure answered is gone, on plain facts."""

from __future__ import annotations

from incident_response.tools.k8s.hpa_load import HpaLoad, Utilization
from incident_response.tools.playbook.restore_checks import (
    PodState,
    backend_restore,
    hpa_restore,
    leak_restore,
    memory_restore,
)


def load(current: int, cpu: int | None, *, maximum: int = 8) -> HpaLoad:
    used = (Utilization("cpu", cpu, 70),) if cpu is not None else ()
    return HpaLoad("web", "Deployment", "web", 2, maximum, current, current, used, limited=False)


def test_an_hpa_whose_load_fits_the_old_max_may_be_restored() -> None:
    assert hpa_restore(load(6, 30), old_max=4).holds == []  # 6 x 30% spread over 4 is 45%, under 70%


def test_within_the_autoscalers_tolerance_is_not_a_reason_to_refuse() -> None:
    assert hpa_restore(load(5, 60), old_max=4).holds == []  # 75%: within 10% of the target, it would not rescale


def test_an_hpa_whose_load_needs_the_raised_max_is_held() -> None:
    [held] = hpa_restore(load(8, 65), old_max=4).holds
    assert "its own formula asks for 8 replicas, and restoring max 4 caps it at 4" in held
    assert "caps it at 4, cpu about 130% of requests (target 70%) on each" in held  # said "about cpu about"


def test_an_hpa_without_utilization_is_not_refused_but_said_unchecked() -> None:
    found = hpa_restore(load(8, None), old_max=4)
    assert found.holds == [] and "reports no utilization" in found.unchecked[0]


def test_restoring_no_memory_limit_and_unknown_use() -> None:
    assert memory_restore("app", None, {"p": 9e9}).holds == []
    assert "no metrics API" in memory_restore("app", 256 * 2**20, None).unchecked[0]
    assert memory_restore("app", 256 * 2**20, {"p": 100 * 2**20}).holds == []


LEAK_PLAN = (
    "Set the memory limit of container app in deployment app (shop): 512Mi -> 1Gi. OOMKilled last: 3 of 3 pods (...). "
    "Each ran 6h10m or more before its kill: a slow leak. This rolling restart resets the usage and the higher limit "
    "buys time; the leak still needs a fix."
)


def test_a_raise_for_a_slow_leak_holds_while_the_pods_still_use_little_until_a_later_revision_runs() -> None:
    # Right after the raise's restart the pods use 100Mi of the old 512Mi: the usage check alone would restore it.
    low = memory_restore("app", 512 * 2**20, {"p": 100 * 2**20})
    [held] = leak_restore(low, LEAK_PLAN, "4", "5").holds  # revision 5 is the raise's own rollout
    assert held.startswith("the raise answered a slow leak") and "no revision has rolled out since it" in held
    # A later revision (a fix rolled out, 6) lets the usage check decide; a burst's raise is the usage check's alone.
    assert leak_restore(memory_restore("app", 512 * 2**20, {"p": 100 * 2**20}), LEAK_PLAN, "4", "6").holds == []
    burst = LEAK_PLAN.replace("Each ran 6h10m or more before its kill: a slow leak.", "Killed 1s after starting.")
    assert leak_restore(memory_restore("app", 512 * 2**20, {"p": 100 * 2**20}), burst, "4", "5").holds == []


def pod(name: str, *, ready: bool, running: bool = True) -> PodState:
    return PodState(name, f"uid-{name}", ready, running)


def test_an_old_backend_must_have_ready_pods_to_take_the_traffic_back() -> None:
    [nowhere] = backend_restore("the old selector app=api of Service api", [pod("a", ready=False)]).holds
    assert (
        nowhere
        == "the old selector app=api of Service api has no Ready pod (1 running): restoring sends the traffic nowhere"
    )
    [sick] = backend_restore("the old backend Service api", [pod("a", ready=True), pod("b", ready=False)]).holds
    assert "1 of its 2 pods are not Ready (b)" in sick
    assert backend_restore("x", [pod("a", ready=True), pod("c", ready=False, running=False)]).holds == []

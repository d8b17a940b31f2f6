"""An HPA's load facts: pinned only when it wants pods its maximum forbids."""

from __future__ import annotations

from typing import Any

from incident_response.tools.k8s.hpa_load import hpa_load


def hpa(current: int, desired: int, maximum: int, utilization: int | None, *, limited: bool = False) -> dict[str, Any]:
    status: dict[str, Any] = {"currentReplicas": current, "desiredReplicas": desired}
    if utilization is not None:
        status["currentMetrics"] = [
            {"type": "Resource", "resource": {"name": "cpu", "current": {"averageUtilization": utilization}}}
        ]
    if limited:
        status["conditions"] = [{"type": "ScalingLimited", "status": "True", "reason": "TooManyReplicas"}]
    target = {"type": "Utilization", "averageUtilization": 70}
    return {
        "metadata": {"name": "web"},
        "spec": {
            "scaleTargetRef": {"kind": "Deployment", "name": "web"},
            "minReplicas": 2,
            "maxReplicas": maximum,
            "metrics": [{"type": "Resource", "resource": {"name": "cpu", "target": target}}],
        },
        "status": status,
    }


def test_at_its_max_over_target_it_is_pinned_and_says_how_many_it_wants() -> None:
    load = hpa_load(hpa(6, 6, 6, 140, limited=True))
    assert load.pinned and load.needed() == 12
    assert load.text() == "HPA web runs 6 replicas (min 2, max 6), cpu 140% of requests (target 70%)"


def test_within_tolerance_at_its_max_is_not_pinned() -> None:
    assert not hpa_load(hpa(6, 6, 6, 76)).pinned  # within 10% of the target: it would not scale up with room


def test_still_climbing_to_a_maximum_that_will_do_is_not_pinned() -> None:
    # 4 pods at 120% want 7; the new maximum of 8 holds them: the autoscaler has room, it is on its way.
    assert not hpa_load(hpa(4, 8, 8, 120)).pinned


def test_without_utilization_nothing_is_claimed() -> None:
    load = hpa_load(hpa(6, 6, 6, None, limited=True))
    assert not load.pinned and load.needed() is None and load.loads() == "no utilization reported yet"

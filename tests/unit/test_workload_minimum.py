"""The available minimum of every workload kind (tools/assess/workload_minimum.py), on built objects."""

from __future__ import annotations

from typing import Any

import pytest

from incident_response.tools.assess.workload_minimum import availability


def workload(
    kind: str, *, replicas: int = 4, available: int = 0, strategy: dict[str, Any] | None = None
) -> dict[str, Any]:
    spec: dict[str, Any] = {"template": {"metadata": {"labels": {"app": "db"}}}}
    if kind == "daemonset":
        status = {"desiredNumberScheduled": replicas, "numberAvailable": available}
    else:
        spec["replicas"] = replicas
        status = {"availableReplicas": available}
    if strategy is not None:
        spec["strategy" if kind == "deployment" else "updateStrategy"] = strategy
    return {"metadata": {"name": "db"}, "spec": spec, "status": status}


def pdb(**spec: Any) -> dict[str, Any]:
    return {"metadata": {"name": "db-budget"}, "spec": {"selector": {"matchLabels": {"app": "db"}}, **spec}}


@pytest.mark.parametrize(
    ("kind", "strategy", "minimum"),
    [
        ("deployment", None, 3),  # 25% of 4, rounded down
        ("deployment", {"rollingUpdate": {"maxUnavailable": "30%"}}, 3),  # 1.2 -> 1
        ("statefulset", None, 3),  # one pod at a time
        ("statefulset", {"type": "OnDelete"}, 3),
        ("statefulset", {"rollingUpdate": {"maxUnavailable": 2}}, 2),
        ("daemonset", None, 3),
        ("daemonset", {"rollingUpdate": {"maxUnavailable": "30%"}}, 2),  # 1.2 -> 2: the DaemonSet controller rounds up
    ],
)
def test_the_rolling_update_sets_the_minimum_for_every_kind(
    kind: str, strategy: dict[str, Any] | None, minimum: int
) -> None:
    seen = availability(kind, workload(kind, available=0, strategy=strategy), [])
    assert seen.minimum == minimum and seen.short()


@pytest.mark.parametrize(
    ("budget", "minimum", "why"),
    [
        ({"minAvailable": 4}, 4, "PodDisruptionBudget db-budget: minAvailable 4"),
        ({"minAvailable": "60%"}, 3, "maxUnavailable 1"),  # 2.4 -> 3: no stricter than the rollout's
        ({"minAvailable": "80%"}, 4, "PodDisruptionBudget db-budget: minAvailable 80%"),  # 3.2 -> 4
        ({"maxUnavailable": 0}, 4, "PodDisruptionBudget db-budget: maxUnavailable 0"),
    ],
)
def test_a_disruption_budget_over_its_pods_raises_the_minimum(budget: dict[str, Any], minimum: int, why: str) -> None:
    seen = availability("statefulset", workload("statefulset", available=3), [pdb(**budget)])
    assert (seen.minimum, seen.why) == (minimum, why)
    assert seen.short() == (minimum > 3)


def test_a_budget_over_other_pods_is_not_this_workloads() -> None:
    other = pdb(minAvailable=4)
    other["spec"]["selector"] = {"matchLabels": {"app": "cache"}}
    assert availability("deployment", workload("deployment", available=3), [other]).minimum == 3


def test_a_workload_scaled_to_zero_is_never_short() -> None:
    assert not availability("deployment", workload("deployment", replicas=0), [pdb(minAvailable=1)]).short()

"""Which cordoned nodes hold room a scale-up could use (review-assist8 I9): a Ready node cordoned by someone else, not
one under pressure nor one this server cordoned as a measure of the incident."""

from __future__ import annotations

from typing import Any

from incident_response.tools.k8s.capacity import cordoned_room

SPEC = {"containers": [{"name": "web", "resources": {"requests": {"cpu": "250m", "memory": "256Mi"}}}]}


def node(
    name: str, *, cordoned: bool = True, pressure: str | None = None, manager: str = "kubectl-cordon"
) -> dict[str, Any]:
    conditions = [{"type": "Ready", "status": "True"}]
    if pressure:
        conditions.append({"type": pressure, "status": "True"})
    fields = {"f:spec": {"f:unschedulable": {}}}
    return {
        "metadata": {
            "name": name,
            "creationTimestamp": "2026-11-01T00:00:00Z",
            "managedFields": [
                {"manager": manager, "operation": "Update", "time": "2026-12-05T10:00:00Z", "fieldsV1": fields}
            ],
        },
        "spec": {
            "unschedulable": cordoned,
            "taints": [{"key": "node.kubernetes.io/unschedulable", "effect": "NoSchedule"}],
        },
        "status": {"conditions": conditions, "allocatable": {"cpu": "4", "memory": "16Gi", "pods": "110"}},
    }


def test_a_cordon_left_by_someone_else_holds_room() -> None:
    assert cordoned_room(([node("node-1"), node("node-3", cordoned=False)], []), SPEC) == [
        ("node-1", 16, "since 2026-12-05 10:00 UTC by kubectl-cordon")
    ]


def test_a_pressured_node_or_our_own_cordon_is_kept_closed() -> None:
    nodes = [node("node-1", pressure="MemoryPressure"), node("node-2", manager="incident-response-mcp")]
    assert cordoned_room((nodes, []), SPEC) == []

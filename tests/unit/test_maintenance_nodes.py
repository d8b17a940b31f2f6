"""Which node actions are maintenance, not mitigations (review-assist8 I8): the handoff files those apart."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from incident_response.tools.engine.journal import CommandRow
from incident_response.tools.playbook.maintenance_nodes import calm_since, maintenance

PLANNED = datetime(2026, 12, 5, 11, 0, tzinfo=UTC)
BEFORE, AFTER = "2026-12-05T10:00:00Z", "2026-12-05T11:05:00Z"


def node(ready: str = "True", ready_at: str = BEFORE, disk: str = "False", disk_at: str = BEFORE, **spec: Any) -> Any:
    conditions = [
        {"type": "Ready", "status": ready, "lastTransitionTime": ready_at},
        {"type": "DiskPressure", "status": disk, "lastTransitionTime": disk_at},
    ]
    return {"metadata": {"name": "node-3"}, "spec": spec, "status": {"conditions": conditions}}


def drain(tool: str = "drain_node") -> CommandRow:
    return CommandRow(
        token="t1",
        incident="inc",
        tool=tool,
        state="succeeded",
        plan={"target": {"kind": "Node", "name": "node-3"}},
        fingerprint="f",
        created_at=PLANNED.timestamp(),
        expires_at=PLANNED.timestamp() + 900,
    )


def upkeep(body: Any, pointed: tuple[str, ...] = ()) -> set[str]:
    since = calm_since(body)
    return maintenance([drain()], {"node-3": since} if since is not None else {}, pointed)


def test_a_healthy_node_drained_is_maintenance() -> None:
    cordoned = node(unschedulable=True, taints=[{"key": "node.kubernetes.io/unschedulable", "effect": "NoSchedule"}])
    assert upkeep(cordoned) == {"t1"}


def test_a_node_that_failed_or_was_named_is_a_mitigation() -> None:
    assert upkeep(node(ready="False")) == set()  # NotReady now
    assert upkeep(node(disk="True")) == set()  # under pressure now
    assert upkeep(node(ready_at=AFTER)) == set()  # Ready again only since the drain: it was not before
    assert upkeep(node(disk_at=AFTER)) == set()  # its disk pressure cleared after the drain
    assert upkeep(node(taints=[{"key": "node.kubernetes.io/unreachable", "effect": "NoExecute"}])) == set()
    assert upkeep(node(), ("node/node-3",)) == set()  # an assessment of the incident pointed at it


def test_only_node_actions_are_maintenance() -> None:
    since = calm_since(node())
    assert since is not None
    assert maintenance([drain("cordon_node")], {"node-3": since}, ()) == {"t1"}
    assert maintenance([drain("rollback_deployment")], {"node-3": since}, ()) == set()

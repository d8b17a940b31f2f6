"""The scheduler's PodScheduled message read as a refusal (tools/k8s/scheduling.py), and a request judged against
the largest node (tools/assess/refusals.oversized): the words the assessment picks its advice by."""

from __future__ import annotations

import pytest
from support.builders import node

from incident_response.tools.assess.refusals import oversized
from incident_response.tools.k8s.scheduling import refusal_of

PREEMPTION = " preemption: 0/3 nodes are available: 3 Preemption is not helpful for scheduling."


@pytest.mark.parametrize(
    ("message", "kind", "reasons"),
    [
        ("0/3 nodes are available: 3 Insufficient cpu." + PREEMPTION, "resources", {"Insufficient cpu": 3}),
        ("0/3 nodes are available: 3 Too many pods.", "pods", {"Too many pods": 3}),
        # The kind is the reason most nodes gave: a control-plane taint on one node does not make it a taint problem.
        (
            "0/3 nodes are available: 1 node(s) had untolerated taint {node-role.kubernetes.io/control-plane: }, "
            "2 Insufficient memory." + PREEMPTION,
            "resources",
            {"node(s) had untolerated taint {node-role.kubernetes.io/control-plane: }": 1, "Insufficient memory": 2},
        ),
        ("0/2 nodes are available: 2 node(s) were unschedulable.", "taints", {"node(s) were unschedulable": 2}),
        (
            "0/3 nodes are available: 3 node(s) didn't match Pod's node affinity/selector.",
            "placement",
            {"node(s) didn't match Pod's node affinity/selector": 3},
        ),
        ("binding rejected: pod has unbound immediate PersistentVolumeClaims", "other", {}),
    ],
)
def test_a_refusal_is_read_by_the_reason_most_nodes_gave(message: str, kind: str, reasons: dict[str, int]) -> None:
    refusal = refusal_of(message)
    assert (refusal.kind, refusal.reasons) == (kind, reasons)
    assert "preemption" not in refusal.message


def test_a_request_is_oversized_only_above_the_largest_node_that_would_take_it() -> None:
    def spec(cpu: str, memory: str = "1Gi") -> dict[str, object]:
        return {"containers": [{"name": "app", "resources": {"requests": {"cpu": cpu, "memory": memory}}}]}

    nodes = [node("node-1", cpu="3920m"), node("node-2", cpu="2"), node("big", cpu="16", unschedulable=True)]
    assert oversized(spec("4500m"), nodes) == "4500m CPU, more than any node's 3920m allocatable"
    assert oversized(spec("3"), nodes) is None  # fits node-1 once it has room: a capacity limit, not a size one
    assert oversized(spec("1", "16Gi"), nodes) == "16Gi memory, more than any node's 8Gi allocatable"
    assert oversized(spec("4500m"), [node("n", cpu="8", ready=False)]) is None  # no node takes it: not judged

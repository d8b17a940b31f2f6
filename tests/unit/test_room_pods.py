"""Pods kept for node room: every figure node room computes is the same from the kept part as from the whole pod,
and pods of one controller share their labels and containers. Events kept without their managedFields."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from support import builders
from support.builders import pod
from support.fakekube import FakeKube

from incident_response.tools.engine import sizing_reads
from incident_response.tools.engine.event_reads import slim_event
from incident_response.tools.engine.sizing_reads import placed_of
from incident_response.tools.k8s import capacity, labels
from incident_response.tools.k8s.room_pods import RoomSharing, room_pod

NODE = {
    "metadata": {"name": "node-1", "labels": {}},
    "spec": {},
    "status": {"allocatable": {"cpu": "4", "memory": "16Gi", "pods": "110"}, "conditions": []},
}
NODES = [NODE, {**NODE, "metadata": {"name": "node-2", "labels": {}}}]
SPEC = {"containers": [{"name": "web", "resources": {"requests": {"cpu": "1", "memory": "1Gi"}}}]}


def pods() -> list[dict[str, Any]]:
    found = [
        pod(
            f"web-{i}",
            deployment="web",
            node="node-1" if i < 2 else "node-2",
            resources={"requests": {"cpu": "500m", "memory": "512Mi"}},
        )
        for i in range(3)
    ]
    found.append(pod("done", phase="Succeeded", resources={"requests": {"cpu": "2"}}))
    found.append(pod("going", deleting=True, deployment="web", resources={"limits": {"cpu": "250m"}}))
    for p in found:
        p["metadata"]["managedFields"] = [{"manager": "kubelet"}]
        p["spec"]["containers"][0]["env"] = [{"name": "TOKEN", "value": "s3cr3t"}]
    return found


def test_node_room_reads_the_same_from_the_kept_part() -> None:
    whole = pods()
    before = copy.deepcopy(whole)
    sharing = RoomSharing()
    kept = [room_pod(p, sharing) for p in whole]
    assert whole == before  # the pods read are left as they were
    for leaving in (frozenset(), frozenset({"shop/web-0"})):
        assert capacity.rooms(NODES, kept, SPEC, leaving=leaving) == capacity.rooms(NODES, whole, SPEC, leaving=leaving)
        assert capacity.replicas_that_fit(NODES, kept, SPEC, 3, leaving=leaving) == capacity.replicas_that_fit(
            NODES, whole, SPEC, 3, leaving=leaving
        )
    selector = labels.from_map({"app": "web"})
    assert placed_of(kept, "shop", selector) == placed_of(whole, "shop", selector) == 3
    assert "TOKEN" not in str(kept) and "managedFields" not in str(kept)
    # One controller's pods share their containers and labels, and on one node their spec; one phase one status.
    assert kept[0]["spec"] is kept[1]["spec"] and kept[0]["status"] is kept[1]["status"]
    assert kept[2]["spec"]["nodeName"] == "node-2" and kept[1]["spec"]["nodeName"] == "node-1"
    assert kept[0]["metadata"]["labels"] is kept[1]["metadata"]["labels"]


def test_an_event_keeps_everything_but_its_managed_fields() -> None:
    event = {
        "metadata": {"name": "web-1.17f", "namespace": "shop", "managedFields": [{"manager": "kubelet"}]},
        "involvedObject": {"kind": "Pod", "name": "web-1"},
        "reason": "BackOff",
        "type": "Warning",
    }
    before = copy.deepcopy(event)
    slim = slim_event(event)
    assert event == before
    assert slim == {**event, "metadata": {"name": "web-1.17f", "namespace": "shop"}}
    assert slim_event(slim) is slim


@pytest.mark.parametrize("by_node", [True, False])
def test_a_drains_room_is_the_same_read_by_node_or_whole(monkeypatch: pytest.MonkeyPatch, by_node: bool) -> None:
    """Room for a drain's movers: a tainted pool's nodes are read by node (spec.nodeName) when few accept them; the
    free room is the same as from every pod of the cluster."""
    taint = [{"key": "pool", "value": "batch", "effect": "NoSchedule"}]
    nodes = [builders.node(f"pool-{i}", taints=taint) for i in range(6)] + [builders.node(f"web-{i}") for i in range(2)]
    used = [pod(f"p-{i}", node=f"pool-{i % 6}", resources={"requests": {"cpu": "500m"}}) for i in range(12)]
    used += [pod("w-0", node="web-0", resources={"requests": {"cpu": "3"}})]
    kube = FakeKube(*[("nodes", n) for n in nodes], *[("pods", p) for p in used])
    mover = {"containers": [{"name": "web", "resources": {"requests": {"cpu": "2"}}}]}
    if not by_node:
        monkeypatch.setattr(sizing_reads, "MAX_NODES_READ_BY_NODE", 0)
    found, pods_read = sizing_reads.read_room_for(kube, [mover], away_from="web-1")  # type: ignore[arg-type]
    whole_nodes, whole_pods = sizing_reads.read_room(kube)  # type: ignore[arg-type]
    others = [n for n in whole_nodes if n["metadata"]["name"] != "web-1"]
    assert capacity.rooms(found, pods_read, mover) == capacity.rooms(others, whole_pods, mover)
    assert [r.node for r in capacity.rooms(found, pods_read, mover)] == ["web-0"]
    assert len(pods_read) == (1 if by_node else 13)  # by node: only web-0's pod was read

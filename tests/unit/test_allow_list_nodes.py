"""Cluster-scoped node plans on a server with a namespace allow-list: pods outside it are counted, never named, and a
drain evicts them only when told to (FakeKube: the rules on plain dicts; the e2e test drives the same through MCP)."""

from __future__ import annotations

import pytest
from support.builders import node, pod, with_resources
from support.fakekube import FakeKube
from support.plan_warnings import proses

from incident_response.tools.core import errors
from incident_response.tools.decide.canary_node_reads import drain_room
from incident_response.tools.mitigate.nodes import plan_cordon, plan_drain
from incident_response.tools.playbook.trees_canary_node import NodeFacts

ALLOWED = ("shop",)


def cluster() -> FakeKube:
    coredns = pod("coredns-1", namespace="kube-system", deployment="coredns", node="node-1")
    agent = pod("agent-1", namespace="monitoring", node="node-1")
    agent["metadata"]["ownerReferences"] = [{"kind": "DaemonSet", "name": "agent", "uid": "d", "controller": True}]
    web = pod("web-1", deployment="web", node="node-1")
    return FakeKube(("nodes", node("node-1")), ("nodes", node("node-2")), *[("pods", p) for p in (coredns, agent, web)])


def test_cordon_counts_the_pods_outside_the_allow_list() -> None:
    [warning, *_] = proses(plan_cordon(cluster(), "node-1", allowed=ALLOWED).warnings)
    assert warning.startswith("Pods already on node-1 keep running (3 now, 2 of them in namespaces outside")
    assert "coredns" not in warning and "kube-system" not in warning


def test_drain_refuses_to_evict_outside_the_allow_list_unless_told() -> None:
    with pytest.raises(errors.InvalidArgument) as refused:
        plan_drain(cluster(), "node-1", allowed=ALLOWED)
    message = str(refused.value)
    assert "would also evict 1 pod(s) in namespaces outside this server's allow-list (shop)" in message
    assert "include_outside_allow_list=True" in message and "coredns" not in message and "kube-system" not in message
    draft = plan_drain(cluster(), "node-1", allowed=ALLOWED, include_outside=True)
    assert draft.accepted_outside_allow_list == ["kube-system"]
    assert [c.path for c in draft.diff][1:] == ["pod/kube-system/coredns-1", "pod/shop/web-1"]
    assert any(
        "Evicts 1 pod(s) in namespaces outside" in w and "kube-system/coredns-1" in w for w in proses(draft.warnings)
    )
    # Without an allow-list nothing changes: every pod is this server's to name and move.
    assert plan_drain(cluster(), "node-1").accepted_outside_allow_list == []


def test_a_drain_names_only_the_allowed_daemonset_and_unmanaged_pods() -> None:
    kube = cluster()
    kube.put("pods", pod("lone", namespace="kube-system", node="node-1"))
    with pytest.raises(errors.InvalidArgument, match=r"\(1 pod\(s\) outside this server's allow-list\)"):
        plan_drain(kube, "node-1", allowed=ALLOWED)
    with pytest.raises(errors.InvalidArgument, match=r"\(kube-system/lone\)"):
        plan_drain(kube, "node-1")


def test_evaluate_decision_counts_outside_pods_a_drain_would_meet() -> None:
    kube = cluster()
    kube.put("pods", pod("lone", namespace="kube-system", node="node-1"))
    kube.put(
        "pods", with_resources(pod("big", namespace="batch", deployment="big", node="node-1"), requests={"cpu": "64"})
    )
    facts = NodeFacts(node="node-1", problems=[], cordoned=False, failing_here=[], fine_elsewhere=[])
    drain_room(kube, facts, ALLOWED)
    assert facts.unmanaged == ["1 pod(s) outside this server's allow-list"]
    assert facts.no_room == ["1 pod(s) outside this server's allow-list"]
    drain_room(kube, facts)
    assert facts.unmanaged == ["kube-system/lone"] and facts.no_room == ["batch/big"]

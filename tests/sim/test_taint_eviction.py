"""A node that goes NotReady (its kubelet stops posting status) with real kubectl as the oracle: the node controller's
unreachable NoSchedule and NoExecute taints, the 300 s tolerations DefaultTolerationSeconds gives every pod, and the
taint eviction once the cluster's clock passes them (the evicted pods stay Terminating: the kubelet is down; their
ReplicaSets replace them elsewhere). A pod tolerating the taint for ever stays."""

from __future__ import annotations

import json
from collections.abc import Callable

from support.kubectl_runner import Kubectl
from support.sims import SimFactory

from incident_response.sim import behaviors
from incident_response.sim.resources import DEPLOYMENTS, PODS
from incident_response.sim.serve import RunningSim

NS = "shop"
DEFAULTS = [
    {"key": "node.kubernetes.io/not-ready", "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": 300},
    {"key": "node.kubernetes.io/unreachable", "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": 300},
]


def _pod(name: str, node: str, tolerations: list[dict[str, object]] | None = None) -> str:
    spec: dict[str, object] = {"nodeName": node, "containers": [{"name": name, "image": "busybox"}]}
    if tolerations is not None:
        spec["tolerations"] = tolerations
    return json.dumps({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, "namespace": NS}, "spec": spec})


def test_pods_on_an_unreachable_node_are_evicted_after_their_300_seconds(
    sim_factory: SimFactory, kubectl_for: Callable[[RunningSim], Kubectl]
) -> None:
    sim = sim_factory("healthy")
    k = kubectl_for(sim)
    node = "node-2"
    # Every pod gets the defaults: the shop's (seeded and controller-made) and one created with kubectl.
    k.run("apply", "-f", "-", stdin=_pod("plain", node))
    forever = [{"key": "node.kubernetes.io/unreachable", "operator": "Exists", "effect": "NoExecute"}]
    k.run("apply", "-f", "-", stdin=_pod("stays", node, forever))
    assert k.json("get", "pod", "plain", "-n", NS)["spec"]["tolerations"] == DEFAULTS
    assert k.json("get", "pod", "stays", "-n", NS)["spec"]["tolerations"] == [*forever, DEFAULTS[0]]
    on_node = [
        p
        for p in k.json("get", "pods", "-n", NS)["items"]
        if p["spec"].get("nodeName") == node and p["metadata"]["name"] != "stays"
    ]
    assert len(on_node) > 2 and all(DEFAULTS[0] in p["spec"]["tolerations"] for p in on_node)

    k.run("annotate", "node", node, f"{behaviors.NODE_CONDITION}=NotReady")
    assert sim.cluster.run_until(lambda: "NoExecute" in k.run("get", "node", node, "-o", "yaml").stdout, timeout=5)
    taints = k.json("get", "node", node)["spec"]["taints"]
    assert [(t["key"], t["effect"]) for t in taints] == [
        ("node.kubernetes.io/unreachable", "NoSchedule"),
        ("node.kubernetes.io/unreachable", "NoExecute"),
    ]
    assert taints[1]["timeAdded"].endswith("Z")
    described = k.run("describe", "node", node).stdout
    assert "node.kubernetes.io/unreachable:NoExecute" in described

    def deleting(name: str) -> bool:
        pod = sim.store.peek(PODS, NS, name)
        return pod is not None and "deletionTimestamp" in pod["metadata"]

    sim.advance(240)  # within the 300 s: nothing is evicted yet
    assert not deleting("plain") and not any(deleting(p["metadata"]["name"]) for p in on_node)
    sim.advance(70)
    assert all(deleting(p["metadata"]["name"]) for p in on_node) and deleting("plain")
    assert not deleting("stays")
    # The kubelet is down: they stay Terminating (STATUS in kubectl) and their ReplicaSets replaced them elsewhere.
    rows = {r["NAME"]: r for r in k.table("pods", "-n", NS, "-o", "wide")}
    assert rows["plain"]["STATUS"] == "Terminating" and rows["stays"]["STATUS"] != "Terminating"
    events = k.run("get", "events", "-n", NS, "--field-selector=reason=TaintManagerEviction").stdout
    assert (
        f"Marking for deletion Pod {NS}/plain" in events
        and "taint-eviction-controller"
        in k.run("get", "events", "-n", NS, "--field-selector=reason=TaintManagerEviction", "-o", "json").stdout
    )

    def replaced() -> bool:
        return all(
            (d.get("status") or {}).get("readyReplicas") == d["spec"]["replicas"]
            for d in sim.store.items(DEPLOYMENTS, NS)
        )

    assert sim.cluster.run_until(replaced, timeout=10)

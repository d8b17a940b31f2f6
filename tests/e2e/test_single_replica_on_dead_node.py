"""A single-replica app whose only pod is on a node that went NotReady is the node's outage (review-assist7 H6).

node-1 stops reporting (Ready=Unknown) under orders-db's only pod and some pods of other apps. assess ranked
orders-db's outage first and, since orders-db has no pod on another node to contrast with, answered "INVESTIGATE:
pods of orders-db fail without a clear cause and nothing was deployed" with list_events of the pod - a round spent
on what the node's own status says. A node that reports itself down needs no contrast: cordon it (then drain), and
the reason says orders-db is down until a replacement runs elsewhere.
"""

from __future__ import annotations

from collections import Counter

import pytest
from mcp import Client
from support.kubectl_runner import Kubectl
from support.mitigation_env import Env, call, ready

from incident_response.sim import behaviors

pytestmark = pytest.mark.anyio
NS = "shop"


def node_down(env: Env, node: str) -> bool:
    conditions = (env.get("nodes", node, None).get("status") or {}).get("conditions") or []
    return next((c["status"] for c in conditions if c["type"] == "Ready"), "True") != "True"


async def test_the_only_pod_on_a_notready_node_is_the_nodes_outage(built: tuple[Env, Kubectl]) -> None:
    env, kubectl = built
    (db,) = env.pods("app=orders-db")
    node = db["spec"]["nodeName"]
    kubectl.run("annotate", "node", node, f"{behaviors.NODE_CONDITION}=NotReady")

    await env.until(lambda: node_down(env, node) and not any(ready(p) for p in env.pods("app=orders-db")), 60)
    async with Client(env.server("safe")) as client:
        assessed = await call(client, "assess_namespace", namespace=NS)

    decision = assessed["decision"]
    assert (decision["next_tool"], decision["next_arguments"]) == ("cordon_node", {"node": node}), decision
    assert "orders-db has no pod on another node" in decision["reason"], decision["reason"]
    assert "without a clear cause" not in assessed["summary"], assessed["summary"]


async def test_pods_left_terminating_on_a_dead_node_are_not_called_running(built: tuple[Env, Kubectl]) -> None:
    """Five minutes on, the taint manager has evicted node-1's pods (Terminating for ever: no kubelet confirms) and
    their replacements serve elsewhere; the human cordoned the node. assess said "NONE: every pod is Running and
    ready ... 6/22 pods with problems" (its own problem_pods all Terminating). Now it names them, the node, and how
    they go. The node is not orders-db's: a replacement of a pod with a ReadWriteOnce volume waits for the old pod
    to let the volume go (Multi-Attach: tests/e2e/test_multi_attach.py), so nothing there would be healthy."""
    env, kubectl = built
    sim = env.sim
    (db,) = env.pods("app=orders-db")
    others = Counter(p["spec"]["nodeName"] for p in env.pods() if p["spec"]["nodeName"] != db["spec"]["nodeName"])
    node = others.most_common(1)[0][0]
    kubectl.run("annotate", "node", node, f"{behaviors.NODE_CONDITION}=NotReady")
    await env.until(lambda: node_down(env, node), 60)
    sim.cluster.advance(360)  # past the 300 s every pod tolerates an unreachable node

    def replaced() -> bool:
        # Every app's replacements are Ready and counted available (not only orders-db's: a web pod still starting
        # is a failing pod to assess, and the verdict would not be the healthy one this case is about).
        pods = env.pods()
        left = [p for p in pods if p["spec"].get("nodeName") == node]
        elsewhere = [p for p in pods if p["spec"].get("nodeName") != node]
        deployments = env.kube.list("deployments", NS).items
        full = all(
            (d.get("status") or {}).get("availableReplicas") == d["spec"]["replicas"]
            and (d.get("status") or {}).get("observedGeneration") == d["metadata"]["generation"]
            for d in deployments
        )
        gone = bool(left) and all(p["metadata"].get("deletionTimestamp") for p in left)
        return gone and all(map(ready, elsewhere)) and full

    await env.until(replaced, 60)
    kubectl.run("cordon", node)
    await env.until(lambda: bool(env.get("nodes", node, None)["spec"].get("unschedulable")))
    async with Client(env.server("safe")) as client:
        assessed = await call(client, "assess_namespace", namespace=NS)

    assert assessed["decision"]["primary_action"] == "NONE", assessed["decision"]
    summary = assessed["summary"]
    assert "every pod is Running" not in summary and f"stay Terminating on node {node}" in summary, summary
    assert "delete_pod(force=true)" in summary, summary

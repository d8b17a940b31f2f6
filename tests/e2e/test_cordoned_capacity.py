"""A maintenance left behind: nodes cordoned while a peak needs them (review-assist8 I9), built with real kubectl.

node-1 and node-2 are cordoned (Ready: a kernel upgrade nobody finished); web's load rises past what node-3 holds, its
HPA (3..24) sits at its max with pods Pending ("2 node(s) were unschedulable"). assess_namespace proposed
override_hpa 69..69, which override_hpa itself refuses (only ~15 fit on the schedulable nodes); evaluate_decision
proposed set_memory_limit 1Gi for pods pinned at their CPU limit, and said "uncordon a node" only in general. Now
both name the cordoned Ready nodes with the room they hold and lead to uncordon_node; real kubectl shows the Pending
pods scheduled once the planned uncordon is confirmed.
"""

from __future__ import annotations

import json

import pytest
from mcp import Client
from support.kubectl_runner import Kubectl
from support.mitigation_env import Env, call, plan_and_confirm

pytestmark = pytest.mark.anyio
NS = "shop"
LOAD = "sim.incident-response.dev/load-millicores"


async def test_cordoned_ready_nodes_are_freed_before_a_scale_that_cannot_schedule(built: tuple[Env, Kubectl]) -> None:
    env, kubectl = built
    kubectl.run("patch", "hpa", "web", "-n", NS, "-p", json.dumps({"spec": {"maxReplicas": 24}}))
    kubectl.run("cordon", "node-1")
    kubectl.run("cordon", "node-2")
    kubectl.run("annotate", "deployment/web", "-n", NS, "--overwrite", f"{LOAD}=9000")

    def pending() -> list[str]:
        return [p["metadata"]["name"] for p in env.pods("app=web") if (p.get("status") or {}).get("phase") == "Pending"]

    def at_max() -> bool:
        return (env.get("horizontalpodautoscalers", "web").get("status") or {}).get("currentReplicas") == 24

    await env.until(lambda: at_max() and len(pending()) >= 3, 120)
    async with Client(env.server("full")) as client:
        assessed = await call(client, "assess_namespace", namespace=NS)
        evaluated = await call(client, "evaluate_decision", namespace=NS, deployment="web", action="SCALE")
        decision = assessed["decision"]
        assert decision["next_tool"] == "uncordon_node", decision
        assert decision["next_arguments"]["node"] in ("node-1", "node-2"), decision
        assert "cordoned Ready nodes would hold more" in decision["reason"], decision["reason"]
        assert "more; cordoned since " in decision["reason"], decision["reason"]  # when and by whom: whom to ask
        assert (evaluated["verdict"], evaluated["next_tool"]) == ("FIX_FIRST", "uncordon_node"), evaluated["summary"]
        await plan_and_confirm(client, env, "uncordon_node", **decision["next_arguments"])
    # The oracle: kubectl sees the node schedulable and the Pending pods placed.
    node = json.loads(kubectl.run("get", "node", decision["next_arguments"]["node"], "-o", "json").stdout)
    assert not node["spec"].get("unschedulable")
    await env.until(lambda: not pending(), 60)


async def test_our_own_cordons_are_kept_and_a_scale_nothing_holds_proposes_no_tool(built: tuple[Env, Kubectl]) -> None:
    """The same peak with node-1 and node-2 cordoned by this server (the incident's own measures): they are not
    proposed for uncordoning, and with no room anywhere else the assessment proposes no scale-up its planner would
    refuse (it proposed override_hpa 69..69)."""
    env, kubectl = built
    async with Client(env.server("full")) as client:
        await plan_and_confirm(client, env, "cordon_node", node="node-1")
        await plan_and_confirm(client, env, "cordon_node", node="node-2")
    kubectl.run("patch", "hpa", "web", "-n", NS, "-p", json.dumps({"spec": {"maxReplicas": 24}}))
    kubectl.run("annotate", "deployment/web", "-n", NS, "--overwrite", f"{LOAD}=9000")

    def stuck() -> bool:
        hpa = env.get("horizontalpodautoscalers", "web").get("status") or {}
        waiting = [p for p in env.pods("app=web") if (p.get("status") or {}).get("phase") == "Pending"]
        return hpa.get("currentReplicas") == 24 and len(waiting) >= 3

    await env.until(stuck, 120)
    async with Client(env.server("full")) as client:
        assessed = await call(client, "assess_namespace", namespace=NS)
    decision = assessed["decision"]
    assert decision["next_tool"] is None, decision
    assert "no schedulable node has room for another replica of web" in decision["reason"], decision["reason"]
    assert "uncordon" not in decision["reason"], decision["reason"]

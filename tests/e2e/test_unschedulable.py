"""Pods the scheduler finds no node for are told by the scheduler's reason, not as an unknown cause (review-assist6
G2, G5), end to end through an MCP client against the simulated cluster.

- A new Deployment whose pods request 4500m CPU while every node has 3920m allocatable: "0/3 nodes are available:
  3 Insufficient cpu". No rollback (revision 1), no scale helps: assess_namespace says so at once (no round spent on
  reading the events), evaluate_decision agrees.
- A rollout raising checkout's request to 4500m (maxUnavailable 0, old pods serve): ROLLBACK, and its evidence says
  why the new pod is Pending.
- Nodes at their pod limit (allocatable pods reached): "3 Too many pods" is a pod-count limit, not a requests one;
  the Pending pods of two deployments are one problem, and top_nodes shows pods against the nodes' limit.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from mcp import Client
from support.kubectl_runner import Kubectl
from support.mitigation_env import NS, Env, call, make_env
from support.texts import read_text

from incident_response.sim.scenarios.builders import deployment_body
from incident_response.sim.serve import RunningSim

pytestmark = pytest.mark.anyio

SETTLE = 60


def refused(env: Env, app: str, count: int) -> Callable[[], bool]:
    """`count` pods of `app` are Pending with the scheduler's Unschedulable condition."""

    def check() -> bool:
        pods = env.pods(f"app={app}")
        return len(pods) == count and all(
            any(
                c.get("type") == "PodScheduled" and c.get("reason") == "Unschedulable"
                for c in p["status"].get("conditions") or []
            )
            for p in pods
        )

    return check


def create(env: Env, name: str, replicas: int, cpu: tuple[str, str]) -> None:
    body = deployment_body(
        name, namespace=NS, replicas=replicas, image=f"registry.example.com/shop/{name}:1.0", cpu=cpu
    )
    env.kube.create("deployments", {"apiVersion": "apps/v1", "kind": "Deployment", **body}, NS)
    service = {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": name, "namespace": NS},
        "spec": {"selector": {"app": name}, "ports": [{"port": 80, "targetPort": 8080}]},
    }
    env.kube.create("services", service, NS)


async def test_a_request_larger_than_any_node_is_said_at_once(
    sim_factory: Callable[..., RunningSim], tmp_path: Path
) -> None:
    env = make_env(sim_factory("healthy"), tmp_path / "state")
    create(env, "reports", 3, ("4500m", "4500m"))
    await env.until(refused(env, "reports", 3), SETTLE)
    async with Client(env.server("full")) as client:
        assessed = await call(client, "assess_namespace", namespace=NS)
        decision = assessed["decision"]
        assert (decision["primary_action"], decision["target"]) == ("INVESTIGATE", "deployment/reports"), decision
        assert decision["rule"] == "unschedulable: request larger than any node", decision
        reason = decision["reason"]
        assert reason.startswith(
            "3 pods of reports are Pending: each requests 4500m CPU, more than any node's 3920m allocatable"
        ), reason
        assert "at any scale" in reason and "0/3 nodes are available: 3 Insufficient cpu" in reason, reason
        assert decision["next_tool"] is None, decision  # no read left to make: the cause is known
        assert "without a clear cause" not in assessed["summary"], assessed["summary"]
        evaluated = await call(client, "evaluate_decision", namespace=NS)
        assert evaluated["verdict"] == "PROCEED" and evaluated["reason"] == reason, evaluated
        walked = await call(client, "evaluate_decision", namespace=NS, action="SCALE", deployment="reports")
        assert walked["verdict"] != "PROCEED", walked["summary"]
        # The handoff names the cause the assessment found, not "the cause is not known yet".
        document = await read_text(client, "incident_handoff", namespace=NS)
        assert "The pods of deployment/reports ask for more than any node can allocate" in document, document
        assert "The cause is not known yet" not in document, document


async def test_a_rollout_raising_a_request_past_every_node_rolls_back_saying_why_it_is_pending(
    sim_factory: Callable[..., RunningSim], kubectl_for: Callable[[RunningSim], Kubectl], tmp_path: Path
) -> None:
    env = make_env(sim_factory("healthy"), tmp_path / "state")
    patch = {
        "spec": {
            "strategy": {"rollingUpdate": {"maxUnavailable": 0, "maxSurge": 1}},
            "template": {
                "spec": {
                    "containers": [
                        {
                            "name": "checkout",
                            "image": "registry.example.com/shop/checkout:2.5.0",
                            "resources": {"requests": {"cpu": "4500m"}, "limits": {"cpu": "4500m"}},
                        }
                    ]
                }
            },
        }
    }
    kubectl_for(env.sim).run("patch", "deployment/checkout", "-n", NS, "-p", json.dumps(patch))

    def new_pod_refused() -> bool:
        return any(
            any(c.get("reason") == "Unschedulable" for c in p["status"].get("conditions") or [])
            for p in env.pods("app=checkout")
        )

    await env.until(new_pod_refused, SETTLE)
    async with Client(env.server("full")) as client:
        assessed = await call(client, "assess_namespace", namespace=NS)
        decision = assessed["decision"]
        assert (decision["primary_action"], decision["next_tool"]) == ("ROLLBACK", "rollback_deployment"), decision
        said = " ".join(decision["evidence"])
        assert "its pods are Pending: 0/3 nodes are available: 3 Insufficient cpu" in said, said
        assert "one pod asks 4500m CPU, more than any node's 3920m allocatable" in said, said


async def test_nodes_at_their_pod_limit_are_one_problem_told_as_pods_not_requests(
    sim_factory: Callable[..., RunningSim], kubectl_for: Callable[[RunningSim], Kubectl], tmp_path: Path
) -> None:
    env = make_env(sim_factory("healthy"), tmp_path / "state")
    kubectl = kubectl_for(env.sim)
    # Every node allows exactly the pods it runs now (max-pods reached); CPU and memory stay mostly free.
    bound: dict[str, int] = {}
    for pod in env.kube.list("pods", None).items:
        if (where := pod["spec"].get("nodeName")) and pod["status"].get("phase") not in ("Succeeded", "Failed"):
            bound[where] = bound.get(where, 0) + 1
    for node in env.kube.list("nodes", None).items:
        name = node["metadata"]["name"]
        limit = {"status": {"allocatable": {"pods": str(bound.get(name, 0))}}}
        kubectl.run("patch", "node", name, "--subresource=status", "--type=merge", "-p", json.dumps(limit))
    create(env, "batch-a", 2, ("5m", "100m"))
    create(env, "batch-b", 1, ("5m", "100m"))
    await env.until(refused(env, "batch-a", 2), SETTLE)
    await env.until(refused(env, "batch-b", 1), SETTLE)
    async with Client(env.server("full")) as client:
        assessed = await call(client, "assess_namespace", namespace=NS)
        decision = assessed["decision"]
        reason = decision["reason"]
        assert decision["rule"] == "unschedulable: no node has room", decision
        assert reason.startswith(
            "3 pods of 2 deployments (batch-a, batch-b) are Pending: 0/3 nodes are available: 3 Too many pods"
        ), reason
        assert "max-pods" in reason and "requests" not in reason, reason
        assert assessed["summary"].startswith(f"INVESTIGATE: {reason}"), assessed["summary"]
        problems = [p for p in assessed["problems"] if p["rule"] == decision["rule"]]
        assert [p["components"] for p in problems] == [["batch-a", "batch-b"]], assessed["problems"]
        for asked in ({}, {"deployment": "batch-b"}):
            evaluated = await call(client, "evaluate_decision", namespace=NS, **asked)
            assert evaluated["verdict"] == "PROCEED" and evaluated["reason"] == reason, evaluated
            assert evaluated["next_tool"] == "top_nodes", evaluated
        # A tree is walked for one deployment: asked with none, the error says the problem is not one deployment's.
        result = await client.call_tool("evaluate_decision", {"namespace": NS, "action": "SCALE"})
        said = " ".join(getattr(c, "text", "") for c in result.content)
        assert result.is_error and "names no one deployment" in said and "pass deployment=NAME" in said, said
        nodes = await call(client, "top_nodes")
        for name, count in sorted(bound.items()):
            assert f"{name} {count}/{count}" in nodes["summary"], nodes["summary"]
        assert "at their pod limit" in nodes["summary"], nodes["summary"]

"""Incidents started by a change that is not a rollout, end to end (built with real kubectl; the rendered commands run
by real kubectl as the oracle).

Only pod-template rollouts counted as "changes", so a deployment scaled to zero by hand, a Service selector edited
wrong, a NetworkPolicy applied minutes ago or a hand scale past the nodes' room got advice for a failure of unknown
cause: scale the victim up (a loop: 4, then 5 replicas of pods failing because their dependency is gone), or
nothing at all while a Service had no endpoint (its own pods were fine, or absent). Now the Service is an outage of
its own, ranked first, with the call that undoes the change, and the victim's problem names the change.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
import yaml
from mcp import Client
from support.kubectl_runner import Kubectl
from support.mitigation_env import Env, call, ready
from support.texts import handoff_fields

from incident_response.sim import behaviors

pytestmark = pytest.mark.anyio

DAYS = str(6 * 24 * 60)
# Cluster seconds a revision dated days back keeps dating what its controller writes (sim Timing.dated_window): the
# change comes after, as it would days later on a real cluster.
DATED = 31


def deployment(
    ns: str, name: str, replicas: int, *, cpu: str = "100m", pod_annotations: dict[str, str] | None = None
) -> dict[str, Any]:
    template: dict[str, Any] = {
        "metadata": {"labels": {"app": name}},
        "spec": {
            "containers": [
                {
                    "name": name,
                    "image": f"registry.example.com/{ns}/{name}:1.4",
                    "ports": [{"containerPort": 8080}],
                    "resources": {
                        "requests": {"cpu": cpu, "memory": "128Mi"},
                        "limits": {"cpu": "2", "memory": "256Mi"},
                    },
                }
            ]
        },
    }
    if pod_annotations:
        template["metadata"]["annotations"] = pod_annotations
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name, "namespace": ns, "annotations": {behaviors.ROLLED_OUT_MINUTES_AGO: DAYS}},
        "spec": {"replicas": replicas, "selector": {"matchLabels": {"app": name}}, "template": template},
    }


def service(ns: str, name: str) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": name, "namespace": ns},
        "spec": {"selector": {"app": name}, "ports": [{"port": 8080, "targetPort": 8080}]},
    }


def namespace(ns: str) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}}


# The victim fails readiness because what it calls is gone (the sim reads behaviour from the template, so the
# template carries it; applied after the change, with a revision dated days back: no deploy to blame).
FAILING = {behaviors.BEHAVIOR: behaviors.NOT_READY}


def apply(kubectl: Kubectl, *docs: dict[str, Any]) -> None:
    kubectl.run("apply", "-f", "-", stdin=yaml.safe_dump_all(list(docs)))


def ready_count(env: Env, ns: str, app: str) -> Callable[[], int]:
    return lambda: sum(ready(p) for p in env.pods(f"app={app}", ns))


async def dependency_outage(env: Env, kubectl: Kubectl, change: Callable[[], None]) -> None:
    """orders: inventory (2 pods behind Service inventory) and orders-api, which calls it; `change` takes
    inventory's endpoints away, then orders-api's pods fail readiness."""
    apply(kubectl, namespace("orders"), deployment("orders", "inventory", 2), service("orders", "inventory"))
    await env.until(lambda: ready_count(env, "orders", "inventory")() == 2)
    env.sim.advance(DATED)
    change()
    await env.until(lambda: not serving_in(env, "orders", "inventory"))
    apply(kubectl, deployment("orders", "orders-api", 3, pod_annotations=FAILING), service("orders", "orders-api"))
    await env.until(lambda: len(env.pods("app=orders-api", "orders")) == 3)


async def test_a_deployment_scaled_to_zero_by_hand_is_the_outage_and_is_scaled_back(built: Any) -> None:
    env, kubectl = built
    await dependency_outage(
        env, kubectl, lambda: kubectl.run("scale", "deployment/inventory", "-n", "orders", "--replicas=0")
    )
    async with Client(env.server("safe")) as client:
        assessed = await call(client, "assess_namespace", namespace="orders")
        decided = await call(client, "evaluate_decision", namespace="orders")
        asked = await call(client, "evaluate_decision", namespace="orders", deployment="orders-api")
        first = assessed["problems"][0]
        plan = await call(client, first["next_tool"], **first["next_arguments"])
        handoff = await handoff_fields(client, namespace="orders")

    assert (first["impact"], first["action"], first["next_tool"]) == ("outage", "SCALE", "scale_deployment"), first
    changes = [e["text"] for e in handoff["timeline"] if (e["source"], e["kind"]) == ("cluster", "change")]
    assert "Deployment inventory scaled 2 -> 0 by kubectl (via scale)" in changes, handoff["timeline"]
    assert first["next_arguments"] == {"namespace": "orders", "deployment": "inventory", "replicas": 2}, first
    assert "service inventory has no endpoint" in first["detail"] and "scaled 2 -> 0" in first["detail"], first
    assert assessed["decision"]["next_tool"] == "scale_deployment", assessed["summary"]
    assert any("Deployment inventory scaled 2 -> 0" in c and "by kubectl" in c for c in assessed["recent_changes"])
    # The victim is not scaled: its problem names the change, and no call proposes more orders-api replicas.
    (victim,) = [p for p in assessed["problems"] if "orders-api" in p["components"]]
    assert victim["action"] == "INVESTIGATE" and victim["rank"] > 1, victim
    assert not any(
        p["next_tool"] == "scale_deployment" and p["next_arguments"].get("deployment") == "orders-api"
        for p in assessed["problems"]
    ), assessed["problems"]
    assert (decided["verdict"], decided["next_tool"], decided["next_arguments"]) == (
        "PROCEED",
        "scale_deployment",
        first["next_arguments"],
    ), decided["summary"]
    assert "inventory scaled 2 -> 0" in asked["reason"], asked["summary"]
    assert asked["next_tool"] != "scale_deployment", asked["summary"]
    # The oracle: the rendered command, run by kubectl, gives inventory its two replicas and the Service endpoints.
    kubectl.shell(plan["command"])
    await env.until(lambda: ready_count(env, "orders", "inventory")() == 2)
    async with Client(env.server("safe")) as client:
        after = await call(client, "assess_namespace", namespace="orders")
    assert not any("service inventory" in p["detail"] for p in after["problems"]), after["summary"]


async def test_a_service_selector_edited_wrong_is_the_outage_and_is_pointed_back(built: Any) -> None:
    env, kubectl = built
    typo = '{"spec":{"selector":{"app":"inventroy"}}}'
    await dependency_outage(env, kubectl, lambda: kubectl.run("patch", "service/inventory", "-n", "orders", "-p", typo))
    async with Client(env.server("safe")) as client:
        assessed = await call(client, "assess_namespace", namespace="orders")
        decided = await call(client, "evaluate_decision", namespace="orders")
        first = assessed["problems"][0]
        plan = await call(client, first["next_tool"], **first["next_arguments"])
        verified = await call(client, "verify_recovery", namespace="orders", deployment="inventory")

    assert (first["impact"], first["next_tool"]) == ("outage", "patch_service_selector"), first
    # inventory's pods are fine, but the Service of its name serves nobody: not RECOVERED.
    (endpoints,) = [c for c in verified["checks"] if c["name"] == "endpoints"]
    assert endpoints["passed"] is False and "app=inventroy" in endpoints["detail"], verified["summary"]
    assert verified["verdict"] != "RECOVERED", verified["summary"]
    assert first["next_arguments"] == {"namespace": "orders", "service": "inventory", "selector": "app=inventory"}
    assert "app=inventroy" in first["detail"] and "by kubectl-patch" in first["detail"], first
    assert (decided["verdict"], decided["next_tool"]) == ("PROCEED", "patch_service_selector"), decided["summary"]
    assert any(
        c.startswith("Service inventory updated (selector now app=inventroy)") for c in assessed["recent_changes"]
    )
    # The oracle: kubectl runs the rendered patch; the Service sends traffic to inventory's two pods again.
    assert not serving_in(env, "orders", "inventory")
    kubectl.shell(plan["command"])
    await env.until(lambda: len(serving_in(env, "orders", "inventory")) == 2)
    async with Client(env.server("safe")) as client:
        again = await call(client, "verify_recovery", namespace="orders", deployment="inventory")
    (endpoints,) = [c for c in again["checks"] if c["name"] == "endpoints"]
    assert endpoints["passed"] is True, again["summary"]


def serving_in(env: Env, ns: str, name: str) -> list[str]:
    endpoints = env.get("endpoints", name, ns)
    return [a["ip"] for s in endpoints.get("subsets") or [] for a in s.get("addresses") or []]


async def test_a_network_policy_applied_before_the_failure_is_named_not_scaled(built: Any) -> None:
    """pay: payments-lockdown (ingress to payments only from frontend) is applied; checkout, which calls payments,
    fails readiness since. No tool undoes a policy here: INVESTIGATE, naming the policy, never scale_deployment."""
    env, kubectl = built
    apply(
        kubectl,
        namespace("pay"),
        deployment("pay", "payments", 2),
        service("pay", "payments"),
        service("pay", "checkout"),
    )
    await env.until(lambda: ready_count(env, "pay", "payments")() == 2)
    policy = {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": {"name": "payments-lockdown", "namespace": "pay"},
        "spec": {
            "podSelector": {"matchLabels": {"app": "payments"}},
            "policyTypes": ["Ingress"],
            "ingress": [{"from": [{"podSelector": {"matchLabels": {"app": "frontend"}}}]}],
        },
    }
    apply(kubectl, policy)
    apply(kubectl, deployment("pay", "checkout", 3, pod_annotations=FAILING))
    await env.until(lambda: len(env.pods("app=checkout", "pay")) == 3)
    async with Client(env.server("safe")) as client:
        assessed = await call(client, "assess_namespace", namespace="pay")
        decided = await call(client, "evaluate_decision", namespace="pay")
    (problem,) = [p for p in assessed["problems"] if "checkout" in p["components"]]
    assert problem["action"] == "INVESTIGATE" and problem["next_tool"] != "scale_deployment", problem
    decision = assessed["decision"]
    assert "NetworkPolicy payments-lockdown created" in decision["reason"], decision["reason"]
    assert any("NetworkPolicy payments-lockdown created" in c for c in assessed["recent_changes"])
    assert (decided["action"], decided["verdict"]) == ("INVESTIGATE", "PROCEED"), decided["summary"]
    assert (decided["next_tool"], decided["next_arguments"]) == (decision["next_tool"], decision["next_arguments"])


async def test_pods_a_hand_scale_left_without_room_are_a_capacity_problem_not_one_more_replica(built: Any) -> None:
    """analytics (3 x 1 CPU requested) is scaled to 16 by hand on three 4-CPU nodes: the pods past the nodes' room
    stay Pending. One more replica would wait too: say scale back to what fits or add nodes, and top_nodes shows the
    requests against what the nodes can allocate."""
    env, kubectl = built
    apply(kubectl, namespace("big"), deployment("big", "analytics", 3, cpu="1"))
    await env.until(lambda: ready_count(env, "big", "analytics")() == 3)
    env.sim.advance(DATED)
    kubectl.run("scale", "deployment/analytics", "-n", "big", "--replicas=16")

    def stuck() -> bool:
        pods = env.pods("app=analytics", "big")
        pending = [p for p in pods if not (p.get("spec") or {}).get("nodeName")]
        unschedulable = [
            p
            for p in pending
            if any(c.get("reason") == "Unschedulable" for c in (p.get("status") or {}).get("conditions") or [])
        ]
        placed = len(pods) - len(pending)
        return len(pods) == 16 and 0 < len(unschedulable) == len(pending) and sum(ready(p) for p in pods) == placed

    await env.until(stuck)
    async with Client(env.server("safe")) as client:
        assessed = await call(client, "assess_namespace", namespace="big")
        decided = await call(client, "evaluate_decision", namespace="big")
        nodes = await call(client, "top_nodes")
    (problem,) = [p for p in assessed["problems"] if "analytics" in p["components"]]
    assert (problem["action"], problem["next_tool"]) == ("INVESTIGATE", "top_nodes"), problem
    decision = assessed["decision"]
    assert "scaled 3 -> 16" in decision["reason"] and "scale back to what fits" in decision["reason"], decision
    assert "scale_deployment" not in (problem["next_tool"] or "")
    assert (decided["verdict"], decided["next_tool"]) == ("PROCEED", "top_nodes"), decided["summary"]
    assert "requested" in nodes["summary"], nodes["summary"]

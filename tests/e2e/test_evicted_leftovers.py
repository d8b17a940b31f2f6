"""Pods the kubelet evicted, already replaced, are told as evictions (review-assist6 G12).

An api pod evicted for its ephemeral-storage use (phase Failed, reason Evicted) stays listed; its ReplicaSet
replaced it and api is fully available (api has no HPA: its replica count holds still). assess_namespace said "pods
of api fail without a clear cause", DEGRADED, and sent the assistant to the pod's events (there were none); the sim
also listed the Failed pod as a not-ready endpoint (upstream leaves terminal pods out). Now the kubelet's message is
the cause, the impact is at risk (nothing serves less; the cause may recur), nothing is to undo, and the next call
checks that the replacements serve. The eviction is written as pod status, as the kubelet writes it.
"""

from __future__ import annotations

import json

import pytest
from mcp import Client
from support.kubectl_runner import Kubectl
from support.mitigation_env import Env, call, ready, serving

pytestmark = pytest.mark.anyio
NS = "shop"
MESSAGE = "The node was low on resource: ephemeral-storage. Container api was using 6Gi, request is 0."


async def test_an_evicted_and_replaced_pod_is_told_as_an_eviction(built: tuple[Env, Kubectl]) -> None:
    env, kubectl = built
    victim = env.pods("app=api")[0]["metadata"]["name"]
    status = {
        "phase": "Failed",
        "reason": "Evicted",
        "message": MESSAGE,
        "conditions": [{"type": "Ready", "status": "False"}],
    }
    kubectl.run(
        "patch", "pod", victim, "-n", NS, "--subresource=status", "--type=merge", "-p", json.dumps({"status": status})
    )  # fmt: skip

    def replaced() -> bool:
        # Ready pods are not yet available replicas: the ReplicaSet and then the deployment controller write that a
        # tick or two later, and until they do, 2 of 3 available is rightly below the minimum (maxUnavailable 0).
        others = [p for p in env.pods("app=api") if p["metadata"]["name"] != victim]
        api = env.get("deployments", "api")
        wanted, status = api["spec"]["replicas"], api.get("status") or {}
        available = status.get("availableReplicas") == wanted and not status.get("unavailableReplicas")
        pods_ready = len(others) == wanted and all(ready(p) for p in others)
        return pods_ready and available and env.observed("api") and victim not in str(serving(env, "api"))

    await env.until(replaced)

    async with Client(env.server("safe")) as client:
        assessed = await call(client, "assess_namespace", namespace=NS)

    decision = assessed["decision"]
    (problem,) = assessed["problems"]
    assert problem["impact"] == "at_risk" and "1 evicted pods left" in problem["detail"], problem  # not degraded
    assert decision["reason"].startswith(f"1 pods of api were evicted by the kubelet ({victim}: {MESSAGE})"), decision
    assert "without a clear cause" not in decision["reason"], decision["reason"]
    # The rule a result shows follows the cause its reason names (it said "unknown cause, no recent deploy").
    assert decision["rule"] == problem["rule"] == "its pods were evicted by the kubelet", decision
    assert "unknown cause" not in json.dumps(assessed), assessed
    assert (decision["next_tool"], decision["next_arguments"]) == (
        "verify_recovery",
        {"namespace": NS, "deployment": "api"},
    ), decision

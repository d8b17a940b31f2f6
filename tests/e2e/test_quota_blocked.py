"""A ResourceQuota that keeps a deployment short of replicas, through an MCP client against the simulated cluster.

The scale-up is refused pod by pod (FailedCreate: exceeded quota), none of the pods that exist fails: the
assessment must name the quota as the cause (not read logs, not propose more replicas), and scale_deployment must
refuse a scale the quota cannot hold at all and warn, naming the quota and what it allows, when it holds part.
"""

from __future__ import annotations

import pytest
from mcp import Client
from support.kubectl_runner import Kubectl
from support.mitigation_env import Env, call, refused
from support.plan_warnings import of_check, proses

from incident_response.server import budget

pytestmark = pytest.mark.anyio
NS = "shop"
# The shop's 16 pods request 3700m CPU; api's pods 200m each (limit 400m): 7 more fit in 5200m.
QUOTA = f"""
apiVersion: v1
kind: ResourceQuota
metadata: {{name: compute, namespace: {NS}}}
spec:
  hard: {{pods: "40", requests.cpu: 5200m, limits.cpu: "20"}}
"""


async def test_a_scale_up_the_quota_refuses_is_named_as_the_quota(built: tuple[Env, Kubectl]) -> None:
    env, kubectl = built
    kubectl.run("apply", "-f", "-", stdin=QUOTA)
    kubectl.run("scale", "deployment/api", "-n", NS, "--replicas=12")

    def blocked() -> bool:
        conditions = (env.get("deployments", "api").get("status") or {}).get("conditions") or []
        ready = (env.get("deployments", "api").get("status") or {}).get("readyReplicas")
        return ready == 10 and any(c.get("type") == "ReplicaFailure" for c in conditions)

    await env.until(blocked)

    async with Client(env.server("safe")) as client:
        assessed = await call(client, "assess_namespace", namespace=NS)
        decided = await call(client, "evaluate_decision", namespace=NS)
        none = await refused(client, "scale_deployment", namespace=NS, deployment="payments", replicas=3)
        result = await client.call_tool("scale_deployment", {"namespace": NS, "deployment": "cart", "replicas": 12})
        text, structured = budget.result_bytes(result)
        assert (text + structured) / max(text, structured) <= budget.RESULT_OVERLAP_LIMIT, (text, structured)
        some = result.structured_content or {}

    decision = assessed["decision"]
    assert (decision["rule"], decision["target"]) == ("exceeded quota", "deployment/api"), assessed["summary"]
    assert decision["next_tool"] is None, decision  # no log read, no more replicas: a human changes the quota
    reason = decision["reason"]
    assert "deployment api has 10 of 12 pods: ResourceQuota compute refuses the rest" in reason, reason
    assert "requests.cpu=200m (used 5100m of 5200m)" in reason, reason
    # the patch that holds the 2 missing pods: 5100m + 2 x 200m
    patch = (
        """kubectl patch resourcequota compute -n shop --type=merge -p '{"spec":{"hard":{"requests.cpu":"5500m"}}}'"""
    )
    assert patch in reason, reason
    # what holds the exhausted requests.cpu, largest first (api, asking for room, left out), before the raise
    held = "a human frees room in it (what holds it: deployment checkout 4 pods x 250m = 1000m, deployment web 4 pods"
    assert held in reason and reason.index(held) < reason.index(patch), reason
    assert "deployment api" not in reason.split("what holds it: ", 1)[1].split(")", 1)[0], reason
    assert assessed["problems"][0]["rule"] == "exceeded quota"
    assert decided["verdict"] == "PROCEED" and "ResourceQuota compute refuses" in decided["reason"], decided

    # payments' pods request 200m: none fits in the 100m left, so the plan is refused; cart's 100m: 1 of 10 fits
    assert none.startswith(
        "ResourceQuota compute (requests.cpu: 5100m used of 5200m, each pod 200m) holds no more pods of deployment "
        "payments: the 1 new pod would only be refused"
    ), none
    assert '"requests.cpu":"5300m"' in none, none
    assert (
        "ResourceQuota compute (requests.cpu: 5100m used of 5200m, each pod 100m) holds 1 of the 10 new pods; the "
        "rest wait until a human raises it (kubectl patch resourcequota compute" in " ".join(proses(some["warnings"]))
    ), proses(some["warnings"])
    # the detail (structured only: the text says the brief) names what holds the rest of the quota's cpu
    quota = of_check(some["warnings"], "quota")[0]
    assert "or frees room in it (what holds it: deployment api 10 pods x 200m = 2000m, " in quota.detail, quota
    assert "what holds it" not in quota.brief, quota

    # The printed patch, run by the human with real kubectl, lets the ReplicaSet create the missing pods.
    kubectl.shell(patch)
    await env.until(lambda: (env.get("deployments", "api").get("status") or {}).get("readyReplicas") == 12)

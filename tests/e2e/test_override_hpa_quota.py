"""override_hpa checks the namespace's ResourceQuota as scale_deployment does (review-assist7 H12).

A backlog of hung batch pods filled shop's pod quota; web's HPA sits at its max under load. assess proposed
override_hpa(min 14, max 14) and the plan said nothing of the quota: every pod the raised minimum asks for would be
refused (FailedCreate, exceeded quota) after the human approved it. The plan is now refused with the quota's numbers
and the patch that raises it, as scale_deployment's is, and evaluate_decision's SCALE walk stops at the quota
(FIX_FIRST) where it said PROCEED on node room alone.
"""

from __future__ import annotations

import json

import pytest
from mcp import Client
from support.kubectl_runner import Kubectl
from support.mitigation_env import Env, call, refused

from incident_response.sim import behaviors

pytestmark = pytest.mark.anyio
NS = "shop"


async def test_an_hpa_minimum_the_quota_cannot_hold_is_refused(built: tuple[Env, Kubectl]) -> None:
    env, kubectl = built
    used = len([p for p in env.pods() if not p["metadata"].get("deletionTimestamp")])
    quota = {
        "apiVersion": "v1",
        "kind": "ResourceQuota",
        "metadata": {"name": "shop-pods", "namespace": NS},
        "spec": {"hard": {"pods": str(used)}},
    }
    kubectl.run("apply", "-f", "-", stdin=json.dumps(quota))
    await env.until(lambda: (env.get("resourcequotas", "shop-pods").get("status") or {}).get("used") is not None)
    kubectl.run("annotate", "deployment", "web", "-n", NS, "--overwrite", f"{behaviors.LOAD_MILLICORES}=2400")

    def wants_more() -> bool:  # the load reached the HPA, and the quota holds the pods it asks for
        status = env.get("horizontalpodautoscalers", "web").get("status") or {}
        return int(status.get("desiredReplicas") or 0) > 4 and len(env.pods("app=web")) == 4

    await env.until(wants_more, 60)

    async with Client(env.server("safe")) as client:
        why = await refused(client, "override_hpa", namespace=NS, hpa="web", min_replicas=8, max_replicas=8)
        walked = await call(client, "evaluate_decision", namespace=NS, deployment="web", action="SCALE")

    assert f"ResourceQuota shop-pods (pods: {used} used of {used}" in why, why
    assert "kubectl patch resourcequota shop-pods" in why, why
    # evaluate's SCALE walk asks the quota after the nodes: room on nodes does not admit a pod the quota refuses
    assert walked["verdict"] == "FIX_FIRST", walked["summary"]
    assert walked["steps"][-1]["question"].startswith("Does the namespace's ResourceQuota admit"), walked["steps"]

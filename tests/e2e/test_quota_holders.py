"""What fills a full ResourceQuota is named, and freeing it comes before a scale-up it would refuse (review-assist7
H12), through an MCP client against the simulated cluster.

A backlog of 8 hung nightly-report Job pods holds 8 of shop's pod quota; web's load rises and its HPA wants more
pods than the quota admits. The tools said "raise the quota" and nothing of what held it, and assess_namespace
proposed override_hpa while the quota stood full (the plan was then refused). Now the quota's refusals (the plans'
check, evaluate_decision's SCALE walk, the assessment of a deployment the quota keeps short) name the largest
holders of the resource that ran out, and the assessment puts "free room or raise it" before the override.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from mcp import Client
from support.kubectl_runner import Kubectl
from support.mitigation_env import Env, refused
from support.result_rule import budgeted

from incident_response.sim import behaviors

pytestmark = pytest.mark.anyio
NS = "shop"
JOBS = 8
SETTLE = 60
REPORT = {
    "name": "report",
    "image": "registry.example.com/shop/report:1.2.0",
    "resources": {"requests": {"cpu": "100m", "memory": "128Mi"}, "limits": {"cpu": "200m", "memory": "256Mi"}},
}
HOLDERS = "holds it: Jobs nightly-report-* 8 pods (oldest "


async def hung_report_jobs(env: Env, kubectl: Kubectl) -> None:
    """8 runs of the nightly-report CronJob that never finish: Jobs whose one pod the sim's Job controller makes and
    keeps Running (an image with no behaviour of its own serves and never exits). The sim creates no CronJob's Jobs:
    they are applied as the CronJob controller names them."""
    jobs = [
        {
            "apiVersion": "batch/v1",
            "kind": "Job",
            "metadata": {"name": f"nightly-report-2926{i:04d}", "namespace": NS, "labels": {"app": "nightly-report"}},
            "spec": {"template": {"spec": {"restartPolicy": "Never", "containers": [REPORT]}}},
        }
        for i in range(JOBS)
    ]
    kubectl.run("apply", "-f", "-", stdin=json.dumps({"apiVersion": "v1", "kind": "List", "items": jobs}))
    await env.until(lambda: len(running(env, "batch.kubernetes.io/job-name")) == JOBS, SETTLE)


def held(why: str) -> str:
    """The holders a refusal names."""
    return why.split("holds it: ", 1)[1].split(". A human", 1)[0]


def running(env: Env, selector: str) -> list[dict[str, Any]]:
    return [p for p in env.pods(selector) if (p.get("status") or {}).get("phase") == "Running"]


async def full_quota(env: Env, kubectl: Kubectl, room: int) -> int:
    """A pod quota of what runs now plus `room`; returns its hard count."""
    hard = len([p for p in env.pods() if not p["metadata"].get("deletionTimestamp")]) + room
    quota = {
        "apiVersion": "v1",
        "kind": "ResourceQuota",
        "metadata": {"name": "shop-pods", "namespace": NS},
        "spec": {"hard": {"pods": str(hard)}},
    }
    kubectl.run("apply", "-f", "-", stdin=json.dumps(quota))
    await env.until(lambda: (env.get("resourcequotas", "shop-pods").get("status") or {}).get("used") is not None)
    return hard


async def test_refusals_name_what_fills_the_quota_before_the_raise(built: tuple[Env, Kubectl]) -> None:
    env, kubectl = built
    await hung_report_jobs(env, kubectl)
    hard = await full_quota(env, kubectl, 0)
    kubectl.run("annotate", "deployment", "web", "-n", NS, "--overwrite", f"{behaviors.LOAD_MILLICORES}=2400")

    def refused_by_quota() -> bool:  # the HPA asked for more and the ReplicaSet's creates are refused
        conditions = (env.get("deployments", "web").get("status") or {}).get("conditions") or []
        return len(env.pods("app=web")) == 4 and any(
            c.get("type") == "ReplicaFailure" and "exceeded quota" in str(c.get("message")) for c in conditions
        )

    await env.until(refused_by_quota, SETTLE)

    async with Client(env.server("safe")) as client:
        assessed = await budgeted(client, "assess_namespace", namespace=NS)
        plan = await refused(client, "override_hpa", namespace=NS, hpa="web", min_replicas=8, max_replicas=8)
        scale = await refused(client, "scale_deployment", namespace=NS, deployment="cart", replicas=4)
        walked = await budgeted(client, "evaluate_decision", namespace=NS, deployment="web", action="SCALE")

    decision = assessed["decision"]
    # web's pods fail readiness under the load (SCALE: its HPA is at max) or not (the quota keeps it short): either
    # way no tool is proposed that the quota would refuse, and what holds the quota comes first
    assert decision["target"] in ("hpa/web", "deployment/web") and decision["next_tool"] is None, decision
    for why in (decision["reason"], assessed["summary"], plan, scale, walked["reason"]):
        assert HOLDERS in why, why
        # freeing the room comes before raising the quota
        assert why.index(HOLDERS) < why.index("kubectl patch resourcequota shop-pods"), why
    assert f"(pods: {hard} used of {hard}" in plan, plan
    # the deployment asking for room is no holder to free for itself; others are named with their pods
    assert "deployment web" not in held(plan) and "deployment checkout 4 pods" in held(plan), plan
    assert "deployment cart" not in held(scale) and "deployment web 4 pods" in held(scale), scale
    assert walked["verdict"] == "FIX_FIRST", walked["summary"]


async def test_assess_frees_a_full_quota_before_overriding_a_pinned_hpa(built: tuple[Env, Kubectl]) -> None:
    """web's HPA reaches its max of 6 as the quota fills (26 of 26): the override it would propose asks for pods the
    quota refuses, so the assessment says what holds the quota and how to free or raise it, and proposes no tool
    that would be refused."""
    env, kubectl = built
    await hung_report_jobs(env, kubectl)
    hard = await full_quota(env, kubectl, 2)  # web's 4 pods + 2 = its HPA's max of 6
    kubectl.run("annotate", "deployment", "web", "-n", NS, "--overwrite", f"{behaviors.LOAD_MILLICORES}=2400")

    def pinned() -> bool:
        status = env.get("horizontalpodautoscalers", "web").get("status") or {}
        return len(running(env, "app=web")) == 6 and status.get("currentReplicas") == 6

    await env.until(pinned, SETTLE)

    async with Client(env.server("safe")) as client:
        assessed = await budgeted(client, "assess_namespace", namespace=NS)

    decision = assessed["decision"]
    assert (decision["primary_action"], decision["target"]) == ("SCALE", "hpa/web"), assessed["summary"]
    assert decision["next_tool"] is None, decision  # override_hpa would be refused while the quota is full
    reason = decision["reason"]
    assert f"ResourceQuota shop-pods (pods: {hard} used of {hard}" in reason, reason
    assert HOLDERS in reason and HOLDERS in assessed["summary"], reason
    assert (
        reason.index(HOLDERS) < reason.index("kubectl patch resourcequota shop-pods") < reason.index("override_hpa")
    ), reason

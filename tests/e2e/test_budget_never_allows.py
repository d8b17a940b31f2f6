"""A drain blocked by a PodDisruptionBudget that never allows an eviction says how to get past it (review-assist6 G10).

payments runs 2 Ready pods and its budget asks for minAvailable 2 (the replicas copied into it). A drain of a node
carrying a payments pod stops at that eviction (429), and the plan said "Plan the drain again once replacements are
Ready": there is no replacement to wait for, every re-plan is refused the same way. Now the plan names the way out:
one more replica first (the budget then allows one eviction), or relax the budget.
"""

from __future__ import annotations

import pytest
from mcp import Client
from support.kubectl_runner import Kubectl
from support.mitigation_env import Env, call
from support.plan_warnings import proses

pytestmark = pytest.mark.anyio
NS = "shop"


async def test_a_budget_asking_for_every_pod_is_named_with_the_way_past_it(built: tuple[Env, Kubectl]) -> None:
    env, kubectl = built
    kubectl.run("patch", "pdb/payments", "-n", NS, "--type=merge", "-p", '{"spec":{"minAvailable":2}}')
    await env.until(lambda: env.get("poddisruptionbudgets", "payments")["status"].get("desiredHealthy") == 2)
    node = env.pods("app=payments")[0]["spec"]["nodeName"]

    async with Client(env.server("safe")) as client:
        plan = await call(client, "drain_node", node=node, include_outside_allow_list=True)

    [warning] = [w for w in proses(plan["warnings"]) if "PodDisruptionBudget shop/payments" in w]
    assert "never allows an eviction" in warning and "Scale deployment payments up by one" in warning, warning
    assert "Plan the drain again once replacements are Ready" not in warning, warning

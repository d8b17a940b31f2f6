"""A LimitRange refusing a deployment's pod creates, named through an MCP client.

The namespace's LimitRange caps a container's memory. The LimitRanger refuses pods outside it at admission, so the
ReplicaSet's creates fail (FailedCreate, the Deployment's ReplicaFailure) and no pod is made to fail:
- a rollout that raised payments' memory limit past the cap: assess_namespace said ROLLBACK "changed in the last 2
  hours and its pods fail since" (0 pods failing); now the reason names the LimitRange and what it refuses;
- a scale-up after the cap was lowered: more replicas are refused the same way; assess names the LimitRange (a human
  changes the manifest or the LimitRange) and the SCALE walk says DO_NOT.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from mcp import Client
from support.mitigation_env import NS, Env, make_env
from support.result_rule import budgeted

from incident_response.sim.serve import RunningSim

pytestmark = pytest.mark.anyio


def cap(env: Env, memory: str) -> None:
    bounds = {
        "metadata": {"name": "bounds", "namespace": NS},
        "spec": {"limits": [{"type": "Container", "max": {"memory": memory}}]},
    }
    env.kube.create("limitranges", bounds, NS)


def refused(env: Env) -> bool:
    conditions = (env.get("deployments", "payments").get("status") or {}).get("conditions") or []
    return any(c.get("type") == "ReplicaFailure" and c.get("status") == "True" for c in conditions)


async def read(env: Env) -> tuple[dict[str, Any], dict[str, Any]]:
    async with Client(env.server("safe")) as client:
        assessed = await budgeted(client, "assess_namespace", namespace=NS)
        scale = await budgeted(client, "evaluate_decision", namespace=NS, action="SCALE", deployment="payments")
    return assessed["decision"], scale


async def test_a_rollout_past_the_cap_is_rolled_back_naming_the_limitrange(
    sim_factory: Callable[..., RunningSim], tmp_path: Path
) -> None:
    env = make_env(sim_factory("healthy"), tmp_path / "state")
    cap(env, "1Gi")
    raised = {"name": "payments", "resources": {"limits": {"memory": "2Gi"}}}
    env.kube.patch(
        "deployments",
        "payments",
        {"spec": {"template": {"spec": {"containers": [raised]}}}},
        NS,
        patch_type="strategic",
    )
    await env.until(lambda: refused(env), 30)
    decision, _ = await read(env)

    assert (decision["primary_action"], decision["next_tool"]) == ("ROLLBACK", "rollback_deployment"), decision
    assert decision["rule"] == "a LimitRange refuses its pods", decision
    assert (
        "cannot create its pods: the namespace's LimitRange refuses them (maximum memory usage per Container is 1Gi, "
        "but limit is 2Gi)"
    ) in decision["reason"], decision["reason"]


async def test_a_scale_up_under_a_lowered_cap_is_not_scaled_further(
    sim_factory: Callable[..., RunningSim], tmp_path: Path
) -> None:
    env = make_env(sim_factory("healthy"), tmp_path / "state")
    cap(env, "64Mi")  # below what payments' containers are limited to: its running pods stay, new ones are refused
    env.kube.patch("deployments", "payments", {"spec": {"replicas": 4}}, NS, patch_type="merge")
    await env.until(lambda: refused(env), 30)
    decision, scale = await read(env)

    assert decision["primary_action"] == "INVESTIGATE" and decision["rule"] == "a LimitRange refuses its pods"
    assert "the namespace's LimitRange refuses them (maximum memory usage per Container is 64Mi" in decision["reason"]
    assert "more replicas would be refused too" in decision["reason"], decision["reason"]
    assert scale["verdict"] == "DO_NOT", scale

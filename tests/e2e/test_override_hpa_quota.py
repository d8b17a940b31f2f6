"""override_hpa checks the namespace's ResourceQuota as scale_deployment does (review-assist7 H12).

A backlog of hung batch pods filled shop's pod quota; web's HPA sits at its max under load. assess proposed
override_hpa(min 14, max 14) and the plan said nothing of the quota: every pod the raised minimum asks for would be
refused (FailedCreate, exceeded quota) after the human approved it. The plan is now refused with the quota's numbers
and the patch that raises it, as scale_deployment's is.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from mcp import Client
from support.kubectl_runner import Kubectl
from support.mitigation_env import make_env, refused

from incident_response.sim.serve import RunningSim

pytestmark = pytest.mark.anyio
NS = "shop"


async def test_an_hpa_minimum_the_quota_cannot_hold_is_refused(
    sim_factory: Callable[..., RunningSim], kubectl_for: Callable[[RunningSim], Kubectl], tmp_path: Path
) -> None:
    sim = sim_factory("healthy")
    env, kubectl = make_env(sim, tmp_path / "state"), kubectl_for(sim)
    used = len([p for p in env.pods() if not p["metadata"].get("deletionTimestamp")])
    quota = {
        "apiVersion": "v1",
        "kind": "ResourceQuota",
        "metadata": {"name": "shop-pods", "namespace": NS},
        "spec": {"hard": {"pods": str(used)}},
    }
    kubectl.run("apply", "-f", "-", stdin=json.dumps(quota))
    await env.until(lambda: (env.get("resourcequotas", "shop-pods").get("status") or {}).get("used") is not None)

    async with Client(env.server("safe")) as client:
        why = await refused(client, "override_hpa", namespace=NS, hpa="web", min_replicas=8, max_replicas=8)

    assert f"ResourceQuota shop-pods (pods: {used} used of {used}" in why, why
    assert "kubectl patch resourcequota shop-pods" in why, why

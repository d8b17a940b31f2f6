"""An HPA's bounds lowered by hand is a change, named where the HPA pinned at its max is (review-assist8 I6).

web's load needs 6 pods; someone patches HPA web from 3..6 to 2..3 (a cost cut during the peak); the autoscaler takes
web down to 3 pods, each at its CPU limit. assess_namespace said "HPA web is pinned at its maximum ... override_hpa"
with no change listed: the HPA edit was in no change list, and the autoscaler's resize is (rightly) not a change of
anyone's. Now the change list has "HorizontalPodAutoscaler web edited (bounds now 2..3; web scaled down 6 -> 3 since)
... by kubectl-patch" and the SCALE reason says that putting the bounds back is the fix. Built with real kubectl.
"""

from __future__ import annotations

import json

import pytest
from mcp import Client
from support.kubectl_runner import Kubectl
from support.mitigation_env import Env, call

pytestmark = pytest.mark.anyio
NS = "shop"
LOAD = "sim.incident-response.dev/load-millicores"


async def test_a_hand_lowered_hpa_is_the_change_behind_its_pinned_max(built: tuple[Env, Kubectl]) -> None:
    env, kubectl = built
    kubectl.run("annotate", "deployment/web", "-n", NS, "--overwrite", f"{LOAD}=2000")
    await env.until(
        lambda: (env.get("horizontalpodautoscalers", "web").get("status") or {}).get("currentReplicas") == 6, 90
    )
    kubectl.run("patch", "hpa", "web", "-n", NS, "-p", json.dumps({"spec": {"minReplicas": 2, "maxReplicas": 3}}))
    await env.until(lambda: env.rolled_out("web", 3), 90)
    async with Client(env.server("safe")) as client:
        assessed = await call(client, "assess_namespace", namespace=NS)

    line = "HorizontalPodAutoscaler web edited (bounds now 2..3; web scaled down 6 -> 3 since)"
    changes = assessed["recent_changes"]
    assert any(c.startswith(line) and "by kubectl-patch" in c for c in changes), changes
    decision = assessed["decision"]
    assert decision["next_tool"] == "override_hpa", decision
    assert line in decision["reason"] and "putting its bounds back is the fix" in decision["reason"], decision["reason"]

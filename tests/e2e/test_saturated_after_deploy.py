"""A deployment saturated since its own rollout is rolled back first, not scaled (review-assist7 H3).

web 1.9.1 -> 1.9.2 brings a CPU regression: every pod burns its whole 500m limit whatever the load (700m, unchanged).
Its HPA (3..6, 70%) chases it to the max; pods stay Ready. assess said "SCALE: HPA web is pinned at its maximum" with
override_hpa(min 18, max 18): three times the pods of the release that burns the CPU, and its reason never named the
rollout of a minute before. The playbook's first question is the recent deploy: roll it back, and raise the HPA only if
CPU stays at the limit on the earlier revision.
"""

from __future__ import annotations

import json

import pytest
from mcp import Client
from support.kubectl_runner import Kubectl
from support.mitigation_env import Env, call, ready

pytestmark = pytest.mark.anyio
NS = "shop"
REGRESSION = "registry.example.com/shop/web:1.9.2"


async def test_an_hpa_at_max_since_a_rollout_gets_the_rollback(built: tuple[Env, Kubectl]) -> None:
    env, kubectl = built
    patch = {
        "spec": {
            "template": {
                "metadata": {"annotations": {"sim.incident-response.dev/cpu-millicores": "500"}},
                "spec": {"containers": [{"name": "web", "image": REGRESSION}]},
            }
        }
    }
    kubectl.run("patch", "deployment", "web", "-n", NS, "-p", json.dumps(patch))

    def pinned() -> bool:
        hpa = env.get("horizontalpodautoscalers", "web").get("status") or {}
        pods = env.pods("app=web")
        return (
            hpa.get("currentReplicas") == 6
            and len(pods) == 6
            and all(ready(p) and p["spec"]["containers"][0]["image"] == REGRESSION for p in pods)
            and env.observed("web")
        )

    await env.until(pinned, timeout=60)
    async with Client(env.server("safe")) as client:
        assessed = await call(client, "assess_namespace", namespace=NS)
        hpas = await call(client, "list_hpas", namespace=NS)

    assert [h["name"] for h in hpas["hpas"] if h["at_max"]] == ["web"], hpas  # the state the old rule scaled
    decision = assessed["decision"]
    assert (decision["primary_action"], decision["next_tool"]) == ("ROLLBACK", "rollback_deployment"), decision
    assert decision["next_arguments"]["deployment"] == "web", decision
    # A pod of the new revision failing its readiness for a moment is the other rollback rule's case: also right.
    if decision["rule"] != "recent deployment with failing pods":
        assert decision["rule"] == "saturated since a recent deploy", decision
        assert "rolled out revision 4" in decision["reason"] and "override_hpa" in decision["reason"], decision

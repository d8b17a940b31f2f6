"""An HPA at its max while another deployment just rolled out: the scale says so (review-assist8 I2).

api 3.3.0 -> 3.4.0 makes its calls slow; web, not deployed, takes more CPU waiting and retrying: its HPA sits at its
max with pods at their limit. assess_namespace proposed override_hpa 3..6 -> 14..14 and evaluate_decision PROCEED,
neither naming api's rollout of a minute before (in the same answer's recent_rollouts), though 14 web pods would hit a
slow api harder. Now the SCALE reason and the SCALE walk's cautions name it and say to read web's logs for errors from
it first. Built with real kubectl; the load is the simulator's deployment annotation.
"""

from __future__ import annotations

import pytest
from mcp import Client
from support.kubectl_runner import Kubectl
from support.mitigation_env import Env, call

pytestmark = pytest.mark.anyio
NS = "shop"
API = "registry.example.com/shop/api:3.4.0"
LOAD = "sim.incident-response.dev/load-millicores"


async def test_a_scale_beside_another_deployments_fresh_rollout_names_it(built: tuple[Env, Kubectl]) -> None:
    env, kubectl = built
    kubectl.run("set", "image", "deployment/api", "-n", NS, f"api={API}")
    await env.until(lambda: env.rolled_out("api", 3), 60)
    kubectl.run("annotate", "deployment/web", "-n", NS, "--overwrite", f"{LOAD}=2400")

    def web_at_max() -> bool:
        status = env.get("horizontalpodautoscalers", "web").get("status") or {}
        return status.get("currentReplicas") == 6 and env.rolled_out("web", 6)

    await env.until(web_at_max, 90)
    async with Client(env.server("safe")) as client:
        assessed = await call(client, "assess_namespace", namespace=NS)
        evaluated = await call(client, "evaluate_decision", namespace=NS, deployment="web", action="SCALE")

    decision = assessed["decision"]
    assert (decision["primary_action"], decision["next_tool"]) == ("SCALE", "override_hpa"), decision
    assert "but api (revision 3, " in decision["reason"] and "rolled out while web did not" in decision["reason"], (
        decision["reason"]
    )
    assert any(c.startswith("api (revision 3, ") and "get_logs" in c for c in evaluated["cautions"]), evaluated

"""A saturated caller whose own log names a fresh rollout's Service as its upstream: roll that back (review-assist8
I2, second half).

api 3.3.0 -> 3.4.0 makes its calls slow; web, not deployed, waits and retries: its HPA sits at its max, and web's new
pods log "ERROR upstream api.shop.svc:8080 timed out after 30s". assess_namespace proposed override_hpa (14 web pods
against a slow api) with only a caution; now the tail of two of web's pods is read in exactly this situation, and
assess and evaluate agree on rolling api back, quoting the line. Near misses (a log line with "api" in another sense,
an upstream that did not roll out) keep the SCALE and its caution. Built with real kubectl; the load is the
simulator's deployment annotation, the log lines its image catalogue's.
"""

from __future__ import annotations

import pytest
from mcp import Client
from support.kubectl_runner import Kubectl
from support.mitigation_env import Env, call

pytestmark = pytest.mark.anyio
NS = "shop"
API = "registry.example.com/shop/api:3.4.0"
WEB = "registry.example.com/shop/web:1.9.1"
LOAD = "sim.incident-response.dev/load-millicores"
LOG_LINES = "sim.incident-response.dev/log-lines"
TIMEOUT = "ERROR upstream api.shop.svc:8080 timed out after 30s (GET /v1/orders)"


async def saturate_web_beside_api(env: Env, kubectl: Kubectl, web_lines: str) -> None:
    """api rolled out 3.4.0; web (its new pods printing `web_lines`) pinned at its HPA's max of 6."""
    env.sim.cluster.images[WEB] = {LOG_LINES: web_lines}
    kubectl.run("set", "image", "deployment/api", "-n", NS, f"api={API}")
    await env.until(lambda: env.rolled_out("api", 3), 60)
    kubectl.run("annotate", "deployment/web", "-n", NS, "--overwrite", f"{LOAD}=2400")

    def web_at_max() -> bool:
        status = env.get("horizontalpodautoscalers", "web").get("status") or {}
        return status.get("currentReplicas") == 6 and env.rolled_out("web", 6)

    await env.until(web_at_max, 90)


async def test_the_callers_timeouts_naming_api_roll_api_back(built: tuple[Env, Kubectl]) -> None:
    env, kubectl = built
    await saturate_web_beside_api(env, kubectl, f"{TIMEOUT}\nlevel=info msg=ok")
    async with Client(env.server("safe")) as client:
        assessed = await call(client, "assess_namespace", namespace=NS)
        followed = await call(client, "evaluate_decision", namespace=NS)
        scaled = await call(client, "evaluate_decision", namespace=NS, deployment="web", action="SCALE")

    decision = assessed["decision"]
    assert (decision["primary_action"], decision["next_tool"]) == ("ROLLBACK", "rollback_deployment"), decision
    assert decision["next_arguments"]["deployment"] == "api", decision
    reason = decision["reason"]
    assert TIMEOUT in reason and "revision 3 " in reason and API in reason, reason
    assert "more web pods would hit a slow api harder" in reason, reason
    assert (followed["action"], followed["verdict"], followed["next_tool"]) == (
        "ROLLBACK",
        "PROCEED",
        "rollback_deployment",
    ), followed
    assert followed["next_arguments"]["deployment"] == "api", followed
    assert (scaled["verdict"], scaled["next_arguments"].get("deployment")) == ("TRY_INSTEAD", "api"), scaled
    assert "8 more web pods would hit a slow api harder" in scaled["reason"], scaled  # 6 -> 14 (its formula)


@pytest.mark.parametrize(
    "lines",
    [
        # "api" as a word, not a host; an error about another path
        "ERROR api key rejected for GET /api/orders\nERROR GET /api/cart failed: invalid token",
        # a real upstream, but one that did not roll out (cart)
        "ERROR upstream cart.shop.svc:8080 timed out after 30s (GET /v1/cart)",
    ],
)
async def test_a_log_not_naming_the_rolled_out_service_keeps_the_scale(built: tuple[Env, Kubectl], lines: str) -> None:
    env, kubectl = built
    await saturate_web_beside_api(env, kubectl, lines)
    async with Client(env.server("safe")) as client:
        assessed = await call(client, "assess_namespace", namespace=NS)
        scaled = await call(client, "evaluate_decision", namespace=NS, deployment="web", action="SCALE")

    decision = assessed["decision"]
    assert (decision["primary_action"], decision["next_tool"]) == ("SCALE", "override_hpa"), decision
    assert "but api (revision 3, " in decision["reason"], decision["reason"]
    assert scaled["verdict"] == "PROCEED", scaled
    assert any(c.startswith("api (revision 3, ") for c in scaled["cautions"]), scaled

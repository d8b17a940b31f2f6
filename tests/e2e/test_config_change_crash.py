"""Pods that crash right after a ConfigMap they read changed, with no rollout (review-assist6 G8, the value half).

Someone sets PAYMENTS_URL=-1 in ConfigMap checkout-config with real kubectl; checkout's pods restart and crash-loop on
it (the sim's catalogue makes checkout:2.4.0 crash from then on: the app's reaction to the value). Nothing was
deployed for three days. assess_namespace said 'fail without a clear cause' and listed the edit only as a change
made before; it now says the edit is the likely cause and the better move (restore its previous data, not a
rollback), and still reads the crashed log to confirm; evaluate_decision walks the same; check_rollback_safety names
the edit and its key as the likely cause too (restore it instead of rolling back: tests/e2e/test_config_edit_cause.py).
"""

from __future__ import annotations

import json
import urllib.request

import pytest
from mcp import Client
from mcp.types import TextContent
from support.kubectl_runner import Kubectl
from support.mitigation_env import NS, Env
from support.result_rule import budgeted

from incident_response.sim.serve import RunningSim

pytestmark = pytest.mark.anyio

IMAGE = "registry.example.com/shop/checkout:2.4.0"


def crash_from_now_on(sim: RunningSim, image: str) -> None:
    body = json.dumps({"image": image, "does": {"behavior": "crashloop"}}).encode()
    headers = {"Content-Type": "application/json"}
    request = urllib.request.Request(f"{sim.url}/sim/images", data=body, method="POST", headers=headers)
    with urllib.request.urlopen(request, timeout=30) as response:
        assert response.status == 200


async def test_a_crash_right_after_a_configmap_edit_names_the_edit_as_the_likely_cause(
    built: tuple[Env, Kubectl],
) -> None:
    env, kubectl = built
    sim = env.sim
    kubectl.run("patch", "configmap/checkout-config", "-n", NS, "--type=merge", "-p", '{"data":{"PAYMENTS_URL":"-1"}}')
    crash_from_now_on(sim, IMAGE)
    kubectl.run("delete", "pod", "-l", "app=checkout", "-n", NS, "--wait=false")

    def crashing(env: Env = env) -> bool:
        pods = [p for p in env.pods("app=checkout") if not p["metadata"].get("deletionTimestamp")]
        restarted = [(p["status"].get("containerStatuses") or [{}])[0].get("restartCount") for p in pods]
        return len(pods) == 4 and all(restarted)

    await env.until(crashing, 40)

    def backing_off() -> bool:  # the kubelet's BackOff Warnings date the failure's start (after a second exit)
        events = kubectl.json("get", "events", "-n", NS, "--field-selector=reason=BackOff")["items"]
        return any(e["involvedObject"]["name"].startswith("checkout-") for e in events)

    await env.until(backing_off, 40)
    async with Client(env.server("safe")) as client:
        assessed = await budgeted(client, "assess_namespace", namespace=NS)
        walked = await budgeted(client, "evaluate_decision", namespace=NS)
        safety = await budgeted(client, "check_rollback_safety", namespace=NS, deployment="checkout")
        handoff = await client.call_tool("incident_handoff", {"namespace": NS})

    decision = assessed["decision"]
    assert (decision["primary_action"], decision["next_tool"]) == ("INVESTIGATE", "get_logs"), assessed["summary"]
    cause = "ConfigMap checkout-config (key PAYMENTS_URL) was edited "
    move = "before they began failing: the likely cause. Restore that key (from source control) instead of rolling back"
    assert cause in decision["reason"] and move in decision["reason"], decision["reason"]
    assert "without a clear cause" not in decision["reason"], decision["reason"]
    assert walked["verdict"] == "PROCEED" and cause in walked["reason"], walked["summary"]
    assert (walked["next_tool"], walked["next_arguments"]) == (decision["next_tool"], decision["next_arguments"])
    assert safety["verdict"] == "CHECK_FIRST", safety["summary"]
    assert "config: ConfigMap checkout-config (key PAYMENTS_URL) was edited " in safety["summary"], safety["summary"]
    assert safety["next_step"].startswith("restore the config the config check names instead of rolling back")
    # The handoff's hypothesis is the edit too, not 'The cause is not known yet' (review-landed7 R5).
    document = "\n".join(c.text for c in handoff.content if isinstance(c, TextContent))
    assert "The cause is not known yet" not in document, document
    assert "deployment/checkout fails as the assessment names it: a ConfigMap its pods read changed" in document, (
        document
    )

"""Pods crash after a ConfigMap edit that the current and the previous revision both read: every tool that talks about
cause names the edit (object, key, when, who) as the likely cause and restoring the key as the fix, not a rollback
(closing7 "still open": check_rollback_safety, evaluate and the rollback plan said "restore its previous data first",
then roll back; assess alone called the edit the likely cause, and only with no deploy in the window).

Built with real kubectl: someone sets PAYMENTS_URL=-1 in ConfigMap checkout-config; checkout's pods restart and
crash-loop on it (the sim's catalogue makes both checkout images crash from then on: the app's reaction to the value).
Two cases: nothing deployed for days, and checkout 2.5.1 rolled out 20 minutes before the edit (its pods ran until
then: the rollout is not what broke them).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from mcp import Client
from mcp.types import TextContent
from support.kubectl_runner import Kubectl
from support.mitigation_env import NS, Env, make_env
from support.plan_warnings import of_check
from support.result_rule import budgeted

from incident_response.sim.serve import RunningSim

pytestmark = pytest.mark.anyio

IMAGES = ("registry.example.com/shop/checkout:2.4.0", "registry.example.com/shop/checkout:2.5.1")
ROLLED_OUT = "sim.incident-response.dev/rolled-out-minutes-ago"
EDIT = "ConfigMap checkout-config (key PAYMENTS_URL) was edited "
LIKELY = "began failing: the likely cause"
FIX = "restore that key (from source control) instead of rolling back"


def said(text: str) -> bool:
    """The edit named as the likely cause, with when and who, and the restore as the fix."""
    lowered = text.replace("Restore that key", "restore that key")
    return EDIT in text and " ago by kubectl-patch" in text and LIKELY in text and FIX in lowered


async def crash_after_the_edit(env: Env, kubectl: Kubectl, key: str = "PAYMENTS_URL") -> None:
    kubectl.run("patch", "configmap/checkout-config", "-n", NS, "--type=merge", "-p", f'{{"data":{{"{key}":"-1"}}}}')
    for image in IMAGES:
        env.sim.cluster.images[image] = {"sim.incident-response.dev/behavior": "crashloop"}
    kubectl.run("delete", "pod", "-l", "app=checkout", "-n", NS, "--wait=false")

    def backing_off() -> bool:  # the kubelet's BackOff Warnings date the failure's start
        events = kubectl.json("get", "events", "-n", NS, "--field-selector=reason=BackOff")["items"]
        live = [p for p in env.pods("app=checkout") if not p["metadata"].get("deletionTimestamp")]
        return len(live) == 4 and any(e["involvedObject"]["name"].startswith("checkout-") for e in events)

    await env.until(backing_off, 60)


async def every_tool(env: Env) -> dict[str, Any]:
    async with Client(env.server("standard")) as client:
        out = {
            "assess": await budgeted(client, "assess_namespace", namespace=NS),
            "evaluate": await budgeted(client, "evaluate_decision", namespace=NS),
            "rollback_walk": await budgeted(
                client, "evaluate_decision", namespace=NS, action="ROLLBACK", deployment="checkout"
            ),
            "safety": await budgeted(client, "check_rollback_safety", namespace=NS, deployment="checkout"),
            "plan": await budgeted(client, "rollback_deployment", namespace=NS, deployment="checkout"),
        }
        await client.call_tool("cancel_command", {"token": out["plan"]["token"]})
        handoff = await client.call_tool("incident_handoff", {"namespace": NS})
    out["handoff"] = "\n".join(c.text for c in handoff.content if isinstance(c, TextContent))
    return out


def assert_agree(out: dict[str, Any]) -> None:
    decision = out["assess"]["decision"]
    assert decision["primary_action"] == "INVESTIGATE" and said(decision["reason"]), out["assess"]["summary"]
    assert "without a clear cause" not in decision["reason"] and "unknown cause" not in decision["rule"]
    assert any(
        "ConfigMap checkout-config updated (key PAYMENTS_URL; read by checkout)" in c
        for c in out["assess"]["recent_changes"]
    )
    assert out["evaluate"]["action"] == "INVESTIGATE" and said(out["evaluate"]["reason"]), out["evaluate"]["summary"]
    walk = out["rollback_walk"]
    assert walk["verdict"] in ("DO_NOT", "FIX_FIRST") and said(walk["reason"]), walk["summary"]
    safety = out["safety"]
    config = next(i for i in safety["items"] if i["check"] == "config")
    assert config["status"] == "warning" and said(config["detail"]), safety["items"]
    assert safety["next_step"].startswith("restore the config the config check names instead of rolling back")
    [warned] = of_check(out["plan"]["warnings"], "config")
    assert said(warned.detail) and EDIT in warned.brief and FIX in warned.brief, warned  # the text says the brief
    assert EDIT in out["handoff"] and LIKELY in out["handoff"], out["handoff"]
    assert "The cause is not known yet" not in out["handoff"], out["handoff"]


@pytest.fixture
def built(
    sim_factory: Callable[..., RunningSim], kubectl_for: Callable[[RunningSim], Kubectl], tmp_path: Path
) -> tuple[Env, Kubectl]:
    sim = sim_factory("healthy")
    return make_env(sim, tmp_path / "state"), kubectl_for(sim)


async def test_with_nothing_deployed_every_tool_names_the_edit(built: tuple[Env, Kubectl]) -> None:
    env, kubectl = built
    await crash_after_the_edit(env, kubectl)
    out = await every_tool(env)
    assert_agree(out)
    # No deploy to undo: the ROLLBACK walk says so, and that the edit comes first.
    assert out["rollback_walk"]["verdict"] == "DO_NOT", out["rollback_walk"]["summary"]


async def test_after_a_deploy_its_pods_ran_with_every_tool_names_the_edit_not_the_rollout(
    built: tuple[Env, Kubectl],
) -> None:
    env, kubectl = built
    template = {"spec": {"containers": [{"name": "checkout", "image": IMAGES[1]}]}}
    dated = {"metadata": {"annotations": {ROLLED_OUT: "20"}}, "spec": {"template": template}}
    kubectl.run("patch", "deployment/checkout", "-n", NS, "-p", json.dumps(dated))
    await env.until(lambda: env.rolled_out("checkout", 4), 60)
    await crash_after_the_edit(env, kubectl)
    out = await every_tool(env)
    assert [r["minutes_ago"] for r in out["assess"]["recent_rollouts"]] == [20], out["assess"]["recent_rollouts"]
    assert_agree(out)
    # It was ROLLBACK ("recent deployment with failing pods"): the rollout ran for 20 minutes before the edit.
    reason = out["assess"]["decision"]["reason"]
    assert "revision 3 rolled out 20 minutes ago, before that edit" in reason, reason
    assert out["rollback_walk"]["verdict"] == "FIX_FIRST", out["rollback_walk"]["summary"]
    assert "assess_namespace now names another cause" in out["handoff"], out["handoff"]


async def test_the_key_restored_by_hand_is_not_called_the_cause(built: tuple[Env, Kubectl]) -> None:
    """A minute after the crash the human restores PAYMENTS_URL (as every tool advised) and restarts checkout. The
    ConfigMap keeps only its newest write, so the edit that broke it is gone from its managedFields: the restore,
    made after the pods began failing, was called 'the likely cause' to restore again. Now it is said as what it
    most likely is (a fix), the rollback check says to see whether it fixed it first, and the handoff keeps the cause
    the first assessment found (no 'not known yet' beside it) and does not count the restart, made after the first
    warning, as evidence for its rollout."""
    env, kubectl = built
    await crash_after_the_edit(env, kubectl)
    async with Client(env.server("standard")) as client:
        first = await budgeted(client, "assess_namespace", namespace=NS)
        assert said(first["decision"]["reason"]), first["summary"]
        env.sim.advance(60)  # the human takes a minute to find the edit
        kubectl.run(
            "patch", "configmap/checkout-config", "-n", NS, "--type=merge", "-p", '{"data":{"PAYMENTS_URL":"3000"}}'
        )
        later = await budgeted(client, "assess_namespace", namespace=NS)
        safety = await budgeted(client, "check_rollback_safety", namespace=NS, deployment="checkout")
        for image in IMAGES:
            env.sim.cluster.images[image] = {"sim.incident-response.dev/behavior": "healthy"}
        kubectl.run("rollout", "restart", "deployment/checkout", "-n", NS)
        await env.until(lambda: env.rolled_out("checkout", 4), 60)
        handoff = await client.call_tool("incident_handoff", {"namespace": NS})
    reason = later["decision"]["reason"]
    assert EDIT in reason and " ago by kubectl-patch, after they began failing (a fix?)" in reason, reason
    assert LIKELY not in reason, reason
    assert "it fails since a change that was not a rollout" not in reason, reason
    config = next(i for i in safety["items"] if i["check"] == "config")
    assert "after the pods began failing (a fix?)" in config["detail"] and LIKELY not in config["detail"], config
    assert safety["next_step"].startswith("see whether the edit the config check names fixed it first"), safety
    document = "\n".join(c.text for c in handoff.content if isinstance(c, TextContent))
    assert EDIT in document and LIKELY in document, document
    assert "The cause is not known yet" not in document, document
    restart = next(line for line in document.splitlines() if line.startswith("- The rollout of revision 3 of"))
    # The first warning is the kubelet's first about those pods: a BackOff, or a failed readiness probe.
    assert "for: nothing found. Against: it came " in restart and " after the first " in restart, restart


async def test_a_rollout_restart_is_not_called_a_config_rollout(built: tuple[Env, Kubectl]) -> None:
    """`kubectl rollout restart` of checkout (which reads checkout-config, unedited) and the new pods crash: the
    rollback check said 'a config rollout ... pods the rollback creates read the CURRENT ConfigMap checkout-config;
    restore its previous data first' beside the restart warning (review-assist8, LOW): advice about a ConfigMap
    nobody edited. Only the restart warning is said."""
    env, kubectl = built
    env.sim.cluster.images[IMAGES[0]] = {"sim.incident-response.dev/behavior": "crashloop"}
    kubectl.run("rollout", "restart", "deployment/checkout", "-n", NS)

    def crashing() -> bool:
        pods = [p for p in env.pods("app=checkout") if not p["metadata"].get("deletionTimestamp")]
        return any((p["status"].get("containerStatuses") or [{}])[0].get("restartCount") for p in pods)

    await env.until(crashing, 60)
    await env.until(lambda: env.observed("checkout"), 60)
    async with Client(env.server("safe")) as client:
        safety = await budgeted(client, "check_rollback_safety", namespace=NS, deployment="checkout")
    checks = {i["check"]: i for i in safety["items"]}
    assert "same_template" in checks, safety["items"]
    assert "config" not in checks, checks["config"]


async def test_an_edit_of_a_key_no_pod_reads_is_no_cause(built: tuple[Env, Kubectl]) -> None:
    """review-landed8 R4: checkout reads checkout-config's PAYMENTS_URL only (a configMapKeyRef); an edit of
    TIMEOUT_MS, which no checkout container can see, made just before a crash is listed but named by no tool as the
    likely cause, and no tool says to restore it instead of rolling back."""
    env, kubectl = built
    await crash_after_the_edit(env, kubectl, key="TIMEOUT_MS")
    out = await every_tool(env)
    changes = out["assess"]["recent_changes"]
    assert any(
        "ConfigMap checkout-config updated (key TIMEOUT_MS; read by checkout, not that key)" in c for c in changes
    )
    said = json.dumps({k: v for k, v in out.items() if k != "plan"}) + json.dumps(out["plan"])
    assert LIKELY not in said and FIX not in said and "restore that key" not in said.lower(), said

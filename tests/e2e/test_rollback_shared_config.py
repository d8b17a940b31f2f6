"""check_rollback_safety when the revision it would return to reads the same broken ConfigMap (review-assist6 G8).

Someone removes key PAYMENTS_URL from ConfigMap checkout-config with real kubectl (a removal leaves no managedFields
time, so when it changed is not known); a checkout pod replaced afterwards cannot start: CreateContainerConfigError
"couldn't find key PAYMENTS_URL in ConfigMap shop/checkout-config". Every revision of checkout reads that key, so a
rollback starts pods that fail the same way and replaces the three still running: check_rollback_safety said CLEAR.
Now it says CHECK FIRST, naming the key and the better move (restore it), and the rollback's plan warns the same.
When a deploy added the reference (revision 3 asks for a key the ConfigMap never had), the revision before it does not
read that key: the rollback is the fix, and nothing is said about config. The sim's kubelet
writes the stuck pod's status as a real one does.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from mcp import Client
from mcp.types import TextContent
from support.kubectl_runner import Kubectl
from support.mitigation_env import NS, Env, call, ready
from support.plan_warnings import wholes
from support.result_rule import budgeted

pytestmark = pytest.mark.anyio


def message(key: str) -> str:
    return f"couldn't find key {key} in ConfigMap shop/checkout-config"


def live(env: Env) -> list[dict[str, Any]]:
    return [p for p in env.pods("app=checkout") if not p["metadata"].get("deletionTimestamp")]


def stuck(env: Env) -> list[str]:
    """The messages of checkout containers the kubelet could not create (CreateContainerConfigError)."""
    return [
        str(w.get("message"))
        for p in live(env)
        for c in (p.get("status") or {}).get("containerStatuses") or []
        if (w := (c.get("state") or {}).get("waiting") or {}).get("reason") == "CreateContainerConfigError"
    ]


async def until_rolled_out(env: Env, of_new_template: Callable[[dict[str, Any]], bool]) -> None:
    """checkout's status says its rollout is done, and every live pod is of the new template (bounded)."""

    def rolled_out() -> bool:
        deploy = env.get("deployments", "checkout")
        status = deploy.get("status") or {}
        pods = live(env)
        return (
            status.get("observedGeneration") == deploy["metadata"]["generation"]
            and status.get("updatedReplicas") == status.get("readyReplicas") == deploy["spec"]["replicas"]
            and len(pods) == deploy["spec"]["replicas"]
            and all(of_new_template(p) for p in pods)
        )

    await env.until(rolled_out, 40)


async def remove_the_key_and_fail_a_replacement(env: Env, kubectl: Kubectl) -> None:
    """Key PAYMENTS_URL removed from checkout-config; one pod replaced since fails on it (three of four stay ready)."""
    kubectl.run(
        "patch", "configmap/checkout-config", "-n", NS, "--type=json",
        "-p", '[{"op":"remove","path":"/data/PAYMENTS_URL"}]',
    )  # fmt: skip
    first = live(env)[0]["metadata"]["name"]
    kubectl.run("delete", "pod", first, "-n", NS, "--wait=false")
    await env.until(lambda: stuck(env) == [message("PAYMENTS_URL")] and sum(ready(p) for p in live(env)) == 3)


def config(result: dict[str, Any]) -> dict[str, Any] | None:
    return next((i for i in result["items"] if i["check"] == "config"), None)


async def test_a_rollback_to_a_revision_reading_the_same_missing_key_is_not_clear(built: tuple[Env, Kubectl]) -> None:
    env, kubectl = built
    await remove_the_key_and_fail_a_replacement(env, kubectl)

    async with Client(env.server("safe")) as client:
        safety = await budgeted(client, "check_rollback_safety", namespace=NS, deployment="checkout")
        plan = await budgeted(client, "rollback_deployment", namespace=NS, deployment="checkout")

    assert safety["verdict"] == "CHECK_FIRST", safety["summary"]
    item = config(safety)
    assert item is not None and item["status"] == "warning", safety["items"]
    target = safety["target_revision"]
    said = f"revision {target}'s pods read key PAYMENTS_URL of ConfigMap checkout-config too, which pods fail on now"
    assert item["detail"].startswith(said), item["detail"]
    assert f"{said}: restore it (from source control) instead of rolling back" in safety["summary"]
    assert safety["next_step"].startswith("restore the config the config check names instead of rolling back"), safety[
        "next_step"
    ]
    assert any(message("PAYMENTS_URL") in line for line in item["evidence"]), item["evidence"]
    assert any(w.startswith(f"config: {said}") for w in wholes(plan["warnings"])), wholes(plan["warnings"])


async def test_a_key_only_the_new_revision_asks_for_leaves_the_rollback_clear_of_config(
    built: tuple[Env, Kubectl],
) -> None:
    env, kubectl = built
    before = env.get("deployments", "checkout")["metadata"]["annotations"]["deployment.kubernetes.io/revision"]
    added = {"name": "NEW_FLAG", "valueFrom": {"configMapKeyRef": {"name": "checkout-config", "key": "NEW_FLAG"}}}
    kubectl.run(
        "patch", "deployment/checkout", "-n", NS, "--type=json",
        "-p", json.dumps([{"op": "add", "path": "/spec/template/spec/containers/0/env/-", "value": added}]),
    )  # fmt: skip

    # Its new pods cannot start (the key was never there); the rollout stops with the old pods serving.
    def stopped() -> bool:
        deploy = env.get("deployments", "checkout")
        status = deploy.get("status") or {}
        new = status.get("updatedReplicas", 0)
        return (
            status.get("observedGeneration", 0) >= deploy["metadata"]["generation"]
            and stuck(env) == [message("NEW_FLAG")] * new
            and new >= 1
            and status.get("readyReplicas") == status.get("replicas", 0) - new
        )

    await env.until(stopped, 40)

    async with Client(env.server("safe")) as client:
        safety = await call(client, "check_rollback_safety", namespace=NS, deployment="checkout")
        assessed = await call(client, "assess_namespace", namespace=NS)

    assert safety["target_revision"] == int(before), safety["summary"]
    assert config(safety) is None, safety["items"]
    decision = assessed["decision"]
    assert (decision["primary_action"], decision["next_tool"]) == ("ROLLBACK", "rollback_deployment"), decision


async def test_after_a_deploy_every_tool_says_restore_the_shared_key_not_roll_back(built: tuple[Env, Kubectl]) -> None:
    """checkout rolled out 2.5.0 minutes ago, then key PAYMENTS_URL was removed; a pod replaced since cannot start.
    The deploy is recent and a pod fails, so assess_namespace said ROLLBACK and evaluate_decision PROCEED (the config
    only a caution) while check_rollback_safety said CHECK FIRST: every revision reads that key. All three now say
    restore it instead of rolling back."""
    env, kubectl = built
    kubectl.run("set", "image", "deployment/checkout", "checkout=registry.example.com/shop/checkout:2.5.1", "-n", NS)

    image = "registry.example.com/shop/checkout:2.5.1"
    await until_rolled_out(env, lambda p: p["spec"]["containers"][0]["image"] == image and ready(p))
    await remove_the_key_and_fail_a_replacement(env, kubectl)

    async with Client(env.server("safe")) as client:
        assessed = await budgeted(client, "assess_namespace", namespace=NS)
        walked = await budgeted(client, "evaluate_decision", namespace=NS, action="ROLLBACK", deployment="checkout")
        safety = await budgeted(client, "check_rollback_safety", namespace=NS, deployment="checkout")
        scale = await budgeted(client, "evaluate_decision", namespace=NS, action="SCALE", deployment="checkout")
        handoff = await client.call_tool("incident_handoff", {"namespace": NS})

    # SCALE is no answer either, and not because nothing explains the failure: the missing key does (it said
    # 'its pods fail with nothing to explain it' beside the other tools naming the key).
    assert scale["verdict"] == "DO_NOT", scale["summary"]
    assert "nothing to explain" not in scale["reason"], scale["reason"]
    assert "(pods fail on config a rollback does not restore): that comes first" in scale["reason"], scale["reason"]
    # The handoff's hypothesis names the config too (it said 'The cause is not known yet' beside the key).
    document = "\n".join(c.text for c in handoff.content if isinstance(c, TextContent))
    assert "The cause is not known yet" not in document, document
    assert "fail on a ConfigMap or Secret the revision before reads too" in document, document
    assert safety["verdict"] == "CHECK_FIRST", safety["summary"]
    target = safety["target_revision"]
    said = f"revision {target}'s pods read key PAYMENTS_URL of ConfigMap checkout-config too, which pods fail on now"
    move = "restore it (from source control) instead of rolling back"
    assert walked["verdict"] == "FIX_FIRST", walked["summary"]
    assert f"{said}: {move}" in walked["reason"], walked["reason"]
    decision = assessed["decision"]
    assert decision["primary_action"] == "INVESTIGATE", assessed["summary"]
    assert "R" + f"{said}: {move}"[1:] in decision["reason"], decision["reason"]
    # Both then read the same thing (the failing pod's events); neither plans the rollback.
    assert (walked["next_tool"], walked["next_arguments"]) == (decision["next_tool"], decision["next_arguments"])
    assert walked["next_tool"] != "rollback_deployment"

"""A rollout that never finished because its new revision is OOMKilled while the old pods serve (the shipped `oom`
shape, review-assist F27), end to end; built with real kubectl, the rendered undo run by real kubectl as the oracle.

Raising the memory limit patches the template of the NEW revision: its "rolling restart" completes the unproven
rollout over the healthy old pods, and putting the limit back does not bring the old version back. So the decision
is the rollback to the serving revision (assess_namespace and evaluate_decision agree, however old the rollout), and
if the human raises the limit anyway, the plan says it completes the rollout and its undo is that rollback.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from mcp import Client
from support.kubectl_runner import Kubectl
from support.mitigation_env import NS, Env, call, plan_and_confirm, ready
from support.plan_warnings import proses

from incident_response.sim import behaviors

pytestmark = pytest.mark.anyio

OLD = "registry.example.com/shop/payments:5.0.2"
NEW = "registry.example.com/shop/payments:5.1.0"
UNDO = "kubectl rollout undo deployment/payments -n shop --to-revision=1 --context sim"


def live(env: Env) -> list[dict[str, Any]]:
    return [p for p in env.pods("app=payments") if not p["metadata"].get("deletionTimestamp")]


def images(env: Env) -> set[str]:
    return {c["image"] for p in live(env) for c in p["spec"]["containers"]}


def oom_killed(pod: dict[str, Any]) -> bool:
    statuses = (pod.get("status") or {}).get("containerStatuses") or []
    return any(((s.get("lastState") or {}).get("terminated") or {}).get("reason") == "OOMKilled" for s in statuses)


async def stuck_oom_rollout(env: Env, kubectl: Kubectl) -> None:
    """payments 5.0.2 (2 replicas) serves; 5.1.0, rolled out 5 hours ago by kubectl, needs 512Mi over its 256Mi
    limit: its one surge pod is OOMKilled over and over, the rollout never finishes, the two old pods serve."""
    dated = {"annotations": {behaviors.ROLLED_OUT_MINUTES_AGO: "300"}}  # the new revision 5 hours back
    # 5.1.0's need is its image's (the sim's catalogue): the release differs from 5.0.2 in the image alone.
    env.sim.cluster.images[NEW] = {behaviors.BEHAVIOR: behaviors.OOM, behaviors.MEMORY_NEED: "512Mi"}
    template = {"spec": {"containers": [{"name": "payments", "image": NEW}]}}
    kubectl.run(
        "patch", "deployment/payments", "-n", NS, "-p", json.dumps({"metadata": dated, "spec": {"template": template}})
    )

    def stuck() -> bool:
        pods = live(env)
        old = [p for p in pods if p["spec"]["containers"][0]["image"] == OLD and ready(p)]
        return len(old) == 2 and any(oom_killed(p) for p in pods if p["spec"]["containers"][0]["image"] == NEW)

    await env.until(stuck, 40)


async def test_an_unfinished_rollout_oomkilled_is_rolled_back_and_raising_the_limit_says_it_completes_it(
    built: Any,
) -> None:
    env, kubectl = built
    await stuck_oom_rollout(env, kubectl)
    history = kubectl.run("rollout", "history", "deployment/payments", "-n", NS).stdout
    assert "1 " in history and "2 " in history, history
    async with Client(env.server("full")) as client:
        assessed = await call(client, "assess_namespace", namespace=NS)
        decided = await call(client, "evaluate_decision", namespace=NS)
        scale = await call(client, "evaluate_decision", namespace=NS, action="SCALE", deployment="payments")
        plan, _ = await plan_and_confirm(
            client, env, "set_memory_limit", namespace=NS, deployment="payments", container="payments", limit="512Mi"
        )

        decision = assessed["decision"]
        assert (decision["primary_action"], decision["next_tool"]) == ("ROLLBACK", "rollback_deployment"), decision
        assert decision["rule"] == "unfinished rollout with failing pods" and "has not finished" in decision["reason"]
        assert decision["next_arguments"] == {"namespace": NS, "deployment": "payments"}, decision
        assert (decided["verdict"], decided["next_tool"]) == ("PROCEED", "rollback_deployment"), decided["summary"]
        assert decided["next_arguments"]["deployment"] == "payments", decided
        # Walked as a SCALE by hand, the vertical scaling tree sends it back to the rollback too.
        assert (scale["verdict"], scale["next_tool"]) == ("TRY_INSTEAD", "evaluate_decision"), scale["summary"]
        assert scale["next_arguments"] == {"namespace": NS, "action": "ROLLBACK", "deployment": "payments"}, scale

        # Raised anyway: said loudly first, and its undo is the rollback to revision 1, not the limit put back.
        first = proses(plan["warnings"])[0]
        assert first.startswith("NOT ONLY A RESTART: this also completes the rollout of revision 2"), first
        assert f"over the 2 pods of revision 1 ({OLD}) that serve now" in first, first
        assert plan["undo_command"] == UNDO, plan["undo_command"]

        await env.until(lambda: images(env) == {NEW} and len(live(env)) == 2 and all(ready(p) for p in live(env)), 60)
        await env.until(lambda: env.rolled_out("payments", 2))

        # restore_measure plans that rollback too (the guard does not hold it for the new revision's memory use).
        [measure] = (await call(client, "list_temporary_measures"))["measures"]
        restore = await call(client, "restore_measure", measure_id=measure["measure_id"])
        assert restore["command"] == UNDO, restore
        await call(client, "cancel_command", token=restore["token"])

    # The oracle: real kubectl runs the rendered undo and the version that served before is back on every pod.
    kubectl.shell(UNDO)
    await env.until(lambda: images(env) == {OLD} and len(live(env)) == 2 and all(ready(p) for p in live(env)), 60)
    await env.until(lambda: env.rolled_out("payments", 2))
    limits = {c["resources"]["limits"]["memory"] for p in live(env) for c in p["spec"]["containers"]}
    assert limits == {"256Mi"}, limits

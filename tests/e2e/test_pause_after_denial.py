"""After a human denies the rollback of a bad rollout still under way, the answer offers the next safe step: pausing
the rollout (review-assist7 H5: every answer pointed back to the denied rollback, or to nothing).

payments 5.0.2 -> 5.1.0 (crash-loops through the sim's image catalogue) with the default strategy: one new pod
crash-loops, the two old ones serve. The assistant plans the rollback; the human denies it with the real CLI.
confirm_command then says what was not done and offers pause_rollout, planning and running nothing. The pause, once
planned, is `kubectl rollout pause`, runs only after approval, is a temporary measure, and restore_measure's resume
is `kubectl rollout resume`; real kubectl reads the result each time.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from mcp import Client
from mcp.types import TextContent
from support.kubectl_runner import Kubectl
from support.mitigation_env import NS, Env, approve_as_cli, call, make_env, ready, refused
from support.result_rule import budgeted

from incident_response.server import approvals_command
from incident_response.sim.serve import RunningSim
from incident_response.tools.engine.journal import Journal
from incident_response.tools.engine.pending import PendingEngine

pytestmark = pytest.mark.anyio

BAD = "registry.example.com/shop/payments:5.1.0"


def deny_as_cli(env: Env, token: str, reason: str) -> str:
    engine = PendingEngine(Journal(env.state))
    return approvals_command.decide(engine, token, approved=False, reason=reason).status


def stuck(env: Env) -> bool:
    """The rollout is under way: a 5.1.0 pod has restarted, both 5.0.2 pods are Ready, and the Deployment's status
    has caught up with it (the tools read that status)."""
    pods = [p for p in env.pods("app=payments") if not p["metadata"].get("deletionTimestamp")]
    new = [p for p in pods if p["spec"]["containers"][0]["image"] == BAD]
    old = [p for p in pods if p["spec"]["containers"][0]["image"] != BAD and ready(p)]
    restarted = any((p["status"].get("containerStatuses") or [{}])[0].get("restartCount") for p in new)
    d = env.get("deployments", "payments")
    status = d.get("status") or {}
    caught_up = status.get("observedGeneration") == d["metadata"]["generation"] and status.get("updatedReplicas")
    return bool(new) and restarted and len(old) == 2 and bool(caught_up)


def paused(k: Kubectl) -> Any:
    return k.json("get", "deployment/payments", "-n", NS)["spec"].get("paused")


async def test_a_denied_rollback_offers_the_pause_and_the_pause_runs_only_once_approved(
    sim_factory: Callable[..., RunningSim], kubectl_for: Callable[[RunningSim], Kubectl], tmp_path: Path
) -> None:
    sim = sim_factory("healthy")
    env, k = make_env(sim, tmp_path / "state"), kubectl_for(sim)
    sim.cluster.images[BAD] = {"sim.incident-response.dev/behavior": "crashloop"}
    k.run("set", "image", "deployment/payments", f"payments={BAD}", "-n", NS)
    await env.until(lambda: stuck(env), 60)
    generation = env.get("deployments", "payments")["metadata"]["generation"]

    async with Client(env.server("standard")) as client:
        plan = await call(client, "rollback_deployment", namespace=NS, deployment="payments")
        assert deny_as_cli(env, plan["token"], "not yet: 5.1.0 carries the PCI fix") == "denied"
        denied = await budgeted(client, "confirm_command", token=plan["token"])
        assert denied["status"] == "denied", denied
        message = denied["message"]
        # What was not done, and that nothing changed.
        assert message.startswith("A human denied rollback_deployment on deployment/payments -n shop ("), message
        assert " via cli): not run, nothing changed. Do not retry it." in message, message
        assert "Do not retry it" in message, message
        # The next safe step, offered, not planned: how the rollout stands and the call.
        assert "Its rollout is under way (revision 2: 0 of 2 pods Ready; revision 1's 2 serve)" in message, message
        assert "offer the human pause_rollout(namespace='shop', deployment='payments') to keep" in message, message
        assert message.endswith("plan it only if they agree."), message
        pending = await call(client, "list_pending_commands")
        assert pending["commands"] == [], pending
        # assess_namespace no longer leads with the denied rollback as if nothing was said: the denial, the offer,
        # and no tool to plan before the human answers.
        again = await budgeted(client, "assess_namespace", namespace=NS)
        decision = again["decision"]
        assert "The human denied rollback_deployment on deployment/payments -n shop at " in decision["reason"], again
        assert "offer the human pause_rollout(namespace='shop', deployment='payments') to keep" in decision["reason"]
        assert decision["next_tool"] is None and "Next: rollback_deployment" not in again["summary"], again["summary"]
        # Asked what else, evaluate_decision says the denial first and offers the same step.
        walked = await budgeted(client, "evaluate_decision", namespace=NS)
        denial = walked["cautions"][0]
        assert denial.startswith("The human denied rollback_deployment on deployment/payments -n shop at "), walked
        assert "offer the human pause_rollout(namespace='shop', deployment='payments') to keep" in denial, denial
        deployment = env.get("deployments", "payments")
        assert deployment["metadata"]["generation"] == generation and paused(k) is None

        # The human agrees: the pause is planned as the exact kubectl command and waits for approval.
        pause = await budgeted(client, "pause_rollout", namespace=NS, deployment="payments")
        assert pause["status"] == "pending", pause
        assert pause["command"] == "kubectl rollout pause deployment/payments -n shop --context sim", pause
        assert pause["undo_command"] == "kubectl rollout resume deployment/payments -n shop --context sim", pause
        assert pause["summary"] == (
            "Pause deployment payments's rollout (shop): revision 2 has 0 of 2 Ready pods, revision 1's 2 serve."
        ), pause
        waiting = await call(client, "confirm_command", token=pause["token"])
        assert waiting["status"] == "awaiting_approval" and paused(k) is None, waiting
        assert approve_as_cli(env, pause["token"]) == "approved"
        done = await call(client, "confirm_command", token=pause["token"])
        assert done["status"] == "succeeded", done
        assert paused(k) is True  # kubectl's own read
        # kubectl agrees it is paused: pausing again is refused as already paused.
        again = k.run("rollout", "pause", "deployment/payments", "-n", NS, check=False)
        assert again.returncode != 0 and "already paused" in again.stderr, again

        # The handoff counts the pause as a change to the cluster (it said "none applied"), and the assessment's
        # rollback names the measure's restore as the resume to run first.
        handoff = await client.call_tool("incident_handoff", {"namespace": NS})
        document = "\n".join(c.text for c in handoff.content if isinstance(c, TextContent))
        assert "- Mitigation: pause applied (pause_rollout on deployment/payments -n shop (succeeded" in document
        assert "no mitigation changed the cluster" not in document, document
        assessed = await call(client, "assess_namespace", namespace=NS)
        assert "restore_measure plans it for a pause_rollout measure" in assessed["decision"]["reason"], assessed
        # A rollback now is refused with kubectl's rule, naming the measure's restore: the resume.
        refusal = await refused(client, "rollback_deployment", namespace=NS, deployment="payments")
        assert "kubectl refuses to roll back a paused deployment" in refusal, refusal
        assert "restore_measure plans it for a pause_rollout measure" in refusal, refusal
        measures = await call(client, "list_temporary_measures")
        measure = next(m for m in measures["measures"] if m["tool"] == "pause_rollout")
        assert measure["restore_command"] == pause["undo_command"], measure
        # Resuming would let 5.1.0 replace the serving pods: refused unless said anyway (the way to a rollback).
        held = await refused(client, "restore_measure", measure_id=measure["measure_id"])
        assert "deployment payments's rollout is still under way (revision 2 has 0 of 2 Ready pods" in held, held
        assert "restore with restore_despite_condition=true and plan rollback_deployment right after" in held, held
        assert paused(k) is True
        resume = await call(client, "restore_measure", measure_id=measure["measure_id"], restore_despite_condition=True)
        assert resume["command"] == pause["undo_command"], resume
        assert approve_as_cli(env, resume["token"]) == "approved"
        resumed = await call(client, "confirm_command", token=resume["token"])
        assert resumed["status"] == "succeeded", resumed
        assert not paused(k)
        after = await call(client, "list_temporary_measures")
        assert all(m["tool"] != "pause_rollout" for m in after["measures"]), after


async def test_a_denied_rollback_with_no_old_pod_serving_offers_no_pause(
    sim_factory: Callable[..., RunningSim], kubectl_for: Callable[[RunningSim], Kubectl], tmp_path: Path
) -> None:
    """payments rolled out with Recreate: every 5.0.2 pod is gone and the 5.1.0 ones crash-loop. A pause would keep
    nothing serving, so the denial's answer keeps 'ask the human what to do instead'."""
    sim = sim_factory("healthy")
    env, k = make_env(sim, tmp_path / "state"), kubectl_for(sim)
    sim.cluster.images[BAD] = {"sim.incident-response.dev/behavior": "crashloop"}
    recreate = '{"spec":{"strategy":{"type":"Recreate","rollingUpdate":null}}}'
    k.run("patch", "deployment/payments", "-n", NS, "-p", recreate)
    k.run("set", "image", "deployment/payments", f"payments={BAD}", "-n", NS)

    def replaced() -> bool:
        pods = [p for p in env.pods("app=payments") if not p["metadata"].get("deletionTimestamp")]
        return (
            len(pods) == 2
            and all(p["spec"]["containers"][0]["image"] == BAD for p in pods)
            and env.observed("payments")
        )

    await env.until(replaced, 60)
    async with Client(env.server("standard")) as client:
        plan = await call(client, "rollback_deployment", namespace=NS, deployment="payments")
        assert deny_as_cli(env, plan["token"], "no") == "denied"
        denied = await budgeted(client, "confirm_command", token=plan["token"])
    assert denied["status"] == "denied", denied
    assert denied["message"].startswith("A human denied rollback_deployment on deployment/payments -n shop ("), denied
    assert " via cli): not run, nothing changed." in denied["message"], denied
    assert denied["message"].endswith("Do not retry it; ask the human what to do instead."), denied
    assert "pause_rollout" not in denied["message"], denied

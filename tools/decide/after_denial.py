"""What a denied plan's answer offers next (review-assist7 H5): after a human said no, the assistant must not retry
the plan, and it should not be left with nothing to say either. The answer states what was not done and, when the
cluster shows one, the next safe step to put to the human; nothing is planned or run here.

A denied rollback of a Deployment whose rollout is still under way (its new revision short of Ready pods while an
earlier one's serve) has one: pausing the rollout (pause_rollout), which keeps the serving pods as they are while the
team fixes forward. Everything else keeps the plain answer: ask the human what to do instead.

Layer: tools.decide.
"""

from __future__ import annotations

from incident_response.tools.core import errors
from incident_response.tools.engine.deps import Deps
from incident_response.tools.engine.outcomes import CommandResult
from incident_response.tools.engine.pending import DIALOG_WITHOUT_CODE
from incident_response.tools.engine.plan import PendingCommand, target_text
from incident_response.tools.mitigate.pause import under_way
from incident_response.tools.playbook.denial_offer import pause_offer

ROLLBACKS = ("rollback_deployment", "restore_measure")
ASK = "Do not retry it; ask the human what to do instead."


def offered(deps: Deps, result: CommandResult) -> CommandResult:
    """`result` (a confirm's answer) with, when it says denied, what was not done and the next safe step."""
    found = deps.pending.get(result.token) if result.status == "denied" else None
    if found is None or DIALOG_WITHOUT_CODE in result.message:  # a dialog answered without its code: no person's no
        return result
    row, plan = found
    result.message = (
        f"A human denied {plan.tool} on {target_text(plan.model_dump())} ({row.decided_by} via "
        f"{row.decided_channel}): not run, nothing changed. "
        + (f"Do not retry it. {step}" if (step := next_step(deps, plan)) else ASK)
    )
    return result
    plan = found[1]
    head = result.message.removesuffix(ASK).rstrip()
    said = f" Not done: {plan.tool} on {target_text(plan.model_dump())}; nothing changed."
    result.message = f"{head}{said} {next_step(deps, plan) or ASK}"
    return result


def next_step(deps: Deps, plan: PendingCommand) -> str | None:
    """The safe step to offer after `plan` was denied, or None when the cluster shows none."""
    target = plan.target
    if plan.tool not in ROLLBACKS or target.kind != "Deployment" or not target.namespace:
        return None
    try:
        deployment = deps.kube.get("deployments", target.name, target.namespace)
        rollout = (
            None if (deployment.get("spec") or {}).get("paused") else under_way(deps.kube, target.namespace, deployment)
        )
    except errors.KubeError:
        return None  # the offer is a courtesy: a read that fails leaves the plain answer
    if rollout is None:
        return None
    return pause_offer(target.namespace, target.name, rollout)

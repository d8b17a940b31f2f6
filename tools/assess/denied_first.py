"""assess_namespace's ROLLBACK after the human denied that very rollback in this incident (review-assist7 H5: it kept
leading with the rollback as if nothing had been said, while confirm_command and evaluate_decision said the denial):
the reason says the denial and the next safe step, and no tool is named to plan before the human answers.

Layer: tools.assess.
"""

from __future__ import annotations

from incident_response.tools.assess.observation import Observation
from incident_response.tools.engine.denials import newest_denial
from incident_response.tools.engine.deps import Deps
from incident_response.tools.k8s.unfinished import unfinished_rollout
from incident_response.tools.k8s.workloads import owned_by
from incident_response.tools.playbook.decision import Decision
from incident_response.tools.playbook.denial_offer import pause_offer


def denied_first(deps: Deps, seen: Observation, decision: Decision) -> Decision:
    if decision.primary_action != "ROLLBACK" or not decision.target:
        return decision
    found = newest_denial(deps, seen.namespace, decision.target, "ROLLBACK")
    if found is None:
        return decision
    _, said = found
    kind, _, name = decision.target.partition("/")
    deploy = seen.deployment(name) if kind == "deployment" else None
    rollout = None
    if deploy is not None and not (deploy.get("spec") or {}).get("paused"):
        rollout = unfinished_rollout(deploy, [rs for rs in seen.replicasets if owned_by(rs, deploy)])
    offer = pause_offer(seen.namespace, name, rollout) if rollout is not None else "Ask the human what to do instead"
    return decision.model_copy(
        update={
            "reason": f"{decision.reason}. {said}: ask before planning it again. {offer.removesuffix('.')}",
            "next_tool": None,
            "next_arguments": {},
        }
    )

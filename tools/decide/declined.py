"""evaluate_decision's memory of the human's denials (review-assist7 H5): a walk that ends in the very mitigation the
human denied in this incident says so first, with when and why, instead of "nothing the human said stops it".

Layer: tools.decide.
"""

from __future__ import annotations

from datetime import UTC, datetime

from incident_response.tools.decide import after_denial
from incident_response.tools.engine import approvals
from incident_response.tools.engine.deps import Deps
from incident_response.tools.engine.pending import DIALOG_WITHOUT_CODE
from incident_response.tools.engine.plan import PendingCommand, target_text
from incident_response.tools.engine.records import CommandRow

# The planning tools that carry out each primary action.
TOOLS = {
    "ROLLBACK": ("rollback_deployment", "rollback_workload", "rollback_helm_release", "rollback_canary"),
    "SCALE": ("scale_deployment", "override_hpa", "set_memory_limit"),
    "ISOLATE": ("isolate_network", "remove_pods_from_service", "cordon_node", "drain_node"),
}
MAX_REASON = 200


def declined(deps: Deps, namespace: str, target: str | None, action: str) -> list[str]:
    """The caution for the newest denial, in this incident, of a plan of `action` on `target` ("kind/name")."""
    kind, _, name = (target or "").partition("/")
    found: CommandRow | None = None
    for row in deps.scope().commands(deps.journal.commands(states=["denied"])):
        aimed = row.plan.get("target") or {}
        if (
            row.tool in TOOLS.get(action, ())
            and str(aimed.get("kind", "")).lower() == kind
            and aimed.get("name") == name
            and aimed.get("namespace") in (namespace, None)
            and (found is None or (row.decided_at or 0) >= (found.decided_at or 0))
        ):
            found = row
    if found is None:
        return []
    why = next(
        (
            str(e.detail["reason"])
            for e in deps.journal.events(token=found.token)
            if e.kind == "denied" and e.detail and e.detail.get("reason")
        ),
        "",
    )
    if found.decided_channel == approvals.ELICITATION and why.startswith(DIALOG_WITHOUT_CODE[:40]):
        return []  # refused for a dialog answered without its code: no person said no to the plan
    when = datetime.fromtimestamp(found.decided_at or found.created_at, UTC).strftime("%H:%M UTC")
    said = f': "{why[:MAX_REASON]}"' if why else ""
    step = after_denial.next_step(deps, PendingCommand.model_validate(found.plan))
    return [
        f"The human denied {found.tool} on {target_text(found.plan)} at {when} ({found.decided_by}{said}): plan it "
        "again only if they now ask for it" + (f". {step}" if step else "")
    ]

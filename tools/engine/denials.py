"""The human's newest denial, in this incident, of a plan of one kind on one target: what evaluate_decision and
assess_namespace say first when their decision leads to the very mitigation the human said no to (review-assist7
H5). A dialog refused for a missing code is not a person's no, and is not one here.

Layer: tools.engine.
"""

from __future__ import annotations

from datetime import UTC, datetime

from incident_response.tools.engine import approvals
from incident_response.tools.engine.deps import Deps
from incident_response.tools.engine.pending import DIALOG_WITHOUT_CODE
from incident_response.tools.engine.plan import target_text
from incident_response.tools.engine.records import CommandRow

# The planning tools that carry out each primary action.
TOOLS = {
    "ROLLBACK": ("rollback_deployment", "rollback_workload", "rollback_helm_release", "rollback_canary"),
    "SCALE": ("scale_deployment", "override_hpa", "set_memory_limit"),
    "ISOLATE": ("isolate_network", "remove_pods_from_service", "cordon_node", "drain_node"),
}
MAX_REASON = 200


def newest_denial(deps: Deps, namespace: str, target: str | None, action: str) -> tuple[CommandRow, str] | None:
    """(the denied command, the sentence that says so) for the newest denial of a plan of `action` on `target`
    ("kind/name"); None when there is none."""
    kind, _, name = (target or "").partition("/")
    # The incident's events are read anyway (the human's answers are among them): the commands only after a denial,
    # so an assessment with none costs no journal request more (team mode's budget).
    if not any(e.kind == "denied" for e in deps.journal.events(incident=deps.journal.current_incident(namespace))):
        return None
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
        return None
    why = next(
        (
            str(e.detail["reason"])
            for e in deps.journal.events(token=found.token)
            if e.kind == "denied" and e.detail and e.detail.get("reason")
        ),
        "",
    )
    if found.decided_channel == approvals.ELICITATION and why.startswith(DIALOG_WITHOUT_CODE[:40]):
        return None  # refused for a dialog answered without its code: no person said no to the plan
    when = datetime.fromtimestamp(found.decided_at or found.created_at, UTC).strftime("%H:%M UTC")
    said = f': "{why[:MAX_REASON]}"' if why else ""
    return found, f"The human denied {found.tool} on {target_text(found.plan)} at {when} ({found.decided_by}{said})"

"""check_rollback_safety with the human's remembered answers (review-assist F31): once the human said the revision a
rollback would go past ran forward-only migrations, the checklist says BLOCKED with that answer instead of asking
the migration question again (rollback_deployment and rollback_workload refuse the same rollback).

Layer: tools.assess.
"""

from __future__ import annotations

from incident_response.tools.assess.rollback_safety import RollbackSafety, summary_of, verdict_of
from incident_response.tools.engine.rollback_answers import Ruling, ruling_against
from incident_response.tools.playbook.rollback_checks import SafetyItem


def with_answers(result: RollbackSafety, found: list[Ruling], kind: str, numbers: dict[str, int]) -> RollbackSafety:
    """The checklist with the migrations check answered by the human's ruling against this target, if any;
    `numbers`: revision number by ReplicaSet or ControllerRevision name (empty: the numbers recorded then)."""
    if result.target_revision is None:
        return result
    ruling = ruling_against(found, kind, result.deployment, result.target_revision, numbers)
    if ruling is None:
        return result
    answered = SafetyItem(
        check="migrations",
        status="blocking",
        detail=f"{ruling.said()}: revision {result.target_revision} is older code",
        evidence=[],
    )
    items = [answered if item.check == "migrations" else item for item in result.items]
    if not any(item.check == "migrations" for item in items):
        items.append(answered)
    asked = [q for item in result.items if item.check == "migrations" for q in item.questions]
    result = result.model_copy(
        update={
            "items": items,
            "verdict": verdict_of(items),
            "questions_for_human": [q for q in result.questions_for_human if q not in asked],
            "next_step": ruling.refusal(f"revision {result.target_revision}"),
        }
    )
    result.summary = summary_of(result)
    return result

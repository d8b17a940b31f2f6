"""evaluate_decision's side of the human's remembered answers (review-assist F31): a walk of a workload whose
rollback the human ruled out earlier uses that answer, and an answer given now is recorded for the planners.

Layer: tools.decide.
"""

from __future__ import annotations

from dataclasses import replace

from incident_response.tools.assess.observation import Observation
from incident_response.tools.assess.ruled_out import current_revision
from incident_response.tools.engine.deps import Deps
from incident_response.tools.engine.rollback_answers import RULING, Ruling, record
from incident_response.tools.playbook.trees import Answers

KINDS = ("deployment", "statefulset", "daemonset")


def standing(answers: Answers, seen: Observation, key: str, target: int | None) -> tuple[Answers, list[str]]:
    """The caller's answers, with those the human gave earlier about `key` ("kind/name") where the caller left them
    open and the walk's rollback (to revision `target`) goes past the answered revision; and the caution that says
    so."""
    ruled = seen.facts.ruled_out.get(key)
    if ruled is None or (target is not None and ruled.revision is not None and target >= ruled.revision):
        return answers, []
    filled = {q: v for q, v in ruled.answers.items() if q in RULING and getattr(answers, q) is None}
    if not filled:
        return answers, []
    return replace(answers, **filled), [f"Remembered: {ruled.said}. If that was wrong: {ruled.undo}."]


def remember(deps: Deps, seen: Observation, target: str | None, answers: Answers, answered: list[Ruling]) -> list[str]:
    """Record the caller's answers that rule a rollback in or out, about the walked workload's current revision, so
    the rollback planners and later assessments know them (`answered`: those recorded before this call). Cautions
    when that cannot be done."""
    given = {q: v for q in RULING if (v := getattr(answers, q)) is not None}
    if not given:
        return []
    kind, _, name = (target or "").partition("/")
    revision = current_revision(seen, kind, name) if kind in KINDS and name else None
    if revision is None:
        return [
            f"The answers ({', '.join(given)}) are not remembered: this walk is about {target or 'no workload'}; "
            "name the deployment (deployment=) to record them for its rollback"
        ]
    same = (kind, name, revision.template, None if revision.template else revision.number)
    known = next(
        (
            r
            for r in answered
            if (r.kind, r.name, r.revision.template, r.revision.number if r.revision.template is None else None) == same
        ),
        None,
    )
    if known is not None and all(known.answers.get(q) == v for q, v in given.items()):
        return []  # said before: the timeline keeps the first time it was said
    failed = record(deps, seen.namespace, kind, name, revision, given)
    return [f"Not remembered: {failed}."] if failed else []

"""The human's answers that rule a rollback out, remembered on the incident's timeline (review-assist F31).

Only a human knows whether a revision ran database migrations that only go forward (evaluate_decision's
migrations_forward_only) or wrote data older code may not read (stateful_changes_uncertain). Once answered true, the
ROLLBACK tree says DO_NOT; but the answer used to live only in that call: rollback_deployment then planned the undo
with no warning, and assess_namespace kept proposing it. Each answer is now an event of the incident (SQLite or the
team store's objects: written before evaluate_decision returns, so a crash does not lose it), about the workload's
revision that was current then (its ReplicaSet or ControllerRevision, by name: a rollback renumbers revisions, the
name stays). The planners refuse to go back past that revision, assess and evaluate stop proposing it, and the human
undoes a wrong answer by answering again (false).

Layer: tools.engine.
"""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from incident_response.tools.core.errors import IncidentError
from incident_response.tools.core.plan_warnings import PlanWarning, warning
from incident_response.tools.engine.deps import Deps
from incident_response.tools.engine.records import Event

logger = logging.getLogger(__name__)

ANSWERED = "rollback_answered"  # event kind
# Closed incidents whose answers still count: a relapse after an early resolve is within a week.
REMEMBERED_FOR = 7 * 86400
EARLIER_INCIDENTS = 20
# The answers that rule a rollback out when true, and what a true one says about the revision.
RULING: dict[str, str] = {
    "migrations_forward_only": "ran database migrations that only go forward",
    "stateful_changes_uncertain": "may have written data that older code cannot read",
}


@dataclass(frozen=True)
class Revision:
    """The workload's revision the human answered about: its number then, its ReplicaSet or ControllerRevision name,
    its images (a helm rollback compares those)."""

    number: int | None
    template: str | None
    images: tuple[str, ...] = ()


@dataclass
class Ruling:
    """What the human said about one revision of one workload; the newest answer to each question counts."""

    namespace: str
    kind: str
    name: str
    revision: Revision
    answers: dict[str, bool] = field(default_factory=dict)
    at: float = 0.0  # when the newest answer was given
    # question -> (when it was answered true, when that was taken back): a rollback then planned says so
    taken_back: dict[str, tuple[float, float]] = field(default_factory=dict)
    answered_true: dict[str, float] = field(default_factory=dict)

    @property
    def rules_out(self) -> bool:
        return any(self.answers.get(question) for question in RULING)

    def number_now(self, numbers: Mapping[str, int]) -> int | None:
        """The answered revision's number now (`numbers`: revision number by ReplicaSet/ControllerRevision name)."""
        if self.revision.template is not None and self.revision.template in numbers:
            return numbers[self.revision.template]
        return self.revision.number

    def said(self) -> str:
        """'at 04:31 UTC the human answered (migrations_forward_only=true) that revision 3 of deployment checkout ran
        database migrations that only go forward'"""
        questions = [q for q in RULING if self.answers.get(q)]
        when = clock(self.at)
        number = f"revision {self.revision.number}" if self.revision.number is not None else "the revision then"
        return (
            f"at {when} the human answered ({', '.join(f'{q}=true' for q in questions)}) that {number} of "
            f"{self.kind} {self.name} {' and '.join(RULING[q] for q in questions)}"
        )

    def undo_call(self) -> str:
        """The call that takes the answer back."""
        questions = ", ".join(f"{q}=false" for q in RULING if self.answers.get(q))
        workload = f"deployment={self.name}"
        return f"evaluate_decision(namespace={self.namespace}, action=ROLLBACK, {workload}, {questions})"

    def refusal(self, what: str) -> str:
        """The planner's error: `what` is the rollback refused ("revision 2", "helm release cart to revision 2")."""
        return (
            f"will not plan rolling {self.kind} {self.name} back to {what}: {self.said()}, so older code would meet "
            "what it left behind. Instead fix forward (a corrected image or config rolled out as a new revision), "
            "and contain meanwhile only where the cluster shows a need (evaluate_decision with action=SCALE or "
            f"ISOLATE). If that answer was wrong, the human takes it back with {self.undo_call()}, then plan again"
        )


def record(
    deps: Deps, namespace: str, kind: str, name: str, revision: Revision, answers: dict[str, bool]
) -> str | None:
    """Put the human's answers about `kind/name`'s current revision on the incident's timeline. None when recorded,
    else why not (the caller tells the human the planners will not know)."""
    detail: dict[str, Any] = {
        "namespace": namespace,
        "kind": kind,
        "name": name,
        "revision": revision.number,
        "template": revision.template,
        "images": list(revision.images),
        "answers": answers,
        "cluster": deps.cluster_record(),
    }
    try:
        journal = deps.journal
        journal.record_event(ANSWERED, incident=journal.current_incident(namespace), detail=detail)
    except (OSError, sqlite3.Error, IncidentError) as e:
        logger.warning("could not record the answers about %s/%s: %s", kind, name, e)
        return f"the answer could not be recorded ({e}): the rollback planners will not know it"
    return None


def rulings(deps: Deps, namespace: str) -> list[Ruling]:
    """The answers of the current incident about workloads of `namespace` on this cluster, one Ruling per answered
    revision, oldest first. Unreadable journal: none (logged)."""
    try:
        events = answer_events(deps, namespace)
    except (OSError, sqlite3.Error, IncidentError) as e:
        logger.warning("could not read the human's answers: %s", e)
        return []
    cluster = deps.cluster_record()
    found: dict[tuple[str, str, str | None, int | None], Ruling] = {}
    for event in events:
        detail = event.detail or {}
        if event.kind != ANSWERED or detail.get("namespace") != namespace or detail.get("cluster") != cluster:
            continue
        revision = Revision(
            number=detail.get("revision") if isinstance(detail.get("revision"), int) else None,
            template=str(detail["template"]) if detail.get("template") else None,
            images=tuple(str(i) for i in detail.get("images") or []),
        )
        kind, name = str(detail.get("kind")), str(detail.get("name"))
        key = (kind, name, revision.template, None if revision.template else revision.number)
        ruling = found.setdefault(key, Ruling(namespace, kind, name, revision))
        given = {q: v for q, v in (detail.get("answers") or {}).items() if q in RULING and isinstance(v, bool)}
        for question, value in given.items():
            if value:
                ruling.answered_true[question] = event.at
                ruling.taken_back.pop(question, None)
            elif ruling.answers.get(question):
                ruling.taken_back[question] = (ruling.answered_true.get(question, event.at), event.at)
        ruling.answers.update(given)
        ruling.at = event.at
    return list(found.values())


def answer_events(deps: Deps, namespace: str) -> list[Event]:
    """The answers given in this namespace's incidents, the current one and those closed in the last REMEMBERED_FOR
    (oldest first): an answer is about a revision, not an incident, so resolving an incident too early must not
    forget that revision 3 ran a forward-only migration when it fails again."""
    journal = deps.journal
    current = journal.current_incident(namespace)
    since = deps.now().timestamp() - REMEMBERED_FOR
    earlier = [
        row.id
        for row in reversed(journal.incidents(limit=EARLIER_INCIDENTS))
        if row.id != current and row.namespace in (namespace, None) and (row.closed_at or since) >= since
    ]
    found = [e for incident in [*earlier, current] for e in journal.events(incident=incident) if e.kind == ANSWERED]
    return sorted(found, key=lambda e: e.at)  # stable: one incident's answers keep their order


def ruling_against(found: list[Ruling], kind: str, name: str, target: int, numbers: Mapping[str, int]) -> Ruling | None:
    """The ruling that forbids rolling `kind/name` back to revision `target`: one that rules a rollback out for a
    revision newer than the target (its number now, from `numbers`, revision by ReplicaSet/ControllerRevision)."""
    for ruling in reversed(found):
        if ruling.kind != kind or ruling.name != name or not ruling.rules_out:
            continue
        answered = ruling.number_now(numbers)
        if answered is not None and target < answered:
            return ruling
    return None


def taken_back(found: list[Ruling], kind: str, name: str) -> list[PlanWarning]:
    """Plan warnings: answers that ruled a rollback of `kind/name` out and were taken back (the approver should know
    the rollback was once ruled out, and by whom it was allowed again)."""
    warnings = []
    for ruling in found:
        if ruling.kind != kind or ruling.name != name:
            continue
        number = ruling.revision.number
        for question, (said, back) in ruling.taken_back.items():
            warnings.append(
                warning(
                    "taken_back",
                    f"{question}=true (revision {number}) at {clock(said)}, false at {clock(back)}: confirm with the "
                    "human",
                    f"At {clock(said)} the human answered {question}=true about revision {number} of {kind} {name} "
                    f"({RULING[question]}), and at {clock(back)} took it back ({question}=false): confirm with the "
                    "human before approving",
                )
            )
    return warnings


def clock(at: float) -> str:
    return datetime.fromtimestamp(at, UTC).strftime("%Y-%m-%d %H:%M UTC")  # dated: it may be from an earlier incident

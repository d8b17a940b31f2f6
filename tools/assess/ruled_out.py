"""Rollbacks the human ruled out, applied to what assess_namespace and evaluate_decision judge (review-assist F31).

The human's answers (tools/engine/rollback_answers.py) are about one revision of one workload. While that revision is
still the current one, rolling the workload back would go past it: the decision's facts carry the answer
(Facts.ruled_out), so the framework proposes fixing forward instead of the rollback, and the trees walk as if the
human had just answered again.

Layer: tools.assess.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING, Any

from incident_response.tools.engine.rollback_answers import Revision, Ruling
from incident_response.tools.k8s import controller_revisions as cr
from incident_response.tools.k8s.views import meta
from incident_response.tools.k8s.workloads import images_of, owned_by, revision_of
from incident_response.tools.playbook.decision import RuledOut

if TYPE_CHECKING:
    from incident_response.tools.assess.observation import Observation

RESOURCES = {"statefulset": "statefulsets", "daemonset": "daemonsets"}


def workload_of(seen: Observation, kind: str, name: str) -> dict[str, Any] | None:
    if kind == "deployment":
        return seen.deployment(name)
    return next((w for w in seen.workloads.get(RESOURCES.get(kind, ""), []) if meta(w).name == name), None)


def revisions_of(seen: Observation, kind: str, workload: dict[str, Any]) -> dict[str, int]:
    """Revision number by ReplicaSet (a Deployment's) or ControllerRevision name, as read."""
    if kind == "deployment":
        return {
            str(meta(rs).name): number
            for rs in seen.replicasets
            if owned_by(rs, workload) and (number := revision_of(rs)) is not None
        }
    owned = cr.owned_revisions(workload, seen.workloads.get("controllerrevisions", []))
    return {str(meta(r).name): cr.number(r) for r in owned}


def current_revision(seen: Observation, kind: str, name: str) -> Revision | None:
    """The workload's current revision as an answer records it; None when it was not read."""
    workload = workload_of(seen, kind, name)
    if workload is None:
        return None
    numbers = revisions_of(seen, kind, workload)
    images = tuple(images_of((workload.get("spec") or {}).get("template") or {}))
    if kind == "deployment":
        number = revision_of(workload)
    else:
        owned = cr.owned_revisions(workload, seen.workloads.get("controllerrevisions", []))
        current = cr.current_revision(workload, owned)
        number = cr.number(current) if current is not None else None
    template = next((t for t, n in numbers.items() if n == number), None) if number is not None else None
    return Revision(number, template, images)


def ruled_out(seen: Observation, found: list[Ruling]) -> dict[str, RuledOut]:
    """ "kind/name" -> the answer ruling out the rollback the assessment would propose: to the known-good revision it
    picked (Facts.rollback_targets), else to the one before the current one, when that is older than the answered
    revision (always so while the answered revision is the current one; after a fix rolled forward, a known-good
    target before the answered revision still is)."""
    result: dict[str, RuledOut] = {}
    for ruling in found:
        if not ruling.rules_out:
            continue
        key = f"{ruling.kind}/{ruling.name}"
        workload = workload_of(seen, ruling.kind, ruling.name)
        now = current_revision(seen, ruling.kind, ruling.name) if workload is not None else None
        if workload is None or now is None or now.number is None:
            continue
        numbers = revisions_of(seen, ruling.kind, workload)
        answered = ruling.number_now(numbers)
        picked = seen.facts.rollback_targets.get(key)
        target = picked[0] if picked else max((n for n in numbers.values() if n < now.number), default=None)
        if answered is not None and target is not None and target < answered:
            result[key] = RuledOut(ruling.said(), dict(ruling.answers), ruling.undo_call(), answered)
    return result


def with_rulings(seen: Observation, found: list[Ruling]) -> Observation:
    """The observation with the human's standing answers in its facts."""
    barred = ruled_out(seen, found)
    if not barred:
        return seen
    return replace(seen, facts=replace(seen.facts, ruled_out=barred))

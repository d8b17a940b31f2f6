"""The facts evaluate_decision's ROLLBACK tree needs about a StatefulSet or DaemonSet, read once: its revisions,
when the current one rolled out, how long the one before served and whether pods still run it.

Layer: tools.decide.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from incident_response.tools.core import errors
from incident_response.tools.engine.mount_reads import read_mount_failures
from incident_response.tools.k8s import controller_revisions as cr
from incident_response.tools.k8s.quantity import human_age, parse_time
from incident_response.tools.k8s.workloads import images_of, owned_by
from incident_response.tools.kube.client import Kube
from incident_response.tools.playbook.config_failures import shared_failure
from incident_response.tools.playbook.decision import Decision
from incident_response.tools.playbook.known_good import known_good_revision, known_good_workload_instead
from incident_response.tools.playbook.trees_rollback import SafetyCheck
from incident_response.tools.playbook.trees_workload import WorkloadRollbackFacts
from incident_response.tools.playbook.workload_rollback_checks import update_strategy_item

KINDS = ("statefulset", "daemonset")


def workload_target(picked: Decision, workloads: dict[str, str], named: str | None) -> tuple[str, str] | None:
    """(kind, name) when the caller names a StatefulSet or DaemonSet, or the assessment points at one."""
    if named is not None:
        kind = workloads.get(named)
        return (kind, named) if kind is not None else None
    target = picked.target or ""
    kind, _, name = target.partition("/")
    return (kind, name) if kind in KINDS and name else None


def _created(obj: dict[str, Any]) -> datetime | None:
    return parse_time((obj.get("metadata") or {}).get("creationTimestamp"))


def workload_rollback_facts(
    kube: Kube, namespace: str, kind: str, name: str, to_revision: int | None, now: datetime
) -> WorkloadRollbackFacts:
    workload = kube.get(cr.RESOURCE[kind], name, namespace)
    selector = cr.workload_selector(workload)
    owned = cr.owned_revisions(workload, kube.list("controllerrevisions", namespace, label_selector=selector).items)
    pods = kube.list("pods", namespace, label_selector=selector).items
    current = cr.current_revision(workload, owned)
    images = ", ".join(images_of((workload.get("spec") or {}).get("template") or {}))
    minutes: int | None = None
    rollout_evidence = [f"{kind} {name}'s template matches none of its revisions"]
    if current is not None:
        created = _created(current)
        newer = [r for r in owned if (when := _created(r)) is not None and created is not None and when > created]
        if created is not None and not newer:
            seconds = max(0, int((now - created).total_seconds()))
            minutes = seconds // 60
            rollout_evidence = [
                f"revision {cr.number(current)} of {name} ({images}) rolled out {human_age(seconds)} ago"
            ]
        else:
            rollout_evidence = [f"revision {cr.number(current)} of {name} is an older one reused (a rollback)"]
    instead_of_default = None
    if to_revision is None:
        mine = [p for p in pods if owned_by(p, workload)]
        instead_of_default = known_good_workload_instead(kind, workload, owned, mine, now)
        if instead_of_default is not None:
            to_revision = instead_of_default.revision  # the known-good revision, not kubectl's default
    try:
        target = cr.pick_revision(kind, workload, owned, to_revision)
    except errors.InvalidArgument:
        if to_revision is not None:
            raise
        target = None
    facts = WorkloadRollbackFacts(
        kind=kind,
        name=name,
        current_revision=cr.number(current) if current is not None else None,
        minutes_since_rollout=minutes,
        rollout_evidence=rollout_evidence,
        target_revision=cr.number(target) if target is not None and target is not current else None,
    )
    if target is None or target is current:
        return facts
    known = known_good_revision(kind, target, owned, [p for p in pods if owned_by(p, workload)], now)
    facts.target_known = SafetyCheck(known.status, known.detail, known.evidence, known.questions)
    if instead_of_default is not None:
        facts.target_evidence.append(
            f"revision {instead_of_default.revision}, not the one kubectl rollout undo picks: {instead_of_default.why}"
        )
    key = cr.pod_revision_key(kind, target)
    serving = [
        p for p in pods if ((p.get("metadata") or {}).get("labels") or {}).get(cr.REVISION_HASH) == key and cr.ready(p)
    ]
    facts.target_still_serving = len(serving)
    start = _created(target)
    successor = min(
        (when for r in owned if cr.number(r) > cr.number(target) and (when := _created(r)) is not None),
        default=None,
    )
    target_images = ", ".join(images_of(cr.template_of(target)))
    if start is not None and successor is not None:
        served = human_age(int((successor - start).total_seconds()))
        facts.target_evidence.append(f"revision {cr.number(target)} ({target_images}) served {served} before the next")
    if serving:
        facts.target_evidence.append(f"{len(serving)} pods still run revision {cr.number(target)} and are Ready")
    mine = [p for p in pods if owned_by(p, workload)]
    shared = shared_failure(mine, cr.template_of(target), cr.number(target), read_mount_failures(kube, namespace, mine))
    if shared is not None and shared.status == "warning":  # check_rollback_safety's config warning, same words
        facts.shared_config = SafetyCheck("warning", shared.detail, shared.evidence)
    if kind == "statefulset":
        facts.claims = cr.claim_names(workload)
        facts.stuck = cr.stuck_pods(workload, pods, target)
    strategy = update_strategy_item(kind, workload, target, [p for p in pods if owned_by(p, workload)])
    if strategy.status == "warning":
        facts.strategy.append(strategy.detail)
    return facts

"""check_rollback_safety for every kind: a Deployment's checks are in rollback_safety; a StatefulSet's or DaemonSet's
are here, on its ControllerRevisions.

The same five checks (a revision to return to, it was good, its images pull, migrations, state) plus how the
controller carries the rollback out (update_strategy): a StatefulSet one pod at a time from the highest ordinal,
held by a pod that never got Ready, limited by a partition; a DaemonSet node by node; either kind with OnDelete not
at all until pods are deleted. A StatefulSet's claims keep the newer revision's data whatever the template says.
Reads only.

Layer: tools.assess.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import Field

from incident_response.tools.assess.answered_safety import with_answers
from incident_response.tools.assess.rollback_safety import (
    Observed,
    RollbackSafety,
    SafetyVerdict,
    check_first,
    helm_note,
    helm_release_of,
    image_item,
    observe_rollback,
    observed_with,
    safety_of,
    summary_of,
    verdict_of,
    workload_pods,
)
from incident_response.tools.core import errors
from incident_response.tools.engine.deps import Deps
from incident_response.tools.engine.mount_reads import read_mount_failures
from incident_response.tools.engine.reads import rollback_reads
from incident_response.tools.engine.rollback_answers import rulings
from incident_response.tools.k8s import controller_revisions as cr
from incident_response.tools.k8s.pod_templates import same_pod_template
from incident_response.tools.k8s.quantity import human_age, parse_time
from incident_response.tools.k8s.views import meta
from incident_response.tools.k8s.workloads import RECENT_ROLLOUT_SECONDS, images_of, owned_by, revision_of
from incident_response.tools.kube.client import Kube
from incident_response.tools.playbook.config_checks import revision_config
from incident_response.tools.playbook.config_failures import shared_failure
from incident_response.tools.playbook.known_good import (
    known_good_revision,
    known_good_workload_instead,
    successor_created,
)
from incident_response.tools.playbook.no_rollback import instead
from incident_response.tools.playbook.rollback_checks import (
    MIGRATION_LEAD,
    SafetyItem,
    capped,
    config_item,
    job_signs,
    migrations_item,
    template_signs,
)
from incident_response.tools.playbook.workload_rollback_checks import (
    daemonset_state_item,
    pods_at,
    statefulset_claims_item,
    update_strategy_item,
)

Kind = Literal["deployment", "statefulset", "daemonset"]
RESOURCES: dict[str, str] = {"deployment": "deployments", **cr.RESOURCE}


def check_rollback_safety(
    deps: Deps,
    namespace: Annotated[str, Field(description="Namespace of the workload.")],
    deployment: Annotated[
        str, Field(description="Deployment name (or the StatefulSet's or DaemonSet's, with `kind`).")
    ],
    to_revision: Annotated[
        int | None, Field(description="Revision to check; default the previous one, as kubectl rollout undo.", ge=1)
    ] = None,
    kind: Annotated[
        Kind,
        Field(description="The workload's kind; StatefulSets and DaemonSets keep revisions in ControllerRevisions."),
    ] = "deployment",
) -> RollbackSafety:
    """Run the pre-rollback safety checks for a deployment, StatefulSet or DaemonSet (previous revision kept and known
    good, images pullable, migrations, state; for the latter two how the rollout will proceed) and answer CLEAR,
    CHECK_FIRST or BLOCKED. Use it before rollback_deployment or rollback_workload. Reads only."""
    kube = deps.kube
    try:
        if kind == "deployment":
            seen = observe_rollback(kube, namespace, deployment)
            numbers = {str(meta(rs).name): n for rs in seen.owned if (n := revision_of(rs)) is not None}
            checked = safety_of(kube, namespace, seen, to_revision)
            return with_answers(checked, rulings(deps, namespace), kind, numbers)
        return with_answers(
            workload_safety(kube, namespace, kind, deployment, to_revision), rulings(deps, namespace), kind, {}
        )
    except errors.NotFound as e:
        raise errors.InvalidArgument(not_found(kube, namespace, kind, deployment)) from e


def not_found(kube: Kube, namespace: str, kind: str, name: str) -> str:
    """What to do when the workload is not there: the kind it is, if it is another one."""
    for other, resource in RESOURCES.items():
        if other == kind:
            continue
        try:
            kube.get(resource, name, namespace)
        except errors.KubeError:
            continue
        return f"no {kind} {name!r} in namespace {namespace}, but there is a {other}: pass kind={other!r}"
    return (
        f"no {kind} {name!r} in namespace {namespace}; check the name and kind (assess_namespace lists what runs there)"
    )


def workload_safety(
    kube: Kube, namespace: str, kind: cr.WorkloadKind, name: str, to_revision: int | None
) -> RollbackSafety:
    workload = kube.get(cr.RESOURCE[kind], name, namespace)
    selector = cr.workload_selector(workload)
    revisions = kube.list("controllerrevisions", namespace, label_selector=selector).items
    seen = observed_with(kube, namespace, workload, revisions, workload_pods(kube, namespace, selector))
    return judge(kube, namespace, kind, seen, to_revision)


def judge(kube: Kube, namespace: str, kind: cr.WorkloadKind, seen: Observed, to_revision: int | None) -> RollbackSafety:
    """The checks and verdict on what was read."""
    workload = seen.deployment
    name = str(meta(workload).name)
    owned = cr.owned_revisions(workload, seen.owned)
    pods = [p for p in seen.pods if owned_by(p, workload)]
    current = cr.current_revision(workload, owned)
    current_number = cr.number(current) if current is not None else None
    template = (workload.get("spec") or {}).get("template") or {}
    target, previous = choose_revision(kind, workload, owned, current, pods, to_revision, seen.now)
    items = [previous]
    target_number = cr.number(target) if target is not None else None
    if target is not None and target_number is not None:
        replaced = successor_created(target, owned)
        items += [
            known_good_revision(kind, target, owned, pods, seen.now),
            image_item(images_of(cr.template_of(target)), target_number, seen),
        ]
        reads = rollback_reads(kube, namespace, workload, pods)
        signs = template_signs(template, cr.template_of(target), current_number, target_number)
        since = replaced - MIGRATION_LEAD if replaced is not None else None
        signs += job_signs(reads.jobs or [], workload, since, seen.now)
        items.append(
            migrations_item(signs, current_number, target_number, since, reads.jobs is not None, reads.jobs_truncated)
        )
        if kind == "statefulset":
            items.append(statefulset_claims_item(workload, reads.labelled_claims, current_number, target_number))
        else:
            items.append(daemonset_state_item(workload, reads.labelled_claims, current_number, target_number))
        items.append(update_strategy_item(kind, workload, target, pods))
        changed = revision_config(
            template,
            cr.template_of(target),
            target_number,
            parse_time(meta(target).creation_timestamp),
            reads.configmaps,
            seen.now,
            (reads.failing_since, rollout_time(current, owned)),
        )
        mounts = read_mount_failures(kube, namespace, pods)
        items += config_item(shared_failure(pods, cr.template_of(target), target_number, mounts), changed)
    verdict = verdict_of(items)
    rolled_out = rollout_time(current, owned)
    age = int((seen.now - rolled_out).total_seconds()) if rolled_out is not None else None
    result = RollbackSafety(
        summary="",
        namespace=namespace,
        deployment=name,
        kind=kind,
        current_revision=current_number,
        target_revision=target_number,
        target_replicaset=meta(target).name if target is not None else None,
        revisions_kept=[cr.number(r) for r in owned],
        current_images=images_of(template),
        target_images=images_of(cr.template_of(target)) if target is not None else [],
        current_rolled_out=human_age(max(age, 0)) if age is not None else None,
        recent_rollout=age <= RECENT_ROLLOUT_SECONDS if age is not None else None,
        verdict=verdict,
        items=items,
        questions_for_human=list(dict.fromkeys(q for item in items for q in item.questions)),
        helm_release=helm_release_of(workload),
        next_step=next_step(verdict, items, namespace, kind, name, target_number, pods),
    )
    if result.helm_release is not None and verdict != "BLOCKED":
        result.next_step += f". Note: {helm_note(namespace, name, result.helm_release, kind)}"
    result.summary = summary_of(result)
    return result


def _created(obj: dict[str, Any] | None) -> datetime | None:
    return parse_time(meta(obj).creation_timestamp) if obj is not None else None


def rollout_time(current: dict[str, Any] | None, owned: list[dict[str, Any]]) -> datetime | None:
    """When the current revision rolled out: its creation, if no revision is newer (a rollback reuses an old one,
    whose creation says nothing of when it became current again)."""
    created = _created(current)
    if created is None or any((when := _created(r)) is not None and when > created for r in owned):
        return None
    return created


def _revision_line(
    kind: str, revision: dict[str, Any], current: dict[str, Any] | None, pods: list[Any], now: datetime
) -> str:
    created = _created(revision)
    age = (
        f"created {human_age(int((now - created).total_seconds()))} ago" if created is not None else "creation unknown"
    )
    running = len(pods_at(kind, revision, pods))
    return (
        f"revision {cr.number(revision)}: controllerrevision/{meta(revision).name} "
        f"{', '.join(images_of(cr.template_of(revision)))}, {age}, {running} pods"
        + (" (current template)" if revision is current else "")
    )


def choose_revision(
    kind: str,
    workload: dict[str, Any],
    owned: list[dict[str, Any]],
    current: dict[str, Any] | None,
    pods: list[dict[str, Any]],
    to_revision: int | None,
    now: datetime,
) -> tuple[dict[str, Any] | None, SafetyItem]:
    """kubectl's choice of revision (an unknown `to_revision` raises InvalidArgument listing the kept ones)."""
    name = meta(workload).name
    evidence = capped([_revision_line(kind, r, current, pods, now) for r in reversed(owned)])
    if to_revision is None and len(owned) < 2:
        kept = ", ".join(str(cr.number(r)) for r in owned) or "none"
        detail = (
            f"{kind} {name} keeps no earlier revision (revisions kept: {kept}): a rollback has nowhere to go; "
            f"instead, {instead(str(meta(workload).namespace or ''), kind, str(name), pods)}"
        )
        return None, SafetyItem(check="previous_revision", status="blocking", detail=detail, evidence=evidence)
    instead_of_default = known_good_workload_instead(kind, workload, owned, pods, now) if to_revision is None else None
    if instead_of_default is not None:
        target = instead_of_default.replicaset
    else:
        target = cr.pick_revision(kind, workload, owned, to_revision)
    number = cr.number(target)
    template = (workload.get("spec") or {}).get("template") or {}
    if target is current or same_pod_template(cr.template_of(target), template):
        detail = f"{kind} {name} already runs revision {number}'s pod template: rolling back to it changes nothing"
        return target, SafetyItem(check="previous_revision", status="blocking", detail=detail, evidence=evidence)
    if instead_of_default is not None:
        # kubectl's default is the second-newest revision, whatever it was: name the known-good one instead.
        detail = (
            f"revision {number} (controllerrevision/{meta(target).name}) is the target, not the one kubectl rollout "
            f"undo picks: {instead_of_default.why}. Pass to_revision={number}"
        )
        return target, SafetyItem(check="previous_revision", status="ok", detail=detail, evidence=evidence)
    how = "the one kubectl rollout undo picks" if to_revision is None else "the revision asked for"
    detail = f"revision {number} (controllerrevision/{meta(target).name}) is kept: {how}"
    return target, SafetyItem(check="previous_revision", status="ok", detail=detail, evidence=evidence)


def next_step(
    verdict: SafetyVerdict,
    items: list[SafetyItem],
    namespace: str,
    kind: str,
    name: str,
    target: int | None,
    pods: list[dict[str, Any]] | None = None,
) -> str:
    call = f"rollback_workload(namespace={namespace!r}, kind={kind!r}, workload={name!r}, to_revision={target})"
    history = f"rollout_history with kind={kind!r}"
    if verdict == "BLOCKED":
        if any(i.check == "previous_revision" and i.status == "blocking" for i in items):
            if target is None:
                return f"do not roll back (nowhere to go); instead, {instead(namespace, kind, name, pods or [])}"
            return f"revision {target} is what runs now: pick another revision ({history}) and check again"
        return f"do not roll back to this revision: pick an older one with to_revision ({history}), or isolate"
    if verdict == "CHECK_FIRST":
        return check_first(items, call)
    return f"plan {call}; show the human questions_for_human before confirming"

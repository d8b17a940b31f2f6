"""Is a revision known to be good? One answer for check_rollback_safety, evaluate_decision, assess_namespace and
rollback_deployment, for Deployments, StatefulSets and DaemonSets alike.

A revision whose pods still serve is evidence it works; one that served an hour or more before it was replaced, with
none of its pods failing now, too. One that ran for seconds (a first bad deploy replaced by a "fix") shows nothing.
kubectl rollout undo picks the revision before the current one whatever it was; when that one is not known good and
an older one is, the older one is the rollback's target (to_revision).

Layer: tools.playbook.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from incident_response.tools.core.plan_warnings import PlanWarning, warning
from incident_response.tools.k8s import controller_revisions as cr
from incident_response.tools.k8s.podstatus import containers_ready, kubectl_status, restart_count
from incident_response.tools.k8s.quantity import age_seconds, human_age, parse_time
from incident_response.tools.k8s.views import meta
from incident_response.tools.k8s.workloads import owned_by, revision_of
from incident_response.tools.playbook.rollback_checks import SafetyItem, capped, replaced_at
from incident_response.tools.playbook.workload_rollback_checks import pods_at

# A revision that served less than this before being replaced has not shown it is good.
KNOWN_GOOD_SECONDS = 3600
# A doubtful revision's instruction, in a plan warning's brief (tools/core/plan_warnings.py).
OLDER = "check older revisions, pass to_revision"
# STATUS values of a pod on its way up or out: not evidence that its revision is bad.
TRANSIENT = {"Pending", "ContainerCreating", "PodInitializing", "Terminating"}


def _age(value: Any, now: datetime) -> str:
    return human_age(age_seconds(value, now))


def pods_of(replicaset: dict[str, Any], pods: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [pod for pod in pods if owned_by(pod, replicaset)]


def pod_line(pod: dict[str, Any]) -> str:
    ready, total = containers_ready(pod)
    return f"pod/{pod['metadata']['name']} {kubectl_status(pod)} {ready}/{total} ready, {restart_count(pod)} restarts"


def known_good(
    target: dict[str, Any], owned: list[dict[str, Any]], pods: list[dict[str, Any]], now: datetime
) -> SafetyItem:
    """Whether the revision `target` (a ReplicaSet among `owned`) is known to be good: its pods serve now, or it served
    an hour or more before it was replaced and none of its pods fail now. A warning when it ran only briefly or its
    pods fail; not_visible when the cluster does not show how long it ran."""
    number = revision_of(target)
    rs_name = target["metadata"]["name"]
    mine = pods_of(target, pods)
    ready_now, failing = [], []
    for pod in mine:
        status = kubectl_status(pod)
        ready, total = containers_ready(pod)
        if status == "Running" and ready == total:
            ready_now.append(pod)
        elif status not in TRANSIENT and not re.fullmatch(r"Init:\d+/\d+", status):
            failing.append(pod)
    created = parse_time(target["metadata"].get("creationTimestamp"))
    subject = f"replicaset/{rs_name} created {_age(target['metadata'].get('creationTimestamp'), now)} ago"
    return served_verdict(number, subject, created, replaced_at(target, owned), mine, ready_now, failing, now)


def served_verdict(
    number: int | None,
    subject: str,
    created: datetime | None,
    replaced: datetime | None,
    mine: list[dict[str, Any]],
    ready_now: list[dict[str, Any]],
    failing: list[dict[str, Any]],
    now: datetime,
    older: str = "rollout_history",
) -> SafetyItem:
    """known_good for any kind, once its pods are sorted: `created`/`replaced` date the revision (replaced before
    created: a rollback reused an older revision as the next one), `subject` opens the evidence, `older` is the read
    that lists older revisions."""
    evidence = [subject]
    at_most = None
    if replaced is not None and created is not None and replaced < created:
        # A rollback made an older revision the next one: when this one stopped serving is not recorded, only that
        # it served no longer than it has existed.
        replaced, at_most = None, int((now - created).total_seconds())
        evidence.append(
            "the next revision reused an older one (a rollback): when this one was replaced is not recorded"
        )
    if replaced is not None:
        evidence.append(f"replaced by the next revision {human_age(int((now - replaced).total_seconds()))} ago")
    evidence += [pod_line(p) for p in failing[:3]] + [pod_line(p) for p in ready_now[:3]]
    # Pods a stuck rollout kept are still serving: the revision's service runs until now.
    end = now if ready_now else replaced
    served = int((end - created).total_seconds()) if end is not None and created is not None else None
    if mine:
        evidence.append(f"{len(ready_now)} of its {len(mine)} pods are Running and Ready now")
    else:
        evidence.append(f"no pod of revision {number} runs now")
    if failing:
        detail = (
            f"{len(failing)} of revision {number}'s pods are failing now; it may be bad too: check older revisions "
            f"({older}) and pass to_revision"
        )
        item = SafetyItem(check="known_good", status="warning", detail=detail, evidence=capped(evidence))
        return item.briefly(f"{len(failing)} of revision {number}'s pods fail now; {OLDER}")
    ran = served if served is not None else at_most
    if ran is not None and ran < KNOWN_GOOD_SECONDS and not ready_now:
        how = (
            f"served only {human_age(ran)} before it was replaced"
            if served is not None
            else f"served at most {human_age(ran)} (it was created then) before a rollback replaced it"
        )
        return SafetyItem(
            check="known_good",
            status="warning",
            detail=f"revision {number} {how}; that does not show it was good: check older revisions ({older}) "
            "and pass to_revision",
            evidence=capped(evidence),
            questions=[f"Was revision {number} healthy in the {human_age(ran)} it ran?"],
        ).briefly(f"revision {number} served {'' if served is not None else 'at most '}{human_age(ran)}; {OLDER}")
    return served_item(number, served, ready_now, evidence)


def served_item(
    number: int | None, served: int | None, ready_now: list[dict[str, Any]], evidence: list[str]
) -> SafetyItem:
    """known_good once a too-short run is ruled out: not visible when the cluster does not show how long the revision
    served, else ok with what shows it worked (pods still serving, or none failing now)."""
    if served is None:
        return SafetyItem(
            check="known_good",
            status="not_visible",
            detail=f"the cluster does not show how long revision {number} ran or whether it worked",
            evidence=capped(evidence),
            questions=[f"Did revision {number} work when it last ran?"],
        )
    detail = f"revision {number} served {human_age(served)}" + (
        f" and {len(ready_now)} of its pods are still Running and Ready (the rollout has not replaced them)"
        if ready_now
        else " before it was replaced, and none of its pods fail now"
    )
    brief = f"revision {number} served {human_age(served)}" + (
        f", {len(ready_now)} pods still Ready" if ready_now else ", none failing now"
    )
    return SafetyItem(check="known_good", status="ok", detail=detail, evidence=capped(evidence)).briefly(brief)


@dataclass
class KnownGood:
    """The revision to roll back to instead of kubectl's default, and why."""

    replicaset: dict[str, Any]  # or a StatefulSet's/DaemonSet's ControllerRevision
    revision: int
    why: str  # "revision 2 served only 3s ...; revision 1 served 3d and 3 of its pods are still Running and Ready"
    brief: str  # the same in a few words: "revision 2 served 3s; revision 1 served 3d, 3 pods still Ready"


def known_good_instead(
    deployment: dict[str, Any], owned: list[dict[str, Any]], pods: list[dict[str, Any]], now: datetime
) -> KnownGood | None:
    """When the revision kubectl rollout undo would pick (the one before the current) ran only briefly or its pods fail
    now, the newest older revision that is known good; None when the default is fine or none older is known good."""
    current = revision_of(deployment)
    kept = sorted(
        ((number, rs) for rs in owned if (number := revision_of(rs)) is not None and number != current),
        key=lambda pair: -pair[0],
    )
    if current is None or not kept or kept[0][0] > current:
        return None
    default_number, default = kept[0]
    doubt = known_good(default, owned, pods, now)
    if doubt.status != "warning":
        return None
    for number, rs in kept[1:]:
        good = known_good(rs, owned, pods, now)
        if good.status == "ok":
            return KnownGood(rs, number, f"{doubt.detail.split(';')[0]}; {good.detail}", briefly(doubt, good))
    return None


def briefly(doubt: SafetyItem, good: SafetyItem) -> str:
    """KnownGood.why in a few words: the doubt's fact (before its instruction), then what shows the other good."""
    return f"{doubt.brief.split(';')[0]}; {good.brief}"


def default_target_warnings(number: int | None, better: KnownGood | None, doubt: SafetyItem) -> list[PlanWarning]:
    """A rollback plan's warning when kubectl's default target (revision `number`) is not known good: use the
    known-good `better` instead, or (none older known good) check older revisions; none when `doubt` found none."""
    if better is not None:
        return [
            warning(
                "default_target",
                f"{better.brief}: use to_revision={better.revision}, not kubectl's default {number}",
                f"revision {number} is kubectl's default target but not known to be good ({better.why}): plan again "
                f"with to_revision={better.revision} to go back to the known-good revision",
            )
        ]
    if doubt.status != "warning":
        return []
    return [warning("known_good", doubt.brief, f"revision {number} is not known to be good: {doubt.detail}")]


# --- StatefulSets and DaemonSets: their revisions are ControllerRevisions, their pods carry the revision's hash ----


def _created(obj: dict[str, Any] | None) -> datetime | None:
    return parse_time(meta(obj).creation_timestamp) if obj is not None else None


def successor_created(target: dict[str, Any], owned: list[dict[str, Any]]) -> datetime | None:
    """When the revision after `target` was created: when `target` stopped being the one rolled out."""
    later = [r for r in owned if cr.number(r) > cr.number(target)]
    if not later:
        return None
    return _created(min(later, key=cr.number))


def known_good_revision(
    kind: str, target: dict[str, Any], owned: list[dict[str, Any]], pods: list[dict[str, Any]], now: datetime
) -> SafetyItem:
    """known_good of a StatefulSet's or DaemonSet's revision (a ControllerRevision among `owned`)."""
    number = cr.number(target)
    mine = [p for p in pods_at(kind, target, pods) if not meta(p).deletion_timestamp]
    ready_now = [p for p in mine if cr.ready(p)]
    failing = [
        p
        for p in mine
        if not cr.ready(p)
        and kubectl_status(p) not in TRANSIENT
        and not re.fullmatch(r"Init:\d+/\d+", kubectl_status(p))
    ]
    created = _created(target)
    subject = f"controllerrevision/{meta(target).name} created " + (
        f"{human_age(int((now - created).total_seconds()))} ago" if created is not None else "at an unknown time"
    )
    replaced = successor_created(target, owned)
    older = f"rollout_history with kind={kind}"
    return served_verdict(number, subject, created, replaced, mine, ready_now, failing, now, older)


def known_good_workload_instead(
    kind: str, workload: dict[str, Any], owned: list[dict[str, Any]], pods: list[dict[str, Any]], now: datetime
) -> KnownGood | None:
    """known_good_instead for a StatefulSet or DaemonSet: `owned` its ControllerRevisions oldest first (kubectl's
    default target is the second-newest), `pods` the workload's."""
    if len(owned) < 3:
        return None
    current = cr.current_revision(workload, owned)
    default = owned[-2]
    if default is current:
        return None
    doubt = known_good_revision(kind, default, owned, pods, now)
    if doubt.status != "warning":
        return None
    for revision in reversed(owned[:-2]):
        if revision is current:
            continue
        good = known_good_revision(kind, revision, owned, pods, now)
        if good.status == "ok":
            why = f"{doubt.detail.split(';')[0]}; {good.detail}"
            return KnownGood(revision, cr.number(revision), why, briefly(doubt, good))
    return None


def by_controller(objects: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    """Objects under the uid of their controlling owner."""
    out: dict[str, list[dict[str, Any]]] = {}
    for obj in objects:
        for ref in meta(obj).owner_references:
            if ref.get("controller"):
                out.setdefault(str(ref.get("uid")), []).append(obj)
    return out


def known_good_targets(
    deployments: list[dict[str, Any]],
    replicasets: list[dict[str, Any]],
    workloads: dict[str, list[dict[str, Any]]],
    pods: list[dict[str, Any]],
    rolled_out: set[tuple[str, str]],
    now: datetime,
) -> dict[str, tuple[int, str]]:
    """ "kind/name" -> (revision, why) for the workloads in `rolled_out` ((kind, name) pairs) whose rollback should not
    go where kubectl's default would: Deployments with their ReplicaSets, StatefulSets and DaemonSets (`workloads`:
    resource -> objects, with "controllerrevisions") with their ControllerRevisions."""
    found: dict[str, tuple[int, str]] = {}
    if not rolled_out:
        return found
    # Each object under its controller's uid, once: a namespace of thousands of pods is not scanned per rollout.
    sets, controlled = by_controller(replicasets), by_controller(pods)
    for deployment in deployments:
        name = str(meta(deployment).name)
        if ("deployment", name) not in rolled_out:
            continue
        owned = sets.get(str(meta(deployment).uid), [])
        mine = [pod for rs in owned for pod in controlled.get(str(meta(rs).uid), [])]
        if (better := known_good_instead(deployment, owned, mine, now)) is not None:
            found[f"deployment/{name}"] = (better.revision, better.why)
    for kind, resource in (("statefulset", "statefulsets"), ("daemonset", "daemonsets")):
        for workload in workloads.get(resource, []):
            name = str(meta(workload).name)
            if (kind, name) not in rolled_out:
                continue
            revisions = cr.owned_revisions(workload, workloads.get("controllerrevisions", []))
            mine = controlled.get(str(meta(workload).uid), [])
            if (better := known_good_workload_instead(kind, workload, revisions, mine, now)) is not None:
                found[f"{kind}/{name}"] = (better.revision, better.why)
    return found

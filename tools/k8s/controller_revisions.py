"""Pure facts about StatefulSets and DaemonSets and their ControllerRevisions: revisions, templates, rollout
progress, the pods a StatefulSet rollback would leave stuck.

A ControllerRevision's `data` is the strategic-merge patch `kubectl rollout undo` sends:
`{"spec": {"template": {"$patch": "replace", ...}}}`; its `revision` is the number `rollout history` shows. A
revision's pods carry `controller-revision-hash`: the revision's name for a StatefulSet, its hash label for a
DaemonSet.

Layer: tools.k8s.
"""

from __future__ import annotations

import copy
from typing import Any, Literal

from pydantic import BaseModel, Field

from incident_response.tools.core import errors
from incident_response.tools.k8s.pod_templates import same_pod_template
from incident_response.tools.k8s.workloads import CHANGE_CAUSE, images_of, owned_by, selector_string

WorkloadKind = Literal["statefulset", "daemonset"]
RESOURCE: dict[str, str] = {"statefulset": "statefulsets", "daemonset": "daemonsets"}
KIND: dict[str, str] = {"statefulset": "StatefulSet", "daemonset": "DaemonSet"}
REVISION_HASH = "controller-revision-hash"


def number(revision: dict[str, Any]) -> int:
    value = revision.get("revision")
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def template_of(revision: dict[str, Any]) -> dict[str, Any]:
    """The pod template a revision records (its data without the `$patch` directive)."""
    data = ((revision.get("data") or {}).get("spec") or {}).get("template") or {}
    return {k: copy.deepcopy(v) for k, v in data.items() if k != "$patch"}


def semantic(value: Any) -> Any:
    """`value` without nulls, empty maps and empty lists, at any depth: equal templates compare equal however
    they were encoded (apimachinery's Semantic.DeepEqual ignores the same)."""
    if isinstance(value, dict):
        out = {k: semantic(v) for k, v in value.items()}
        return {k: v for k, v in out.items() if v is not None and v != {} and v != []}
    if isinstance(value, list):
        return [semantic(v) for v in value]
    return value


def same_template(a: dict[str, Any], b: dict[str, Any]) -> bool:
    """Whether two templates run the same pods (defaults, hash labels and set-list order aside)."""
    return same_pod_template(a, b)


def workload_selector(workload: dict[str, Any]) -> str | None:
    return selector_string((workload.get("spec") or {}).get("selector")) or None


def owned_revisions(workload: dict[str, Any], revisions: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The workload's revisions, oldest first (kubectl keeps those it controls among the selector's matches)."""
    return sorted((r for r in revisions if owned_by(r, workload)), key=number)


def current_revision(workload: dict[str, Any], owned: list[dict[str, Any]]) -> dict[str, Any] | None:
    """The revision of the workload's template now: the newest one recording it."""
    template = (workload.get("spec") or {}).get("template") or {}
    matching = [r for r in owned if same_template(template_of(r), template)]
    return max(matching, key=number) if matching else None


def pod_revision_key(kind: str, revision: dict[str, Any]) -> str:
    """What this revision's pods carry in controller-revision-hash."""
    metadata = revision.get("metadata") or {}
    if kind == "statefulset":
        return str(metadata.get("name"))
    return str((metadata.get("labels") or {}).get(REVISION_HASH, ""))


class WorkloadRevision(BaseModel):
    revision: int
    name: str = Field(description="The ControllerRevision's name.")
    images: list[str]
    change_cause: str | None
    created: str | None
    current: bool
    pods: int = Field(description="Pods of the workload running this revision now.")


def revision_rows(
    kind: str, workload: dict[str, Any], revisions: list[dict[str, Any]], pods: list[dict[str, Any]]
) -> list[WorkloadRevision]:
    """The workload's revisions, newest first, as `kubectl rollout history` lists them (plus images and pods)."""
    owned = owned_revisions(workload, revisions)
    current = current_revision(workload, owned)
    rows = []
    for revision in owned:
        metadata = revision.get("metadata") or {}
        key = pod_revision_key(kind, revision)
        rows.append(
            WorkloadRevision(
                revision=number(revision),
                name=str(metadata.get("name")),
                images=images_of(template_of(revision)),
                change_cause=(metadata.get("annotations") or {}).get(CHANGE_CAUSE),
                created=metadata.get("creationTimestamp"),
                current=revision is current,
                pods=sum(1 for p in pods if ((p.get("metadata") or {}).get("labels") or {}).get(REVISION_HASH) == key),
            )
        )
    return sorted(rows, key=lambda r: r.revision, reverse=True)


def pick_revision(
    kind: str, workload: dict[str, Any], owned: list[dict[str, Any]], to_revision: int | None
) -> dict[str, Any]:
    """kubectl's choice (findHistory): the given revision, else the second-newest one."""
    name = (workload.get("metadata") or {}).get("name")
    known = ", ".join(str(number(r)) for r in owned) or "none"
    if to_revision is not None:
        for revision in owned:
            if number(revision) == to_revision:
                return revision
        raise errors.InvalidArgument(
            f"{kind} {name} has no revision {to_revision} (revisions kept: {known}); run rollout_history with "
            f"kind={kind}"
        )
    if len(owned) < 2:
        raise errors.InvalidArgument(
            f"{kind} {name} has no previous revision to roll back to (revisions kept: {known}); evaluate_decision "
            "says what fits instead"
        )
    return owned[-2]


def ready(pod: dict[str, Any]) -> bool:
    status = pod.get("status") or {}
    return status.get("phase") == "Running" and any(
        c.get("type") == "Ready" and c.get("status") == "True" for c in status.get("conditions") or []
    )


def stuck_pods(statefulset: dict[str, Any], pods: list[dict[str, Any]], target: dict[str, Any]) -> list[str]:
    """Pods an OrderedReady StatefulSet will not replace after rolling back to `target`: not Running and Ready and
    not at the target revision. The controller waits for every pod to be Ready before it deletes the next one, so
    such a pod blocks the rollback until it is deleted (upstream's "forced rollback")."""
    spec = statefulset.get("spec") or {}
    if spec.get("podManagementPolicy", "OrderedReady") == "Parallel":
        return []
    key = pod_revision_key("statefulset", target)
    stuck = []
    for pod in pods:
        metadata = pod.get("metadata") or {}
        if metadata.get("deletionTimestamp") or not owned_by(pod, statefulset):
            continue
        if (metadata.get("labels") or {}).get(REVISION_HASH) != key and not ready(pod):
            stuck.append(str(metadata.get("name")))
    return sorted(stuck)


def claim_names(statefulset: dict[str, Any]) -> list[str]:
    """The PersistentVolumeClaims a StatefulSet's pods use: <template>-<set>-<ordinal>."""
    spec = statefulset.get("spec") or {}
    name = (statefulset.get("metadata") or {}).get("name")
    replicas = spec.get("replicas", 1)
    count = replicas if isinstance(replicas, int) else 1
    return [
        f"{(claim.get('metadata') or {}).get('name')}-{name}-{ordinal}"
        for claim in spec.get("volumeClaimTemplates") or []
        for ordinal in range(count)
    ]


class WorkloadProgress(BaseModel):
    done: bool
    message: str
    desired: int = 0
    updated: int = 0
    ready: int = 0
    available: int = 0


def counts(kind: str, workload: dict[str, Any]) -> dict[str, int]:
    """desired, updated, ready and available pods, from a StatefulSet's or DaemonSet's status."""
    spec, status = workload.get("spec") or {}, workload.get("status") or {}
    if kind == "daemonset":
        names = ("desiredNumberScheduled", "updatedNumberScheduled", "numberReady", "numberAvailable")
        desired, updated, ready_count, available = (int(status.get(k) or 0) for k in names)
    else:
        replicas = spec.get("replicas", 1)
        desired = replicas if isinstance(replicas, int) else 1
        updated, ready_count, available = (
            int(status.get(k) or 0) for k in ("updatedReplicas", "readyReplicas", "availableReplicas")
        )
    return {"desired": desired, "updated": updated, "ready": ready_count, "available": available}


def rollout_progress(kind: str, workload: dict[str, Any]) -> WorkloadProgress:
    """`kubectl rollout status` for one read of a StatefulSet or DaemonSet (its status viewers), with its counts."""
    return _viewer(kind, workload).model_copy(update=counts(kind, workload))


def _viewer(kind: str, workload: dict[str, Any]) -> WorkloadProgress:
    metadata, spec, status = workload.get("metadata") or {}, workload.get("spec") or {}, workload.get("status") or {}
    name = metadata.get("name")
    strategy = spec.get("updateStrategy") or {}
    if strategy.get("type", "RollingUpdate") != "RollingUpdate":
        return WorkloadProgress(done=True, message="rollout status is only available for RollingUpdate, not OnDelete")
    generation, observed = int(metadata.get("generation") or 0), int(status.get("observedGeneration") or 0)
    if kind == "daemonset":
        if generation > observed:
            return WorkloadProgress(done=False, message="Waiting for daemon set spec update to be observed...")
        desired = int(status.get("desiredNumberScheduled") or 0)
        updated, available = int(status.get("updatedNumberScheduled") or 0), int(status.get("numberAvailable") or 0)
        if updated < desired:
            return WorkloadProgress(
                done=False,
                message=f'Waiting for daemon set "{name}" rollout to finish: {updated} out of {desired} new pods '
                "have been updated...",
            )
        if available < desired:
            return WorkloadProgress(
                done=False,
                message=f'Waiting for daemon set "{name}" rollout to finish: {available} of {desired} updated pods '
                "are available...",
            )
        return WorkloadProgress(done=True, message=f'daemon set "{name}" successfully rolled out')
    if observed == 0 or generation > observed:
        return WorkloadProgress(done=False, message="Waiting for statefulset spec update to be observed...")
    replicas = int(spec.get("replicas", 1))
    ready_count, updated = int(status.get("readyReplicas") or 0), int(status.get("updatedReplicas") or 0)
    if ready_count < replicas:
        return WorkloadProgress(done=False, message=f"Waiting for {replicas - ready_count} pods to be ready...")
    partition = (strategy.get("rollingUpdate") or {}).get("partition")
    if partition is not None:
        if updated < replicas - int(partition):
            return WorkloadProgress(
                done=False,
                message=f"Waiting for partitioned roll out to finish: {updated} out of {replicas - int(partition)} "
                "new pods have been updated...",
            )
        return WorkloadProgress(
            done=True, message=f"partitioned roll out complete: {updated} new pods have been updated..."
        )
    if status.get("updateRevision") != status.get("currentRevision"):
        return WorkloadProgress(
            done=False,
            message=f"waiting for statefulset rolling update to complete {updated} pods at revision "
            f"{status.get('updateRevision')}...",
        )
    return WorkloadProgress(
        done=True,
        message=f"statefulset rolling update complete {status.get('currentReplicas', 0)} pods at revision "
        f"{status.get('currentRevision')}...",
    )

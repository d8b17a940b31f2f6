"""Pure facts about Deployments and their ReplicaSets: revisions, templates, rollout progress.

Layer: tools.k8s.
"""

from __future__ import annotations

import copy
from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field

from incident_response.tools.core import errors
from incident_response.tools.core.masking import mask_args, masked
from incident_response.tools.k8s.quantity import parse_time
from incident_response.tools.k8s.template_diff import other_differences
from incident_response.tools.k8s.views import meta

REVISION = "deployment.kubernetes.io/revision"
REVISION_HISTORY = "deployment.kubernetes.io/revision-history"  # the earlier numbers of a ReplicaSet reused
CHANGE_CAUSE = "kubernetes.io/change-cause"
RECENT_ROLLOUT_SECONDS = 2 * 3600  # the playbook's "recent deployment (last 2 hours)"
STARTING = frozenset({"Pending", "ContainerCreating", "PodInitializing"})  # kubectl's STATUS of a pod on its way up


def selector_string(selector: dict[str, Any] | None) -> str:
    """A LabelSelector object as the label-selector string the API and kubectl take."""
    if not selector:
        return ""
    parts = [f"{k}={v}" for k, v in sorted((selector.get("matchLabels") or {}).items())]
    for expression in selector.get("matchExpressions") or []:
        key, operator, values = expression.get("key"), expression.get("operator"), expression.get("values") or []
        if operator == "In":
            parts.append(f"{key} in ({','.join(values)})")
        elif operator == "NotIn":
            parts.append(f"{key} notin ({','.join(values)})")
        elif operator == "Exists":
            parts.append(str(key))
        elif operator == "DoesNotExist":
            parts.append(f"!{key}")
    return ",".join(parts)


def deployment_selector(deploy: dict[str, Any]) -> str | None:
    """The label selector of a deployment's pods and ReplicaSets, as a list call takes it (None: no selector)."""
    return selector_string((deploy.get("spec") or {}).get("selector")) or None


def revision_of(obj: dict[str, Any]) -> int | None:
    value = (meta(obj).annotations).get(REVISION)
    return int(value) if value is not None and str(value).isdigit() else None


def owned_by(obj: dict[str, Any], owner: dict[str, Any]) -> bool:
    uid = meta(owner).uid
    return any(ref.get("uid") == uid and ref.get("controller") for ref in meta(obj).owner_references)


def images_of(template: dict[str, Any]) -> list[str]:
    spec = template.get("spec") or {}
    return [str(c.get("image")) for c in [*(spec.get("initContainers") or []), *(spec.get("containers") or [])]]


class Revision(BaseModel):
    revision: int
    replicaset: str = Field(
        description="What holds this revision: a Deployment's ReplicaSet, or a StatefulSet's or DaemonSet's "
        "ControllerRevision."
    )
    images: list[str]
    change_cause: str | None
    created: str | None
    current: bool
    replicas: int = Field(description="Pods running this revision now.")


def revisions(deploy: dict[str, Any], replicasets: list[dict[str, Any]]) -> list[Revision]:
    """The deployment's revisions, newest first, from the ReplicaSets it controls."""
    current = revision_of(deploy)
    rows: list[Revision] = []
    for rs in replicasets:
        if not owned_by(rs, deploy):
            continue
        number = revision_of(rs)
        if number is None:
            continue
        metadata = rs.get("metadata") or {}
        rows.append(
            Revision(
                revision=number,
                replicaset=str(metadata.get("name")),
                images=images_of((rs.get("spec") or {}).get("template") or {}),
                change_cause=(metadata.get("annotations") or {}).get(CHANGE_CAUSE),
                created=metadata.get("creationTimestamp"),
                current=number == current,
                replicas=int((rs.get("status") or {}).get("replicas") or 0),
            )
        )
    return sorted(rows, key=lambda r: r.revision, reverse=True)


def current_replicaset(deploy: dict[str, Any], replicasets: list[dict[str, Any]]) -> dict[str, Any] | None:
    current = revision_of(deploy)
    return next((rs for rs in replicasets if owned_by(rs, deploy) and revision_of(rs) == current), None)


def spec_replicaset(deploy: dict[str, Any], replicasets: list[dict[str, Any]]) -> dict[str, Any] | None:
    """The ReplicaSet of the template the spec holds: right after a rollback's write, the controller has not yet
    renumbered the revision brought back (the annotation still names the one undone), but the spec is its template."""
    template = (deploy.get("spec") or {}).get("template")
    same = [
        rs
        for rs in replicasets
        if owned_by(rs, deploy) and (rs.get("spec") or {}).get("template") and template_without_hash(rs) == template
    ]
    return same[0] if len(same) == 1 else current_replicaset(deploy, replicasets)


def rolling_back(deploy: dict[str, Any], replicasets: list[dict[str, Any]], failing: list[str]) -> bool:
    """A rollback still replacing the pods it answered: the current ReplicaSet (of the spec's template) is an older
    one brought back (one created after it exists), and none of the `failing` pods ('NAME STATUS ...' lines) is its
    own but ones still starting. Its revision is no deploy to undo: undoing it would go back to the revision it is
    replacing."""
    rs = spec_replicaset(deploy, replicasets)
    created = parse_time(meta(rs).creation_timestamp) if rs is not None else None
    if rs is None or created is None:
        return False
    newer = [
        when
        for other in replicasets
        if other is not rs
        and owned_by(other, deploy)
        and (when := parse_time(meta(other).creation_timestamp)) is not None
        and when > created
    ]
    own = f"{meta(rs).name}-"
    return bool(newer) and not any(line.startswith(own) and not starting(line) for line in failing)


def starting(line: str) -> bool:
    """'web-1 ContainerCreating (...)': a pod not running yet, on its way up (not failing on its own)."""
    status = line.split(" ", 2)[1] if line.count(" ") >= 1 else ""
    return status in STARTING or status.startswith("Init:") and not status.startswith(("Init:Error", "Init:Crash"))


def rollout_time(deploy: dict[str, Any], replicasets: list[dict[str, Any]]) -> datetime | None:
    """When the current revision began rolling out: its ReplicaSet's creation when that is the newest one; for a
    rollback (an older ReplicaSet reused) the deployment's last Progressing update.

    The condition is not trusted for a new ReplicaSet: a controller may write it only when the deployment starts
    (the simulated one does), which would make a 7-minute-old rollout look seconds old."""
    rs = current_replicaset(deploy, replicasets)
    if rs is None:
        return None
    created = parse_time(meta(rs).creation_timestamp)
    others = [
        parse_time(meta(other).creation_timestamp)
        for other in replicasets
        if other is not rs and owned_by(other, deploy)
    ]
    if created is not None and all(when is None or when <= created for when in others):
        return created
    # A reused ReplicaSet (a rollback) is as old as the revision it first was: the Progressing condition dates the
    # rollout instead. Its lastUpdateTime moves with each reason (progress, then NewReplicaSetAvailable when done);
    # lastTransitionTime moves only when the status flips, which a rollout that keeps progressing never does.
    progressed = None
    for condition in (deploy.get("status") or {}).get("conditions") or []:
        if condition.get("type") == "Progressing" and condition.get("reason") in (
            "ReplicaSetUpdated",
            "NewReplicaSetCreated",
            "FoundNewReplicaSet",
            "NewReplicaSetAvailable",
        ):
            progressed = parse_time(condition.get("lastUpdateTime") or condition.get("lastTransitionTime"))
    candidates = [t for t in (created, progressed) if t is not None]
    return max(candidates) if candidates else None


class RolloutProgress(BaseModel):
    done: bool
    failed: bool
    message: str
    desired: int
    updated: int
    ready: int
    available: int
    unavailable: int
    revision: int | None
    # Pods of every revision (status.replicas); those beyond `updated` are old ones not yet gone.
    replicas: int = 0
    # False while the controller has not yet observed the latest spec: the counts then describe the previous one.
    observed: bool = True


def rollout_progress(deploy: dict[str, Any]) -> RolloutProgress:
    """`kubectl rollout status` for one read of the deployment (its DeploymentStatusViewer logic)."""
    name = meta(deploy).name
    metadata, spec, status = deploy.get("metadata") or {}, deploy.get("spec") or {}, deploy.get("status") or {}
    desired = int(spec.get("replicas", 1))
    updated = int(status.get("updatedReplicas") or 0)
    replicas = int(status.get("replicas") or 0)
    available = int(status.get("availableReplicas") or 0)
    ready = int(status.get("readyReplicas") or 0)
    counts = {
        "desired": desired,
        "updated": updated,
        "ready": ready,
        "available": available,
        "unavailable": int(status.get("unavailableReplicas") or 0),
        "revision": revision_of(deploy),
        "replicas": replicas,
    }
    if int(metadata.get("generation") or 0) > int(status.get("observedGeneration") or 0):
        return RolloutProgress(
            done=False,
            failed=False,
            message="Waiting for deployment spec update to be observed",
            observed=False,
            **counts,
        )
    for condition in status.get("conditions") or []:
        if condition.get("type") == "Progressing" and condition.get("reason") == "ProgressDeadlineExceeded":
            return RolloutProgress(
                done=False, failed=True, message=f"deployment {name!r} exceeded its progress deadline", **counts
            )
    waiting = f"Waiting for deployment {name!r} rollout to finish: "
    if updated < desired:
        message = waiting + f"{updated} out of {desired} new replicas have been updated"
    elif replicas > updated:
        message = waiting + f"{replicas - updated} old replicas are pending termination"
    elif available < updated:
        message = waiting + f"{available} of {updated} updated replicas are available"
    else:
        return RolloutProgress(
            done=True, failed=False, message=f"deployment {name!r} successfully rolled out", **counts
        )
    return RolloutProgress(done=False, failed=False, message=message, **counts)


def container_digest(template: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Per container, the fields an incident cares about; env values only as masks (equal values, equal masks)."""
    digest: dict[str, dict[str, Any]] = {}
    spec = template.get("spec") or {}
    for container in [*(spec.get("initContainers") or []), *(spec.get("containers") or [])]:
        env = {}
        for variable in container.get("env") or []:
            if "valueFrom" in variable:
                env[str(variable.get("name"))] = "from " + ",".join(sorted(variable["valueFrom"]))
            else:
                env[str(variable.get("name"))] = masked(str(variable.get("value", "")))
        digest[str(container.get("name"))] = {
            "image": container.get("image"),
            "command": mask_args(container.get("command") or []) or None,
            "args": mask_args(container.get("args") or []) or None,
            "resources": container.get("resources") or {},
            "env": env,
            "ports": [p.get("containerPort") for p in container.get("ports") or []],
        }
    return digest


def template_differences(current: dict[str, Any], other: dict[str, Any]) -> list[str]:
    """Readable differences between two pod templates, the whole template compared: 'container web image: a ->
    b', 'pod annotation checksum/config: a1 -> b2', 'pod spec volumes: ... -> ...'."""
    before, after = container_digest(current), container_digest(other)
    changes: list[str] = []
    for name in sorted(set(before) | set(after)):
        if name not in after:
            changes.append(f"container {name} only in the current revision")
            continue
        if name not in before:
            changes.append(f"container {name} only in the other revision")
            continue
        changes.extend(
            f"container {name} {key}: {before[name][key]} -> {after[name][key]}"
            for key in ("image", "command", "args", "resources", "ports")
            if before[name][key] != after[name][key]
        )
        env_before, env_after = before[name]["env"], after[name]["env"]
        for variable in sorted(set(env_before) | set(env_after)):
            if env_before.get(variable) != env_after.get(variable):
                state = "added" if variable not in env_before else "removed" if variable not in env_after else "changed"
                changes.append(f"container {name} env {variable} {state}")
    labels_before = {k: v for k, v in (meta(current).labels).items() if k != "pod-template-hash"}
    labels_after = {k: v for k, v in (meta(other).labels).items() if k != "pod-template-hash"}
    if labels_before != labels_after:
        changes.append(f"pod labels: {labels_before} -> {labels_after}")
    return changes + other_differences(current, other)


HASH_LABEL = "pod-template-hash"


def template_without_hash(rs: dict[str, Any]) -> dict[str, Any]:
    template: dict[str, Any] = copy.deepcopy(rs["spec"]["template"])
    labels = (template.get("metadata") or {}).get("labels")
    if labels:
        labels.pop(HASH_LABEL, None)
    return template


def pick_target(deployment: dict[str, Any], owned: list[dict[str, Any]], to_revision: int | None) -> dict[str, Any]:
    """kubectl's choice: the given revision, else the highest revision below the newest one."""
    name = deployment["metadata"]["name"]
    by_revision = {rev: rs for rs in owned if (rev := revision_of(rs)) is not None}
    if to_revision is not None:
        if to_revision not in by_revision:
            known = ", ".join(str(r) for r in sorted(by_revision)) or "none"
            raise errors.InvalidArgument(
                f"deployment {name} has no revision {to_revision} (revisions kept: {known}); run rollout_history"
            )
        return by_revision[to_revision]
    revisions = sorted(by_revision)
    if len(revisions) < 2:
        raise errors.InvalidArgument(
            f"deployment {name} has no previous revision to roll back to (revisions kept: "
            f"{', '.join(map(str, revisions)) or 'none'}); evaluate_decision says what fits instead"
        )
    return by_revision[revisions[-2]]


APP_LABELS = ("app", "app.kubernetes.io/name")


def app_selectors(deployment: dict[str, Any]) -> list[str]:
    """`kubectl get pvc -l app=NAME` as the playbook runs it, widened to the names this deployment goes by."""
    spec = deployment.get("spec") or {}
    pod_labels = ((spec.get("template") or {}).get("metadata") or {}).get("labels") or {}
    match = (spec.get("selector") or {}).get("matchLabels") or {}
    selectors = []
    for key in APP_LABELS:
        names = {str(v) for v in (pod_labels.get(key), match.get(key)) if v}
        if key == "app":
            names.add(str(meta(deployment).name))
        if names:
            selectors.append(f"{key} in ({','.join(sorted(names))})")
    return selectors


def managing_hpa(hpas: list[dict[str, Any]], deployment: str) -> dict[str, Any] | None:
    for hpa in hpas:
        ref = (hpa.get("spec") or {}).get("scaleTargetRef") or {}
        if ref.get("kind") == "Deployment" and ref.get("name") == deployment:
            return hpa
    return None


def current_replicas(deployment: dict[str, Any]) -> int:
    value = (deployment.get("spec") or {}).get("replicas")
    return 1 if value is None else int(value)


def template_spec(deployment: dict[str, Any]) -> dict[str, Any]:
    return dict(((deployment.get("spec") or {}).get("template") or {}).get("spec") or {})


def hpa_bounds(hpa: dict[str, Any]) -> tuple[int, int]:
    spec = hpa.get("spec") or {}
    return int(spec.get("minReplicas") or 1), int(spec.get("maxReplicas") or 1)


def template_claims(deployment: dict[str, Any]) -> list[str]:
    """The PersistentVolumeClaims a deployment's pod template mounts: one claim every replica shares (a
    Deployment has no per-replica claims, unlike a StatefulSet's volumeClaimTemplates)."""
    volumes = template_spec(deployment).get("volumes") or []
    return sorted(
        {
            str(v["persistentVolumeClaim"]["claimName"])
            for v in volumes
            if (v.get("persistentVolumeClaim") or {}).get("claimName")
        }
    )

"""A StatefulSet's or DaemonSet's rollout facts in the shape verify_recovery judges a Deployment's by
(`workloads.RolloutProgress`): desired, updated, ready and available pods, which revision is rolled out, done or not.

Each kind says "done" its own way. A StatefulSet: the controller observed the spec, every replica is Ready, and
updateRevision is currentRevision (with a partition, every ordinal at or above it is updated). A DaemonSet: every
node that should run it runs the newest revision and is available (desiredNumberScheduled, updatedNumberScheduled,
numberAvailable), none misscheduled. With updateStrategy OnDelete nothing rolls until pods are deleted: `waiting`
says so, since waiting alone changes nothing.

Layer: tools.k8s.
"""

from __future__ import annotations

from typing import Any

from incident_response.tools.k8s import controller_revisions as cr
from incident_response.tools.k8s.views import meta
from incident_response.tools.k8s.workloads import RolloutProgress


def _int(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def _revision_named(owned: list[dict[str, Any]], name: Any) -> dict[str, Any] | None:
    return next((r for r in owned if meta(r).name == name), None)


def _number_text(revision: dict[str, Any] | None, fallback: Any) -> str:
    return f"revision {cr.number(revision)}" if revision is not None else f"{fallback or 'an unknown revision'}"


def recovery_progress(kind: str, workload: dict[str, Any], owned: list[dict[str, Any]]) -> RolloutProgress:
    """The rollout facts of one read of the workload and its ControllerRevisions (`owned`, oldest first)."""
    metadata, spec, status = workload.get("metadata") or {}, workload.get("spec") or {}, workload.get("status") or {}
    current = cr.current_revision(workload, owned)
    observed = _int(metadata.get("generation")) <= _int(status.get("observedGeneration"))
    if kind == "daemonset":
        desired = _int(status.get("desiredNumberScheduled"))
        updated, ready = _int(status.get("updatedNumberScheduled")), _int(status.get("numberReady"))
        available, misscheduled = _int(status.get("numberAvailable")), _int(status.get("numberMisscheduled"))
        scheduled = _int(status.get("currentNumberScheduled"))
        done = observed and updated == desired == available == scheduled and not misscheduled
        message = (
            f"daemon set: {desired} nodes should run it, {scheduled} do, {updated} at {_number_text(current, None)}, "
            f"{ready} ready, {available} available" + (f", {misscheduled} misscheduled" if misscheduled else "")
        )
        unavailable = _int(status.get("numberUnavailable"))
    else:
        replicas = spec.get("replicas", 1)
        desired = replicas if isinstance(replicas, int) else 1
        updated, ready = _int(status.get("updatedReplicas")), _int(status.get("readyReplicas"))
        available = _int(status.get("availableReplicas"))
        partition = _int(((spec.get("updateStrategy") or {}).get("rollingUpdate") or {}).get("partition"))
        update_name, current_name = status.get("updateRevision"), status.get("currentRevision")
        rolled = update_name == current_name or (partition > 0 and updated >= desired - partition)
        done = observed and ready == desired and rolled
        update_rev, current_rev = _revision_named(owned, update_name), _revision_named(owned, current_name)
        message = (
            f"statefulset: {ready}/{desired} ready; updateRevision {update_name} ({_number_text(update_rev, None)}) "
            f"on {updated} pods, currentRevision {current_name} ({_number_text(current_rev, None)}) on "
            f"{_int(status.get('currentReplicas'))}" + (f"; partition {partition}" if partition else "")
        )
        unavailable = max(desired - available, 0)
    if not observed:
        message = f"waiting for the {kind} spec update to be observed; " + message
    strategy = (spec.get("updateStrategy") or {}).get("type")
    if strategy == "OnDelete" and updated < desired:
        message += f"; OnDelete: {desired - updated} pods keep their old revision until deleted"
    return RolloutProgress(
        done=done,
        failed=False,
        message=message,
        desired=desired,
        updated=updated,
        ready=ready,
        available=available,
        unavailable=unavailable,
        revision=cr.number(current) if current is not None else None,
        replicas=desired,
        observed=observed,
    )


def waiting(kind: str, workload: dict[str, Any], progress: RolloutProgress) -> str | None:
    """Why the rollout will not finish without a human (updateStrategy OnDelete with pods left to delete), or None."""
    strategy = ((workload.get("spec") or {}).get("updateStrategy") or {}).get("type")
    if strategy != "OnDelete" or progress.updated >= progress.desired:
        return None
    order = ", highest ordinal first" if kind == "statefulset" else ""
    left = progress.desired - progress.updated
    return (
        f"{kind} {meta(workload).name} uses updateStrategy OnDelete: {left} pods keep their old revision until "
        f"deleted; delete them one at a time{order} (delete_pod)"
    )

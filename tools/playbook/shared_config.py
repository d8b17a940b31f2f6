"""Recent rollouts whose failing pods fail on a ConfigMap/Secret key the revision a rollback returns to reads too.

assess_namespace's ROLLBACK rule blames a recent deploy for its failing pods; when they fail because a ConfigMap or
Secret lost what every revision reads (config_failures), the rollback starts pods that fail the same way and replaces
those still running. The rule then says what check_rollback_safety says: restore it instead of rolling back.

Layer: tools.playbook.
"""

from __future__ import annotations

from typing import Any

from incident_response.tools.core import errors
from incident_response.tools.k8s import controller_revisions as cr
from incident_response.tools.k8s.views import meta
from incident_response.tools.k8s.workloads import owned_by, revision_of
from incident_response.tools.playbook.config_failures import shared_failure


def shared_config_failures(
    deployments: list[dict[str, Any]],
    replicasets: list[dict[str, Any]],
    pods: list[dict[str, Any]],
    components: dict[str, str],
    rolled_out: set[str],
    targets: dict[str, tuple[int, str]],
    mounts: dict[str, str],
) -> dict[str, str]:
    """deployment -> the config check's warning, for the `rolled_out` deployments whose pods (`components`: pod ->
    component) fail on a key their rollback target reads the same way (or, `mounts`, cannot mount it): the
    known-good revision in `targets` ("deployment/NAME" -> (revision, why)), else kubectl's default (the highest
    revision below the current one)."""
    found: dict[str, str] = {}
    for deployment in deployments:
        name = str(meta(deployment).name)
        if name not in rolled_out:
            continue
        mine = [pod for pod in pods if components.get(str(meta(pod).name)) == name]
        by_revision = {r: rs for rs in replicasets if owned_by(rs, deployment) and (r := revision_of(rs)) is not None}
        current = revision_of(deployment) or max(by_revision, default=0)
        earlier = [r for r in by_revision if r < current]
        number = targets[f"deployment/{name}"][0] if f"deployment/{name}" in targets else max(earlier, default=None)
        if not mine or number is None or number not in by_revision:
            continue
        template = (by_revision[number].get("spec") or {}).get("template") or {}
        failing = shared_failure(mine, template, number, mounts)
        if failing is not None and failing.status == "warning":
            found[name] = failing.detail
    return found


def shared_workload_failures(
    workloads: dict[str, list[dict[str, Any]]],
    pods: list[dict[str, Any]],
    components: dict[str, str],
    rolled_out: set[tuple[str, str]],
    targets: dict[str, tuple[int, str]],
    mounts: dict[str, str],
) -> dict[str, str]:
    """shared_config_failures for StatefulSets and DaemonSets (`workloads`: resource -> objects, with
    "controllerrevisions"; `rolled_out`: (kind, name) pairs): the target is the known-good revision in `targets`
    ("kind/NAME"), else kubectl's default (the second-newest ControllerRevision)."""
    found: dict[str, str] = {}
    for kind, resource in (("statefulset", "statefulsets"), ("daemonset", "daemonsets")):
        for workload in workloads.get(resource, []):
            name = str(meta(workload).name)
            if (kind, name) not in rolled_out:
                continue
            mine = [pod for pod in pods if components.get(str(meta(pod).name)) == name]
            owned = cr.owned_revisions(workload, workloads.get("controllerrevisions", []))
            number = targets[f"{kind}/{name}"][0] if f"{kind}/{name}" in targets else None
            try:
                target = cr.pick_revision(kind, workload, owned, number)
            except errors.InvalidArgument:
                continue  # nowhere to go back to: nothing to warn about here
            failing = shared_failure(mine, cr.template_of(target), cr.number(target), mounts) if mine else None
            if failing is not None and failing.status == "warning":
                found[name] = failing.detail
    return found

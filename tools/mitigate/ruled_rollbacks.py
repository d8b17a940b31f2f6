"""The rollback planners' refusal of a rollback the human ruled out (review-assist F31).

evaluate_decision records the human's answer that a revision ran forward-only migrations (or wrote data older code
may not read) on the incident's timeline (tools/engine/rollback_answers.py). A rollback to a revision older than the
answered one would run that older code against what it left: rollback_deployment and rollback_workload refuse it,
and rollback_helm_release refuses a release revision that would put such older code back on one of the release's
workloads. No override argument: the way past the refusal is the human taking the answer back
(evaluate_decision with the answer false), which the timeline records, as it recorded the answer.

Layer: tools.mitigate.
"""

from __future__ import annotations

from typing import Any

from incident_response.tools.core import errors
from incident_response.tools.engine.rollback_answers import Ruling, ruling_against
from incident_response.tools.k8s import controller_revisions as cr
from incident_response.tools.k8s.helm_releases import manifest_images
from incident_response.tools.k8s.views import meta
from incident_response.tools.k8s.workloads import deployment_selector, owned_by, revision_of, template_spec
from incident_response.tools.kube.client import Kube
from incident_response.tools.mitigate.helm_drift import same_image

RESOURCES = {"deployment": "deployments", "statefulset": "statefulsets", "daemonset": "daemonsets"}


def refuse_ruled_out(found: list[Ruling], kind: str, name: str, target: int | None, numbers: dict[str, int]) -> None:
    """Raise when the human ruled out going back to revision `target` of `kind/name`; `numbers`: revision number
    by ReplicaSet or ControllerRevision name, as read now."""
    if target is None:
        return
    ruling = ruling_against(found, kind, name, target, numbers)
    if ruling is not None:
        raise errors.InvalidArgument(ruling.refusal(f"revision {target}"))


def replicaset_numbers(owned: list[dict[str, Any]]) -> dict[str, int]:
    return {str(meta(rs).name): n for rs in owned if (n := revision_of(rs)) is not None}


def images(obj: dict[str, Any]) -> dict[str, str]:
    """Container -> image of a pod template's owner (ReplicaSet, ControllerRevision's data, workload)."""
    spec = template_spec(obj)
    containers = [*(spec.get("initContainers") or []), *(spec.get("containers") or [])]
    return {str(c.get("name")): str(c.get("image")) for c in containers if isinstance(c, dict)}


def revisions_with_images(
    kube: Kube, namespace: str, kind: str, workload: dict[str, Any]
) -> list[tuple[str, int, dict[str, str]]]:
    """(name, number, images) of each kept revision of the workload."""
    if kind == "deployment":
        listed = kube.list("replicasets", namespace, label_selector=deployment_selector(workload)).items
        return [
            (str(meta(rs).name), n, images(rs))
            for rs in listed
            if owned_by(rs, workload) and (n := revision_of(rs)) is not None
        ]
    listed = kube.list("controllerrevisions", namespace, label_selector=cr.workload_selector(workload)).items
    return [
        (str(meta(r).name), cr.number(r), images({"spec": {"template": cr.template_of(r)}}))
        for r in cr.owned_revisions(workload, listed)
    ]


def renders(template: dict[str, str], wanted: dict[str, str]) -> bool:
    """A kept revision runs what the release renders (a digest a webhook pinned aside)."""
    return template.keys() == wanted.keys() and all(same_image(template[c], wanted[c]) for c in wanted)


def refuse_helm_ruled_out(
    kube: Kube, namespace: str, found: list[Ruling], release: str, target_revision: int, target: dict[str, Any]
) -> None:
    """Raise when the release's revision `target_revision` (its Secret `target`) would put a workload the human
    ruled a rollback out for back on code older than the answered revision: its images are those of an older kept
    revision of the workload, or of none kept (older than the history, or never run)."""
    active = [r for r in found if r.rules_out]
    if not active:
        return
    rendered = manifest_images(target)
    for ruling in active:
        wanted = rendered.get((ruling.kind, ruling.name))
        if wanted is None or ruling.kind not in RESOURCES:
            continue
        try:
            workload = kube.get(RESOURCES[ruling.kind], ruling.name, namespace)
        except errors.NotFound:
            continue
        kept = revisions_with_images(kube, namespace, ruling.kind, workload)
        numbers = {name: number for name, number, _ in kept}
        answered = ruling.number_now(numbers)
        matching = [number for _, number, seen in kept if renders(seen, wanted)]
        same = sorted(wanted.values()) == sorted(ruling.revision.images)  # the answered revision's own images
        if same or (matching and answered is not None and max(matching) >= answered):
            continue
        raise errors.InvalidArgument(
            ruling.refusal(
                f"helm release {release} revision {target_revision} ({', '.join(sorted(set(wanted.values())))})"
            )
        )

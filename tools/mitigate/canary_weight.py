"""A Deployment taken to zero while an nginx canary Ingress still weights its Service sends that share of requests to
a Service with no endpoint (503 for all of them at weight 100; review-assist8 I3). Plans that pull a canary set the
weight to 0 first (one guarded JSON patch, shown as the `kubectl annotate` a human types); a plain scale to zero is
refused with that command as the next step.

Layer: tools.mitigate.
"""

from __future__ import annotations

from typing import Any

from incident_response.tools.core import errors
from incident_response.tools.core.plan_warnings import PlanWarning, warning
from incident_response.tools.engine.plan import (
    Change,
    KubeWrite,
    Precondition,
    Step,
    patch_step,
    pointer,
    precondition,
)
from incident_response.tools.k8s import nginx_canary
from incident_response.tools.k8s.nginx_canary import Split
from incident_response.tools.k8s.views import meta
from incident_response.tools.kube.client import Kube

WEIGHT_PATH = pointer("metadata", "annotations", nginx_canary.WEIGHT)


def weighted(kube: Kube, deployment: dict[str, Any]) -> tuple[list[tuple[Split, str]], PlanWarning | None]:
    """(canary Ingresses with weight > 0 whose Service selects the deployment's pods, with that Service; a warning
    when Ingresses or Services could not be read)."""
    namespace, name = str(meta(deployment).namespace), str(meta(deployment).name)
    try:
        ingresses = kube.list("ingresses", namespace).items
        services = kube.list("services", namespace).items if ingresses else []
    except errors.Forbidden:
        return [], warning(
            "canary_weight",
            f"Ingresses unreadable: check no nginx canary weight still sends requests to {name}'s Service.",
            f"Ingresses in {namespace} could not be read: a canary Ingress still weighting deployment {name}'s "
            "Service would send its share of requests to no endpoint (503) once it is at 0 replicas.",
        )
    template = (deployment.get("spec") or {}).get("template") or {}
    return nginx_canary.serving(ingresses, services, dict(meta(template).labels)), None


def weight_step(kube: Kube, namespace: str, split: Split) -> Step:
    """Set the canary's weight to 0, guarded by a test of the value the plan saw (a weight edited since refuses)."""
    ops = [
        {"op": "test", "path": "/metadata/uid", "value": split.uid},
        {"op": "test", "path": WEIGHT_PATH, "value": split.raw},
        {"op": "replace", "path": WEIGHT_PATH, "value": "0"},
    ]
    return patch_step(
        f"set Ingress {split.ingress}'s canary weight {split.raw} -> 0 (its requests go back to the main Ingress)",
        nginx_canary.annotate_command(split.ingress, "0", namespace, kube.context),
        "ingresses",
        split.ingress,
        namespace,
        ops,
        "json",
        undo_command=nginx_canary.annotate_command(split.ingress, split.raw, namespace, kube.context),
    )


def weight_parts(
    kube: Kube, namespace: str, splits: list[tuple[Split, str]]
) -> tuple[list[Step], list[Change], list[Precondition]]:
    """The steps (dry-run checked), diff lines and preconditions of setting each canary's weight to 0."""
    steps, diff, pre = [], [], []
    for split, _ in splits:
        step = weight_step(kube, namespace, split)
        assert isinstance(step.action, KubeWrite)
        kube.patch("ingresses", split.ingress, step.action.body, namespace, patch_type="json", dry_run=True)
        steps.append(step)
        diff.append(Change(path=f"ingress/{split.ingress}.canary-weight", before=split.raw, after="0"))
        obj = {"metadata": {"uid": split.uid, "annotations": {nginx_canary.WEIGHT: split.raw}}}
        watched = [pointer("metadata", "uid"), WEIGHT_PATH]
        pre.append(precondition("ingresses", obj, watched, namespace=namespace, name=split.ingress))
    return steps, diff, pre


def refuse_zero(kube: Kube, deployment: dict[str, Any]) -> PlanWarning | None:
    """A scale of the deployment to zero while a canary Ingress weights its Service: refused, naming the annotate.
    The warning to carry when Ingresses could not be read."""
    found, unread = weighted(kube, deployment)
    if not found:
        return unread
    split, service = found[0]
    namespace, name = str(meta(deployment).namespace), str(meta(deployment).name)
    raise errors.InvalidArgument(
        f"{nginx_canary.split_text(split, service)}, whose pods are deployment {name}'s: at 0 replicas those "
        "requests fail (503). Set the weight to 0 first: "
        f"`{nginx_canary.annotate_command(split.ingress, '0', namespace, kube.context)}` (rollback_canary plans it "
        "before its scale)"
    )

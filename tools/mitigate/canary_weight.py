"""An nginx canary Ingress still weighting a Deployment's Service when plans take that Deployment to zero (review-
assist8 I3). ingress-nginx sends the canary's share back to the main Ingress's backend only while the canary's
Service has no ready endpoint (its Lua balancer drops a backend with no endpoints, and a request meant for a missing
canary balancer stays on the primary); the weight stays, so the moment the canary has a Ready pod again (the plan's
undo, a redeploy, a restore) it takes that whole share at once. Plans that pull a canary set the weight to 0 first
(one guarded JSON patch, shown as the `kubectl annotate` a human types), which moves the traffic explicitly; a plain
scale to or from zero under a weight carries a warning naming that command.

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
from incident_response.tools.k8s import backends, labels, nginx_canary
from incident_response.tools.k8s.nginx_canary import Split
from incident_response.tools.k8s.views import meta
from incident_response.tools.kube.client import Kube

WEIGHT_PATH = pointer("metadata", "annotations", nginx_canary.WEIGHT)


def primary_hazard(kube: Kube, deployment: dict[str, Any]) -> tuple[str, str] | None:
    """(brief, whole) of why taking the deployment to zero fails a whole host: its pods are the main backend of an
    Ingress whose host an nginx canary Ingress shares (ingress-nginx then answers 503, the canary's share included).
    None otherwise."""
    namespace, name = str(meta(deployment).namespace), str(meta(deployment).name)
    try:
        ingresses = kube.list("ingresses", namespace).items
        services = kube.list("services", namespace).items if ingresses else []
    except errors.Forbidden:
        return None  # weighted() says what could not be read
    template = (deployment.get("spec") or {}).get("template") or {}
    found = nginx_canary.primary_for(ingresses, services, dict(meta(template).labels))
    by_name = {backends.name_of(s): s for s in services}
    own = labels.from_spec((deployment.get("spec") or {}).get("selector"))
    for main, service, canary in found:
        # Only when nothing else backs the Service: another Deployment's Ready pods there keep the host up.
        selector = backends.service_selector(by_name[service])
        pods = kube.list("pods", namespace, label_selector=labels.text(selector)).items
        if not any(backends.ready(p) and not labels.matches(own, labels.labels_of(p)) for p in pods):
            return hazard(name, main, service, canary)
    return None


def hazard(name: str, main: str, service: str, canary: Split) -> tuple[str, str]:
    """(brief, whole): the host's 503 said short for the text, whole for the human approving."""
    hosts = ", ".join(canary.hosts[:3])
    return (
        f"at 0, {hosts} answers 503, canary Ingress {canary.ingress}'s share too",
        f"deployment {name}'s pods are the main backend of Ingress {main} (Service {service}) for {hosts}: with none "
        f"Ready, ingress-nginx answers 503 for every request there, even those canary Ingress {canary.ingress} "
        f"(weight {canary.raw}) would send to its canary",
    )


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
            f"Ingresses unreadable: check whether an nginx canary weight still points at {name}'s Service.",
            f"Ingresses in {namespace} could not be read: a canary Ingress still weighting deployment {name}'s "
            "Service keeps its weight, and sends its share of requests to the first pod that is Ready again.",
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


def zero_warning(kube: Kube, deployment: dict[str, Any], current: int, replicas: int) -> PlanWarning | None:
    """scale_deployment to or from zero of a Deployment an nginx canary Ingress weights: the weight stays, so the
    canary takes its whole share again as soon as it has a Ready pod. None for other scales."""
    if (replicas == 0) == (current == 0):
        return None
    found, unread = weighted(kube, deployment)
    if not found:
        return unread if replicas == 0 else None
    split, service = found[0]
    namespace, name = str(meta(deployment).namespace), str(meta(deployment).name)
    command = nginx_canary.annotate_command(split.ingress, "0", namespace, kube.context)
    if replicas == 0:
        return warning(
            "canary_weight",
            f"Ingress {split.ingress} keeps canary weight {split.raw}: set it to 0 too: `{command}`",
            f"{nginx_canary.split_text(split, service)}. With {name} at 0 replicas ingress-nginx sends that share "
            f"to the main Ingress's backend, but the weight stays: the moment {name} has a Ready pod again (this "
            f"plan's undo, a redeploy) it takes {split.share()} at once. Set the weight to 0 too: `{command}` "
            "(rollback_canary plans both).",
        )
    return warning(
        "canary_weight",
        f"Ingress {split.ingress} (nginx canary, weight {split.raw}) sends {split.share()} to these pods once Ready",
        f"{nginx_canary.split_text(split, service)}: while {name} had no Ready pod ingress-nginx sent that share to "
        f"the main Ingress's backend; its first Ready pod takes all of it again. If it should not, lower the weight "
        f"first: `{command}` (or another weight).",
    )

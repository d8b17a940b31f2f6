"""Pods made from a workload's template, as the workload controllers and the API server's admission make them.

Layer: sim (the simulated cluster; apart from the product).
"""

from __future__ import annotations

import copy

from incident_response.sim.controllers.common import Obj, meta, owner_reference
from incident_response.sim.defaults import apply_defaults
from incident_response.sim.resources import PODS


def qos_class(spec: Obj) -> str:
    containers = spec.get("containers") or []
    requests_any = False
    guaranteed = bool(containers)
    for container in containers:
        resources = container.get("resources") or {}
        limits = resources.get("limits") or {}
        requests = resources.get("requests") or {}
        if limits or requests:
            requests_any = True
        for key in ("cpu", "memory"):
            if key not in limits or requests.get(key, limits.get(key)) != limits.get(key):
                guaranteed = False
    if guaranteed:
        return "Guaranteed"
    return "Burstable" if requests_any else "BestEffort"


def pod_from_template(owner: Obj, template: Obj, *, name: str = "", labels: dict[str, str] | None = None) -> Obj:
    """A new pod of `owner` (its controller reference) from `template`, named `name` or `<owner>-<random>`, with
    `labels` added to the template's, and the fields the API server fills on create."""
    template = copy.deepcopy(template)
    tmeta = template.get("metadata") or {}
    pod_meta: Obj = {
        "namespace": meta(owner).get("namespace"),
        "labels": {**(tmeta.get("labels") or {}), **(labels or {})},
        "ownerReferences": [owner_reference(owner)],
    }
    if name:
        pod_meta["name"] = name
    else:
        pod_meta["generateName"] = f"{meta(owner)['name']}-"
    if tmeta.get("annotations"):
        pod_meta["annotations"] = dict(tmeta["annotations"])
    body: Obj = {"apiVersion": "v1", "kind": "Pod", "metadata": pod_meta, "spec": template.get("spec") or {}}
    apply_defaults(PODS, body, set())
    spec = body["spec"]
    spec.setdefault("serviceAccountName", "default")
    spec.setdefault("enableServiceLinks", True)
    spec.setdefault("priority", 0)
    spec.setdefault("preemptionPolicy", "PreemptLowerPriority")
    body["status"] = {"phase": "Pending", "qosClass": qos_class(spec)}
    return body

"""LimitRange as kube-apiserver applies it: the API's defaulting of a Container item, and the LimitRanger admission
plugin writing a namespace's defaults into a new pod's containers that leave a resource unset (before the
ResourceQuota admission charges the pod, so a template without resources runs under a quota on requests).

Not modelled: the plugin's validation (min, max, maxLimitRequestRatio refusals), Pod and PersistentVolumeClaim
items, and updates (pod resources are immutable here).

Layer: sim (the simulated cluster; apart from the product).
"""

from __future__ import annotations

import copy
from typing import Any

from incident_response.sim.resources import BY_KEY
from incident_response.sim.store import Obj, Store

LIMITRANGES = BY_KEY["limitranges"]
ANNOTATION = "kubernetes.io/limit-ranger"


def default_items(limit_range: Obj) -> None:
    """SetDefaults_LimitRangeItem, in place: a Container item's default limit is its max, its default request its
    default limit, else its min."""
    for item in (limit_range.get("spec") or {}).get("limits") or []:
        if not isinstance(item, dict) or item.get("type") != "Container":
            continue
        default = item.setdefault("default", {}) or {}
        request = item.setdefault("defaultRequest", {}) or {}
        for key, value in (item.get("max") or {}).items():
            default.setdefault(key, value)
        for key, value in default.items():
            request.setdefault(key, value)
        for key, value in (item.get("min") or {}).items():
            request.setdefault(key, value)
        item["default"], item["defaultRequest"] = default, request


def _defaults(store: Store, namespace: str) -> list[tuple[dict[str, Any], dict[str, Any]]]:
    items = [i for r in store.items(LIMITRANGES, namespace) for i in (r.get("spec") or {}).get("limits") or []]
    return [
        (dict(i.get("default") or {}), dict(i.get("defaultRequest") or {}))
        for i in items
        if isinstance(i, dict) and i.get("type") == "Container"
    ]


def admit_pod(store: Store, pod: Obj) -> None:
    """The LimitRanger's mutation of a pod being created, in place: each container's unset limit takes the default
    limit, each unset request the default request (a request defaulted from the container's own limit stays), and
    the pod is annotated with what was set."""
    namespace = str((pod.get("metadata") or {}).get("namespace") or "")
    items = _defaults(store, namespace) if namespace else []
    if not items:
        return
    said: list[str] = []
    spec = pod.get("spec") or {}
    for kind, containers in (("container", spec.get("containers")), ("init container", spec.get("initContainers"))):
        for container in containers or []:
            resources = container.setdefault("resources", {}) or {}
            limits = dict(resources.get("limits") or {})
            requests = dict(resources.get("requests") or {})
            set_limits, set_requests = [], []
            for default, default_request in items:
                for key, value in default.items():
                    if key not in limits:
                        limits[key] = copy.deepcopy(value)
                        set_limits.append(key)
                for key, value in default_request.items():
                    if key not in requests and key not in (resources.get("limits") or {}):
                        requests[key] = copy.deepcopy(value)
                        set_requests.append(key)
            if limits:
                resources["limits"] = limits
            if requests:
                resources["requests"] = requests
            container["resources"] = resources
            name = container.get("name", "")
            if set_requests:
                said.append(f"{', '.join(sorted(set_requests))} request for {kind} {name}")
            if set_limits:
                said.append(f"{', '.join(sorted(set_limits))} limit for {kind} {name}")
    if said:
        annotations = pod.setdefault("metadata", {}).setdefault("annotations", {}) or {}
        annotations[ANNOTATION] = "LimitRanger plugin set: " + "; ".join(said)
        pod["metadata"]["annotations"] = annotations

"""LimitRange as kube-apiserver applies it: the API's defaulting of a Container item, and the LimitRanger admission
plugin writing a namespace's defaults into a new pod's containers that leave a resource unset (before the
ResourceQuota admission charges the pod, so a template without resources runs under a quota on requests).

Then its validation of Container items: a container whose request or limit falls outside an item's min/max, or
whose limit/request ratio exceeds maxLimitRequestRatio, is refused with the plugin's words (403: 'pods "web-x" is
forbidden: maximum memory usage per Container is 1Gi, but limit is 2Gi'; several at once: '[..., ...]'), so a
ReplicaSet's creates fail (FailedCreate, ReplicaFailure) as a quota's do. Not modelled: Pod and
PersistentVolumeClaim items, and updates (pod resources are immutable here).

Layer: sim (the simulated cluster; apart from the product).
"""

from __future__ import annotations

import copy
from typing import Any

from incident_response.sim import errors
from incident_response.sim.behaviors import parse_quantity
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
    """The LimitRanger on a pod being created: its defaults written in place (see _default_pod), then its Container
    items' min, max and maxLimitRequestRatio checked: ApiError 403 (nothing created) for a container outside them."""
    namespace = str((pod.get("metadata") or {}).get("namespace") or "")
    if not namespace:
        return
    _default_pod(store, pod, namespace)
    items = [
        i
        for r in store.items(LIMITRANGES, namespace)
        for i in (r.get("spec") or {}).get("limits") or []
        if isinstance(i, dict) and i.get("type") == "Container"
    ]
    problems = [p for item in items for c in _containers(pod) for p in _violations(item, c)]
    if problems:
        meta = pod.get("metadata") or {}
        name = str(meta.get("name") or meta.get("generateName") or "")
        why = problems[0] if len(problems) == 1 else f"[{', '.join(problems)}]"
        raise errors.ApiError(403, "Forbidden", f'pods "{name}" is forbidden: {why}', kind="pods", name=name)


def _containers(pod: Obj) -> list[Obj]:
    spec = pod.get("spec") or {}
    return [c for c in [*(spec.get("initContainers") or []), *(spec.get("containers") or [])] if isinstance(c, dict)]


def _violations(item: Obj, container: Obj) -> list[str]:
    """The plugin's minConstraint, maxConstraint and limitRequestRatioConstraint for one container."""
    resources = container.get("resources") or {}
    requests, limits = resources.get("requests") or {}, resources.get("limits") or {}
    out: list[str] = []
    for key, enforced in (item.get("min") or {}).items():
        low = parse_quantity(enforced)
        if key not in requests:
            out.append(f"minimum {key} usage per Container is {enforced}.  No request is specified")
        elif low is not None and (parse_quantity(requests[key]) or 0) < low:
            out.append(f"minimum {key} usage per Container is {enforced}, but request is {requests[key]}")
        elif key in limits and low is not None and (parse_quantity(limits[key]) or 0) < low:
            out.append(f"minimum {key} usage per Container is {enforced}, but limit is {limits[key]}")
    for key, enforced in (item.get("max") or {}).items():
        high = parse_quantity(enforced)
        if key not in limits:
            out.append(f"maximum {key} usage per Container is {enforced}.  No limit is specified")
        elif high is not None and (parse_quantity(limits[key]) or 0) > high:
            out.append(f"maximum {key} usage per Container is {enforced}, but limit is {limits[key]}")
        elif key in requests and high is not None and (parse_quantity(requests[key]) or 0) > high:
            out.append(f"maximum {key} usage per Container is {enforced}, but request is {requests[key]}")
    for key, enforced in (item.get("maxLimitRequestRatio") or {}).items():
        request, limit = parse_quantity(requests.get(key)), parse_quantity(limits.get(key))
        ratio = parse_quantity(enforced)
        if request and limit is not None and ratio is not None and limit / request > ratio:
            out.append(
                f"{key} max limit to request ratio per Container is {enforced}, but provided ratio is "
                f"{limit / request:f}"
            )
    return out


def _default_pod(store: Store, pod: Obj, namespace: str) -> None:
    """The LimitRanger's mutation of a pod being created, in place: each container's unset limit takes the default
    limit, each unset request the default request (a request defaulted from the container's own limit stays), and
    the pod is annotated with what was set."""
    items = _defaults(store, namespace)
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

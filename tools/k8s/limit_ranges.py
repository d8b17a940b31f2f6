"""A namespace's LimitRange defaults applied to a pod template, as the LimitRanger admission applies them to each
new pod: what a quota charges a pod whose template leaves requests or limits unset, before any pod of it exists.

Layer: tools.k8s.
"""

from __future__ import annotations

from typing import Any

Defaults = tuple[dict[str, Any], dict[str, Any]]  # (default limits, default requests) of one Container item


def container_defaults(limit_ranges: list[dict[str, Any]]) -> list[Defaults]:
    """Each Container item's defaults, with the API's defaulting (a default limit is the max; a default request the
    default limit, else the min) for an object read before it was defaulted."""
    out = []
    for limit_range in limit_ranges:
        for item in (limit_range.get("spec") or {}).get("limits") or []:
            if not isinstance(item, dict) or item.get("type") != "Container":
                continue
            limits = {**(item.get("max") or {}), **(item.get("default") or {})}
            requests = {**(item.get("min") or {}), **limits, **(item.get("defaultRequest") or {})}
            out.append((limits, requests))
    return out


def _defaulted(container: dict[str, Any], defaults: list[Defaults]) -> dict[str, Any]:
    resources = container.get("resources") or {}
    own_limits = resources.get("limits") or {}
    limits, requests = dict(own_limits), dict(resources.get("requests") or {})
    for default_limits, default_requests in defaults:
        for key, value in default_limits.items():
            limits.setdefault(key, value)
        for key, value in default_requests.items():
            if key not in own_limits:  # a request left unset is the container's own limit, not the default
                requests.setdefault(key, value)
    filled = {k: v for k, v in (("limits", limits), ("requests", requests)) if v}
    return {**container, "resources": {**resources, **filled}} if filled else container


def with_defaults(pod_spec: dict[str, Any], limit_ranges: list[dict[str, Any]]) -> dict[str, Any]:
    """The pod spec with the LimitRanges' defaults written into every container that leaves a resource unset."""
    defaults = container_defaults(limit_ranges)
    if not defaults:
        return pod_spec
    out = dict(pod_spec)
    for key in ("containers", "initContainers"):
        if pod_spec.get(key):
            out[key] = [_defaulted(c, defaults) for c in pod_spec[key]]
    return out

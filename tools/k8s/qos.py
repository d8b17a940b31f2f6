"""A pod's QoS class from its spec, as the kubelet computes it, and what it means under node memory pressure.

Layer: tools.k8s.
"""

from __future__ import annotations

from typing import Any, Literal

from incident_response.tools.k8s.quantity import parse_quantity

QosClass = Literal["Guaranteed", "Burstable", "BestEffort"]


def qos_class(pod_spec: dict[str, Any]) -> QosClass:
    """Guaranteed: every container requests exactly its CPU and memory limits; BestEffort: nothing requested or
    limited; else Burstable. A missing request counts as its limit (the API server defaults it so)."""
    containers = pod_spec.get("containers") or []
    anything = False
    guaranteed = bool(containers)
    for container in containers:
        resources = container.get("resources") or {}
        limits = resources.get("limits") or {}
        requests = {**limits, **(resources.get("requests") or {})}
        anything = anything or bool(limits) or bool(requests)
        for name in ("cpu", "memory"):
            limit, request = parse_quantity(limits.get(name)), parse_quantity(requests.get(name))
            if limit is None or request != limit:
                guaranteed = False
    if guaranteed:
        return "Guaranteed"
    return "Burstable" if anything else "BestEffort"

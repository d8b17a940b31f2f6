"""Per component, why the scheduler found no node for its Pending pods (tools/k8s/scheduling.py), and whether a
pod asks for more CPU or memory than any node can allocate even empty: then no scale, no freed room and no wait
helps, only a smaller request or larger nodes. The nodes are read only when a refusal names Insufficient resources.

Layer: tools.assess.
"""

from __future__ import annotations

from typing import Any

from incident_response.tools.core import errors
from incident_response.tools.core.masking import mask_text
from incident_response.tools.k8s.capacity import Requests, largest_node, spec_requests
from incident_response.tools.k8s.quantity import cpu_text, memory_text
from incident_response.tools.k8s.scheduling import Refusal, refusal_of, unschedulable_message
from incident_response.tools.k8s.views import meta
from incident_response.tools.kube.client import Kube
from incident_response.tools.kube.paging import list_all

MAX_NODES = 2000  # the nodes read to judge a request against the largest; past it the request is not judged


def refusals(kube: Kube, pods: list[dict[str, Any]], components: dict[str, str]) -> dict[str, Refusal]:
    """Per component with Pending pods the scheduler refused, the refusal of its first one (the others counted)."""
    found: dict[str, Refusal] = {}
    specs: dict[str, dict[str, Any]] = {}
    for pod in pods:
        message = unschedulable_message(pod)
        if message is None:
            continue
        component = components[str(meta(pod).name)]
        if component in found:
            found[component].pods += 1
            continue
        found[component] = refusal_of(mask_text(message))
        specs[component] = pod.get("spec") or {}
    wanting = [c for c, r in found.items() if any(w.startswith("Insufficient ") for w in r.reasons)]
    if not wanting:
        return found
    try:
        nodes = list_all(kube, "nodes", cap=MAX_NODES).items
    except errors.Forbidden:
        return found
    for component in wanting:
        found[component].oversized = oversized(specs[component], nodes)
    return found


def oversized(pod_spec: dict[str, Any], nodes: list[dict[str, Any]]) -> str | None:
    """'4500m CPU, more than any node's 3920m allocatable' when one pod asks more than the largest node that would
    take it has in all; None when it would fit an empty node (or no node takes it: that is another refusal)."""
    want = spec_requests(pod_spec)
    best = largest_node(nodes, pod_spec)
    if best == Requests():
        return None
    if want.cpu > best.cpu > 0:
        return f"{cpu_text(want.cpu)} CPU, more than any node's {cpu_text(best.cpu)} allocatable"
    if want.memory > best.memory > 0:
        return f"{memory_text(want.memory)} memory, more than any node's {memory_text(best.memory)} allocatable"
    return None

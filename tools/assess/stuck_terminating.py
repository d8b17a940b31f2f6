"""Pods left Terminating on a node whose kubelet is down, for verify_recovery (review-assist F19b).

A graceful delete (a drain's eviction is one) ends only when the pod's kubelet confirms it: on a node that stopped
answering the pod stays Terminating for good, and a StatefulSet never replaces a member with that identity until it
is gone. verify_recovery said "still settling" forever; this names what blocks it and what ends it.

Layer: tools.assess.
"""

from __future__ import annotations

from typing import Any

from incident_response.tools.core import errors
from incident_response.tools.k8s.capacity import node_ready
from incident_response.tools.k8s.views import meta
from incident_response.tools.kube.client import Kube
from incident_response.tools.playbook.recovery_checks import PodFacts

MAX_NAMED = 5


def stuck_on_dead_nodes(kube: Kube, namespace: str, pods: list[dict[str, Any]], facts: list[PodFacts]) -> str | None:
    """What blocks recovery when some of the workload's Terminating pods sit on a node that is not Ready, else None."""
    by_node: dict[str, list[str]] = {}
    for pod, fact in zip(pods, facts, strict=True):
        node = (pod.get("spec") or {}).get("nodeName")
        if fact.terminating and node:
            by_node.setdefault(str(node), []).append(str(meta(pod).name))
    dead: list[tuple[str, list[str]]] = []
    for node, names in sorted(by_node.items()):
        try:
            if not node_ready(kube.get("nodes", node)):
                dead.append((node, sorted(names)))
        except errors.NotFound:
            continue  # the Node object is gone: its pods are being removed by the garbage collector
    if not dead:
        return None
    node, names = dead[0]
    more = f" (and {len(names) - MAX_NAMED} more)" if len(names) > MAX_NAMED else ""
    others = f"; and on {len(dead) - 1} more not-ready node(s)" if len(dead) > 1 else ""
    return (
        f"pod(s) {', '.join(names[:MAX_NAMED])}{more} stay Terminating on node {node}, whose kubelet is down (not "
        f"Ready): they go only once force-deleted{others}. Once the human confirms {node} is fenced or powered off: "
        f"delete_pod(namespace={namespace}, pod={names[0]}, force=true) for each"
    )

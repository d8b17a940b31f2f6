"""The nodes an assessment reads: those hosting failing pods (conditions, taints, cordon; judged by their pods when
not readable), and those under memory, disk or PID pressure running the namespace's pods.

Layer: tools.assess.
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime
from typing import Any

from incident_response.tools.core import errors
from incident_response.tools.k8s.events import EventGroup
from incident_response.tools.k8s.quantity import parse_time
from incident_response.tools.k8s.views import meta
from incident_response.tools.kube.client import Kube
from incident_response.tools.kube.paging import list_all
from incident_response.tools.playbook.node_pressure import (
    PressureProblem,
    pressed_nodes,
    pressure_problem,
    pressures,
)
from incident_response.tools.playbook.suspects import NodeState, Placement, node_problems

MAX_NODES_READ = 5  # nodes hosting failing pods read per assessment, those with the most failing pods first


def read_nodes(
    kube: Kube,
    placements: list[Placement],
    pods: list[dict[str, Any]],
    groups: list[EventGroup],
    now: datetime,
    blind: list[str],
) -> dict[str, NodeState]:
    """The nodes hosting failing pods: conditions, taints, cordon. A node not read (forbidden, gone, or past the cap)
    is judged by its pods instead: deletions overdue there, NodeNotReady events about them."""
    failing = Counter(p.node for p in placements if p.failing and p.node)
    overdue = {
        str(meta(pod).name)
        for pod in pods
        if (gone := parse_time(meta(pod).deletion_timestamp)) is not None and gone < now
    }
    reported = {g.object.removeprefix("pod/") for g in groups if g.reason == "NodeNotReady"}
    states: dict[str, NodeState] = {}
    for index, (node, _) in enumerate(sorted(failing.items(), key=lambda item: (-item[1], item[0]))):
        if index < MAX_NODES_READ and "nodes" not in blind:
            try:
                found = kube.get("nodes", node)
                unschedulable = bool((found.get("spec") or {}).get("unschedulable"))
                states[node] = NodeState(node_problems(found), cordoned=unschedulable)
                continue
            except errors.Forbidden:
                blind.append("nodes")
            except errors.NotFound:
                pass
        here = {p.pod for p in placements if p.node == node and p.failing}
        signs = []
        if here & overdue:
            signs.append("pods there are past their deletion time (its kubelet does not answer)")
        if here & reported:
            signs.append("NodeNotReady events about its pods")
        states[node] = NodeState(signs, read=False)
    return states


def pressured_nodes(kube: Kube) -> list[dict[str, Any]] | None:
    """The nodes reporting memory, disk or PID pressure (the list read page by page, only those kept); None when
    these credentials may not list nodes."""
    try:
        return list_all(kube, "nodes", keep=lambda n: n if pressures(n) else None).items
    except errors.Forbidden:
        return None


def read_pressure(
    namespace: str,
    nodes: list[dict[str, Any]] | None,
    pods: list[dict[str, Any]],
    components: dict[str, str],
    blind: list[str],
) -> list[PressureProblem]:
    """The pressured nodes running the namespace's pods, each a problem at risk."""
    if nodes is None:
        if "nodes" not in blind:
            blind.append("nodes")
        return []
    return [pressure_problem(namespace, p) for p in pressed_nodes(nodes, pods, components)]

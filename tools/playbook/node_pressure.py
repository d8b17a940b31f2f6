"""A node reporting MemoryPressure, DiskPressure or PIDPressure that runs pods of the namespace: at risk (review-assist
F29). Nothing fails yet, but the kubelet has reached its eviction threshold there: it evicts pods to reclaim the
resource, BestEffort pods first, then Burstable pods using more than they request; Guaranteed pods last. New pods
are kept off it (the node.kubernetes.io/*-pressure taint) only for new scheduling. The SRE's move: cordon it so no
more work lands there, then find what fills it (top_pods) and drain it if the pressure stays.

Layer: tools.playbook.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from incident_response.tools.k8s.qos import qos_class
from incident_response.tools.k8s.views import meta
from incident_response.tools.playbook.decision import Decision

PRESSURES = ("MemoryPressure", "DiskPressure", "PIDPressure")
RULE = "node under pressure"
MAX_NAMED = 5  # pods named in the detail; the evidence names every one


@dataclass
class PressedNode:
    node: str
    conditions: list[str]  # the pressure conditions that are True
    cordoned: bool
    exposed: list[tuple[str, str, str]] = field(default_factory=list)  # (pod, component, QoS), evicted first first


@dataclass
class PressureProblem:
    node: str
    components: list[str]
    detail: str  # what is at risk
    decision: Decision


def pressures(node: dict[str, Any]) -> list[str]:
    """The pressure conditions a node reports True."""
    conditions = (node.get("status") or {}).get("conditions") or []
    return [str(c.get("type")) for c in conditions if c.get("type") in PRESSURES and c.get("status") == "True"]


EVICTION_ORDER = {"BestEffort": 0, "Burstable": 1, "Guaranteed": 2}


def pressed_nodes(
    nodes: Iterable[dict[str, Any]], pods: list[dict[str, Any]], components: dict[str, str]
) -> list[PressedNode]:
    """The nodes under pressure that run pods of the namespace, with those pods in the order the kubelet evicts."""
    nodes = list(nodes)
    # only the pods of pressed nodes are sorted by QoS: none of 10,000s when no node reports pressure
    pressed = {str(meta(n).name) for n in nodes if pressures(n)}
    by_node: dict[str, list[tuple[str, str, str]]] = {}
    for pod in pods if pressed else ():
        node = (pod.get("spec") or {}).get("nodeName")
        if node in pressed and (pod.get("status") or {}).get("phase") not in ("Succeeded", "Failed"):
            name = str(meta(pod).name)
            by_node.setdefault(str(node), []).append(
                (name, components.get(name, name), qos_class(pod.get("spec") or {}))
            )
    found = []
    for node in nodes:
        name = str(meta(node).name)
        if (conditions := pressures(node)) and name in by_node:
            exposed = sorted(by_node[name], key=lambda p: (EVICTION_ORDER[p[2]], p[0]))
            found.append(PressedNode(name, conditions, bool((node.get("spec") or {}).get("unschedulable")), exposed))
    return found


def pressure_problem(namespace: str, pressed: PressedNode) -> PressureProblem:
    """At risk: the pods of the namespace the kubelet may evict there, with cordon_node (or, cordoned already, what
    fills it) as the next call."""
    first = [p for p in pressed.exposed if p[2] != "Guaranteed"] or pressed.exposed
    named = ", ".join(f"{pod} ({qos})" for pod, _, qos in first[:MAX_NAMED])
    more = f" and {len(first) - MAX_NAMED} more" if len(first) > MAX_NAMED else ""
    what = "/".join(pressed.conditions)
    detail = (
        f"node {pressed.node} reports {what}: the kubelet evicts pods there to reclaim it, BestEffort and Burstable "
        f"pods over their requests first: {named}{more}"
    )
    evidence = [f"node {pressed.node}: {c} True" for c in pressed.conditions]
    evidence += [f"{pod} ({component}) runs there, QoS {qos}" for pod, component, qos in pressed.exposed]
    components = sorted({component for _, component, _ in pressed.exposed})
    if pressed.cordoned:
        decision = Decision(
            primary_action="INVESTIGATE",
            rule=RULE,
            target=f"node/{pressed.node}",
            reason=f"{detail}. It is cordoned already: find what fills it (top_pods) and drain it (drain_node) if "
            "the pressure stays",
            evidence=evidence,
            next_tool="top_pods",
            next_arguments={"namespace": namespace, "sort_by": "memory"},
        )
    else:
        decision = Decision(
            primary_action="ISOLATE",
            rule=RULE,
            target=f"node/{pressed.node}",
            reason=f"{detail}. Cordon it so no new pod lands there, then find what fills it (top_pods) and drain it "
            "(drain_node) if the pressure stays",
            evidence=evidence,
            next_tool="cordon_node",
            next_arguments={"node": pressed.node},
        )
    return PressureProblem(pressed.node, components, detail, decision)

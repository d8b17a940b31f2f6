"""Node room for pods: what the scheduler would say before a scale, an HPA override, a limit change or a drain.

Mirrors the scheduler's filter (unschedulable, untolerated NoSchedule/NoExecute taints, nodeSelector, NotReady,
allocatable minus the requests of pods already bound) so a plan can say "3 of the 5 new pods would stay Pending"
before anything is written. Containers without a request count their limit, as the API server defaults it.

Layer: tools.k8s.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from incident_response.tools.k8s.last_change import last_change
from incident_response.tools.k8s.quantity import cpu_text, memory_text, parse_quantity
from incident_response.tools.k8s.views import meta

UNSCHEDULABLE_TAINT = "node.kubernetes.io/unschedulable"
DEFAULT_MAX_PODS = 110


@dataclass(frozen=True)
class Requests:
    cpu: float = 0.0  # cores
    memory: float = 0.0  # bytes

    def text(self) -> str:
        return f"cpu {cpu_text(self.cpu)}, memory {memory_text(self.memory)}"


@dataclass
class Room:
    node: str
    cpu: float
    memory: float
    pods: int

    def fits(self, want: Requests) -> bool:
        return self.pods >= 1 and self.cpu >= want.cpu and self.memory >= want.memory

    def take(self, want: Requests) -> None:
        self.cpu -= want.cpu
        self.memory -= want.memory
        self.pods -= 1


def container_requests(container: dict[str, Any]) -> Requests:
    resources = container.get("resources") or {}
    requests = resources.get("requests") or {}
    limits = resources.get("limits") or {}
    return Requests(
        cpu=parse_quantity(requests.get("cpu", limits.get("cpu"))) or 0.0,
        memory=parse_quantity(requests.get("memory", limits.get("memory"))) or 0.0,
    )


def spec_requests(pod_spec: dict[str, Any]) -> Requests:
    """What one pod with this spec asks the scheduler for (sum over its containers)."""
    total = Requests()
    for container in pod_spec.get("containers") or []:
        one = container_requests(container)
        total = Requests(total.cpu + one.cpu, total.memory + one.memory)
    return total


def node_ready(node: dict[str, Any]) -> bool:
    conditions = (node.get("status") or {}).get("conditions") or []
    ready = next((c for c in conditions if c.get("type") == "Ready"), None)
    return ready is None or ready.get("status") == "True"


def tolerates(pod_spec: dict[str, Any], taint: dict[str, Any]) -> bool:
    for toleration in pod_spec.get("tolerations") or []:
        if toleration.get("effect") and toleration.get("effect") != taint.get("effect"):
            continue
        if toleration.get("operator") == "Exists":
            if not toleration.get("key") or toleration.get("key") == taint.get("key"):
                return True
        elif toleration.get("key") == taint.get("key") and toleration.get("value", "") == taint.get("value", ""):
            return True
    return False


def accepts(node: dict[str, Any], pod_spec: dict[str, Any]) -> bool:
    """Could the scheduler place a pod with this spec here at all (ignoring room)?"""
    spec = node.get("spec") or {}
    if not node_ready(node):
        return False
    if spec.get("unschedulable") and not tolerates(pod_spec, {"key": UNSCHEDULABLE_TAINT, "effect": "NoSchedule"}):
        return False
    for taint in spec.get("taints") or []:
        if taint.get("key") == UNSCHEDULABLE_TAINT:
            continue
        if taint.get("effect") in ("NoSchedule", "NoExecute") and not tolerates(pod_spec, taint):
            return False
    labels = meta(node).labels
    return all(labels.get(k) == v for k, v in (pod_spec.get("nodeSelector") or {}).items())


def _bound(pod: dict[str, Any]) -> bool:
    phase = (pod.get("status") or {}).get("phase")
    return bool((pod.get("spec") or {}).get("nodeName")) and phase not in ("Succeeded", "Failed")


def rooms(
    nodes: list[dict[str, Any]],
    pods: list[dict[str, Any]],
    pod_spec: dict[str, Any],
    *,
    leaving: set[str] | frozenset[str] = frozenset(),
) -> list[Room]:
    """Free room on each node that would accept `pod_spec`; pods named in `leaving` (ns/name) free their share."""
    used: dict[str, Requests] = {}
    counts: dict[str, int] = {}
    for pod in pods:
        if not _bound(pod) or f"{meta(pod).namespace}/{meta(pod).name}" in leaving:
            continue
        bound_to = str(pod["spec"]["nodeName"])
        want = spec_requests(pod.get("spec") or {})
        have = used.get(bound_to, Requests())
        used[bound_to] = Requests(have.cpu + want.cpu, have.memory + want.memory)
        counts[bound_to] = counts.get(bound_to, 0) + 1
    out = []
    for node in nodes:
        if not accepts(node, pod_spec):
            continue
        node_name = str(meta(node).name)
        alloc = (node.get("status") or {}).get("allocatable") or {}
        have = used.get(node_name, Requests())
        out.append(
            Room(
                node=node_name,
                cpu=(parse_quantity(alloc.get("cpu")) or 0.0) - have.cpu,
                memory=(parse_quantity(alloc.get("memory")) or 0.0) - have.memory,
                pods=int(parse_quantity(alloc.get("pods")) or DEFAULT_MAX_PODS) - counts.get(node_name, 0),
            )
        )
    return out


def place(free: list[Room], want: Requests, count: int) -> int:
    """How many of `count` pods asking `want` would be scheduled (least-loaded first, as the simulated and
    default schedulers spread); `free` is consumed."""
    placed = 0
    for _ in range(count):
        candidates = [r for r in free if r.fits(want)]
        if not candidates:
            break
        max(candidates, key=lambda r: (r.cpu, r.memory)).take(want)
        placed += 1
    return placed


def placeable(
    nodes: list[dict[str, Any]], pods: list[dict[str, Any]], pod_spec: dict[str, Any], count: int
) -> tuple[int, Requests]:
    """How many of `count` new pods with this spec would be scheduled now, and what each one requests."""
    want = spec_requests(pod_spec)
    return place(rooms(nodes, pods, pod_spec), want, count), want


def slots(room: Room, want: Requests) -> int:
    """How many pods asking `want` fit in this node's free room: the smallest of what its free CPU, its free memory
    and its free pod slots allow (a resource the pod does not request does not limit it)."""
    counts = [max(room.pods, 0)]
    if want.cpu > 0:
        counts.append(max(math.floor(room.cpu / want.cpu + 1e-9), 0))
    if want.memory > 0:
        counts.append(max(math.floor(room.memory / want.memory + 1e-9), 0))
    return min(counts)


def replicas_that_fit(
    nodes: list[dict[str, Any]],
    pods: list[dict[str, Any]],
    pod_spec: dict[str, Any],
    placed: int,
    *,
    leaving: set[str] | frozenset[str] = frozenset(),
) -> int:
    """How many replicas with this spec the nodes hold: the `placed` ones already bound (their requests are among
    `pods`), plus, over every node that accepts the spec, what fits in its allocatable minus what is requested there.
    Arithmetic on allocatable and requests, not a count capped by the question asked, so it is the same figure
    before and after a scale on the same nodes."""
    want = spec_requests(pod_spec)
    return placed + sum(slots(room, want) for room in rooms(nodes, pods, pod_spec, leaving=leaving))


def bound(pod: dict[str, Any]) -> bool:
    """Whether the pod holds room on a node (scheduled, not finished)."""
    return _bound(pod)


def largest_node(nodes: list[dict[str, Any]], pod_spec: dict[str, Any]) -> Requests:
    """The most allocatable CPU and memory any accepting node has (what one pod could ever get)."""
    best = Requests()
    for node in nodes:
        if not accepts(node, pod_spec):
            continue
        alloc = (node.get("status") or {}).get("allocatable") or {}
        best = Requests(
            max(best.cpu, parse_quantity(alloc.get("cpu")) or 0.0),
            max(best.memory, parse_quantity(alloc.get("memory")) or 0.0),
        )
    return best


def pending_warning(what: str, placed: int, wanted: int, want: Requests) -> str | None:
    if placed >= wanted:
        return None
    return (
        f"{wanted - placed} of the {wanted} {what} would stay Pending: no schedulable node has room for another pod "
        f"requesting {want.text()}. Free capacity first (or add nodes), or consider vertical scaling."
    )


def cordoned_room(
    read: tuple[list[dict[str, Any]], list[dict[str, Any]]] | None, pod_spec: dict[str, Any]
) -> list[tuple[str, int, str]]:
    """(node, replicas of `pod_spec` that would fit there, 'since 10:02 UTC by kubectl-cordon') for each Ready node a
    cordon alone keeps the pod off (a maintenance left behind: review-assist8 I9), the roomiest first: whom to ask.
    `read`: the nodes and the pods holding room on them (sizing_reads.node_room)."""
    if read is None:
        return []
    nodes, pods = read
    opened = []
    for node in nodes:
        spec = node.get("spec") or {}
        if spec.get("unschedulable") and not kept_cordoned(node):
            taints = [t for t in spec.get("taints") or [] if t.get("key") != UNSCHEDULABLE_TAINT]
            opened.append({**node, "spec": {**spec, "unschedulable": False, "taints": taints}})
    want = spec_requests(pod_spec)
    since = {str(meta(n).name): cordoned_since(n) for n in opened}
    found = [(r.node, slots(r, want), since.get(r.node, "")) for r in rooms(opened, pods, pod_spec)]
    return sorted((held for held in found if held[1] > 0), key=lambda held: -held[1])


def cordoned_since(node: dict[str, Any]) -> str:
    """'since 2026-12-05 10:02 UTC by kubectl-cordon', from who last wrote spec.unschedulable (empty: unknown)."""
    cordon = last_change(node, owning=("spec", "unschedulable"))
    if cordon is None or cordon.created:
        return ""
    by = f" by {cordon.manager}" if cordon.manager else ""
    return f"since {cordon.at.strftime('%Y-%m-%d %H:%M')} UTC{by}"


PRESSURES = ("MemoryPressure", "DiskPressure", "PIDPressure")
OUR_MANAGER = "incident-response-mcp"  # tools/kube/client.FIELD_MANAGER: our own cordon is a measure, not a leftover


def kept_cordoned(node: dict[str, Any]) -> bool:
    """A cordon with a reason still standing: the node reports pressure, or this server cordoned it (a measure of
    this incident: restore_measure ends it)."""
    conditions = (node.get("status") or {}).get("conditions") or []
    if any(c.get("type") in PRESSURES and c.get("status") == "True" for c in conditions):
        return True
    cordon = last_change(node, owning=("spec", "unschedulable"))
    return cordon is not None and cordon.manager == OUR_MANAGER


def cordoned_text(held: list[tuple[str, int, str]]) -> str:
    """'node-2 (~10 more; cordoned since 2026-12-05 10:02 UTC by kubectl-cordon), node-1 (~9 more)'."""
    return ", ".join(
        f"{node} (~{count} more" + (f"; cordoned {since})" if since else ")") for node, count, since in held
    )

"""The reads a replica count is sized from, made the same way by assess_namespace, evaluate_decision and the
scale planners: node room (nodes and every pod holding room on them) and, for a planner that has not read the
namespace, the deployment's pod metrics and ReplicaSets.

Layer: tools.engine.
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any

from incident_response.tools.core import errors
from incident_response.tools.core.concurrency import submit
from incident_response.tools.engine.event_reads import read_events
from incident_response.tools.k8s import capacity, labels
from incident_response.tools.k8s.room_pods import RoomSharing, room_pod
from incident_response.tools.k8s.views import meta
from incident_response.tools.kube.paging import list_all

if TYPE_CHECKING:
    from incident_response.tools.kube.client import Kube

RUNNING = "status.phase!=Succeeded,status.phase!=Failed"  # pods that hold node room
MAX_NODES_READ_BY_NODE = 20  # more accepting nodes (or half the cluster): every pod in pages is fewer requests
CONCURRENT_NODE_READS = 4
# Every node and every pod holding room is read (in pages): a pod left out would make its node look free. These
# stops are past what a cluster may hold (5,000 nodes, 150,000 pods) and only end a runaway read.
MAX_NODES = 100_000
MAX_PODS = 200_000
LARGE_FACTOR = 10
DEFAULT_CEILING = 100
CEILING_ENV = "INCIDENT_RESPONSE_MAX_REPLICAS"


def replica_ceiling() -> int:
    """The most replicas a plan may ask for without allow_large (operator-set through the environment)."""
    value = os.environ.get(CEILING_ENV, "")
    return int(value) if value.isdigit() and int(value) > 0 else DEFAULT_CEILING


def replica_bound(current: int) -> int:
    """The most replicas a plan may ask for, from `current`, without allow_large: 10x, within the ceiling."""
    return min(max(current, 1) * LARGE_FACTOR, replica_ceiling())


Room = tuple[list[dict[str, Any]], list[dict[str, Any]]]  # nodes, and the pods holding room on them


def node_room(kube: Kube) -> Room | None:
    """(nodes, pods holding room on them), or None when these credentials may not read them cluster-wide."""
    try:
        return read_room(kube)
    except errors.Forbidden:
        return None


def read_room(kube: Kube) -> Room:
    """Every node and every pod holding room on one (in pages), each pod kept as room reads it (room_pods), so
    every pod of a large cluster can be held; Forbidden when these credentials may not read them cluster-wide."""
    sharing = RoomSharing()
    nodes = list_all(kube, "nodes", cap=MAX_NODES).items
    pods = list_all(kube, "pods", field_selector=RUNNING, cap=MAX_PODS, keep=lambda p: room_pod(p, sharing)).items
    return nodes, pods


def read_room_for(kube: Kube, specs: list[dict[str, Any]], *, away_from: str | None = None) -> Room:
    """Room for pods of these specs (a drain's movers): the nodes but `away_from` that accept one of them, and the
    pods holding room there. When few nodes accept them (a tainted or labelled pool), those nodes' pods are read by
    node (spec.nodeName, side by side) instead of every pod of the cluster; rooms() judges only accepting nodes, so
    the figures are the same. Forbidden as read_room."""
    nodes = [n for n in list_all(kube, "nodes", cap=MAX_NODES).items if meta(n).name != away_from]
    accepting = [n for n in nodes if any(capacity.accepts(n, spec) for spec in specs)]
    if len(accepting) > MAX_NODES_READ_BY_NODE or 2 * len(accepting) > len(nodes):
        everywhere, pods = read_room(kube)
        return [n for n in everywhere if meta(n).name != away_from], pods
    sharing = RoomSharing()
    with ThreadPoolExecutor(max_workers=CONCURRENT_NODE_READS, thread_name_prefix="node-room") as pool:
        reads = [
            submit(
                pool,
                list_all,
                kube,
                "pods",
                field_selector=f"spec.nodeName={meta(n).name},{RUNNING}",
                keep=lambda p: room_pod(p, sharing),
            )
            for n in accepting
        ]
        pods = [pod for read in reads for pod in read.result().items]
    return accepting, pods


def placed_of(pods: list[dict[str, Any]], namespace: str, selector: labels.Selector) -> int:
    """How many of the given pods are this workload's (namespace and selector) and hold room on a node."""
    return sum(
        1
        for pod in pods
        if meta(pod).namespace == namespace
        and capacity.bound(pod)
        and meta(pod).deletion_timestamp is None
        and labels.matches(selector, labels.labels_of(pod))
    )


def fits_of(
    room: Room | None,
    namespace: str,
    selector: labels.Selector,
    pod_spec: dict[str, Any],
) -> int | None:
    """Replicas of a workload that fit: its pods bound now plus what node allocatable minus requests holds."""
    if room is None:
        return None
    nodes, pods = room
    return capacity.replicas_that_fit(nodes, pods, pod_spec, placed_of(pods, namespace, selector))


def pod_metrics(kube: Kube, namespace: str, selector: str | None) -> list[dict[str, Any]] | None:
    """The pods' metrics.k8s.io items, or None when the metrics API is absent or forbidden."""
    try:
        return kube.list("pods.metrics.k8s.io", namespace, label_selector=selector).items
    except (errors.NotFound, errors.ServerError, errors.Forbidden):
        return None


def scale_events(kube: Kube, namespace: str, deployment: str) -> list[dict[str, Any]]:
    """The deployment's ScalingReplicaSet events (what its controller scaled, from how many); [] when forbidden."""
    selector = f"involvedObject.kind=Deployment,involvedObject.name={deployment},reason=ScalingReplicaSet"
    try:
        return read_events(kube, namespace, selector).items
    except errors.Forbidden:
        return []

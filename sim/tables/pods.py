"""Pod columns and the STATUS / READY / RESTARTS logic of upstream printPod (pkg/printers/internalversion).

Layer: sim (the simulated cluster; apart from the product).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from ._common import (
    AGE_COLUMN,
    NAME_COLUMN,
    NONE,
    Cell,
    Column,
    Obj,
    Printer,
    age,
    get,
    get_dicts,
    get_int,
    get_str,
    name_of,
    parse_time,
    since,
)

# Reason the node lifecycle controller puts on pods of an unreachable node (k8s.io/kubernetes/pkg/util/node).
NODE_UNREACHABLE_REASON = "NodeLost"
SCHEDULING_GATED = "SchedulingGated"

POD_COLUMNS = (
    NAME_COLUMN,
    Column("Ready", "string", "The aggregate readiness state of this pod for accepting traffic."),
    Column("Status", "string", "The aggregate status of the containers in this pod."),
    Column(
        "Restarts",
        "string",
        "The number of times the containers in this pod have been restarted and when the last container in this "
        "pod has restarted.",
    ),
    AGE_COLUMN,
    Column(
        "IP",
        "string",
        "podIP address allocated to the pod. Routable at least within the cluster. Empty if not yet allocated.",
        priority=1,
    ),
    Column(
        "Node",
        "string",
        "NodeName indicates in which node this pod is scheduled. If empty, this pod is a candidate for scheduling "
        "by the scheduler defined in schedulerName. Once this field is set, the kubelet for this node becomes "
        "responsible for the lifecycle of this pod. This field should not be used to express a desire for the pod "
        "to be scheduled on a specific node. "
        "https://kubernetes.io/docs/concepts/scheduling-eviction/assign-pod-node/#nodename",
        priority=1,
    ),
    Column(
        "Nominated Node",
        "string",
        "nominatedNodeName is set only when this pod preempts other pods on the node, but it cannot be scheduled "
        "right away as preemption victims receive their graceful termination periods. This field does not "
        "guarantee that the pod will be scheduled on this node. Scheduler may decide to place the pod elsewhere if "
        "other nodes become available sooner. Scheduler may also decide to give the resources on this node to a "
        "higher priority pod that is created after preemption. As a result, this field may be different than "
        "PodSpec.nodeName when the pod is scheduled.",
        priority=1,
    ),
    Column(
        "Readiness Gates",
        "string",
        "If specified, all readiness gates will be evaluated for pod readiness. A pod is ready when all its "
        'containers are ready AND all conditions specified in the readiness gates have status equal to "True" '
        "More info: https://git.k8s.io/enhancements/keps/sig-network/580-pod-readiness-gates",
        priority=1,
    ),
)


@dataclass
class PodSummary:
    """What printPod derives from a pod before formatting: status reason, ready/total, restarts."""

    reason: str
    ready: int
    total: int
    restarts: int
    last_restart: datetime | None


def _is_sidecar(init_container: Mapping[str, Any] | None) -> bool:
    # podutil.IsRestartableInitContainer: an init container with restartPolicy Always.
    return init_container is not None and get_str(init_container, "restartPolicy") == "Always"


def _later(current: datetime | None, status: Mapping[str, Any]) -> datetime | None:
    """Keep the latest lastState.terminated.finishedAt seen (Go's lastRestartDate.Before)."""
    finished = parse_time(get(status, "lastState", "terminated", "finishedAt"))
    if finished is None:
        return current
    return finished if current is None or current < finished else current


def _condition(pod: Obj, ctype: str) -> Mapping[str, Any] | None:
    return next((c for c in get_dicts(pod, "status", "conditions") if get_str(c, "type") == ctype), None)


def _initialized(pod: Obj) -> bool:
    cond = _condition(pod, "Initialized")
    return cond is not None and get_str(cond, "status") == "True"


def _ready_condition(pod: Obj) -> bool:
    return any(
        get_str(c, "type") == "Ready" and get_str(c, "status") == "True" for c in get_dicts(pod, "status", "conditions")
    )


def _terminated_reason(terminated: Mapping[str, Any], prefix: str) -> str:
    reason = get_str(terminated, "reason")
    if reason:
        return prefix + reason
    signal = get_int(terminated, "signal")
    if signal != 0:
        return f"{prefix}Signal:{signal}"
    return f"{prefix}ExitCode:{get_int(terminated, 'exitCode')}"


@dataclass
class _InitScan:
    reason: str | None = None
    initializing: bool = False
    ready: int = 0
    restarts: int = 0
    last_restart: datetime | None = None
    sidecar_restarts: int = 0
    sidecar_last_restart: datetime | None = None


def _scan_init_containers(pod: Obj) -> _InitScan:
    """The init-container loop of printPod: stops at the first init container that is not done."""
    specs = {get_str(c, "name"): c for c in get_dicts(pod, "spec", "initContainers")}
    total = len(get_dicts(pod, "spec", "initContainers"))
    scan = _InitScan()
    for index, status in enumerate(get_dicts(pod, "status", "initContainerStatuses")):
        restarts = get_int(status, "restartCount")
        scan.restarts += restarts
        scan.last_restart = _later(scan.last_restart, status)
        sidecar = _is_sidecar(specs.get(get_str(status, "name")))
        if sidecar:
            scan.sidecar_restarts += restarts
            scan.sidecar_last_restart = _later(scan.sidecar_last_restart, status)
        terminated = get(status, "state", "terminated")
        waiting_reason = get_str(status, "state", "waiting", "reason")
        if isinstance(terminated, Mapping) and get_int(terminated, "exitCode") == 0:
            continue
        if sidecar and get(status, "started") is True:
            scan.ready += 1 if get(status, "ready") is True else 0
            continue
        if isinstance(terminated, Mapping):
            scan.reason = _terminated_reason(terminated, "Init:")
        elif waiting_reason and waiting_reason != "PodInitializing":
            scan.reason = "Init:" + waiting_reason
        else:
            scan.reason = f"Init:{index}/{total}"
        scan.initializing = True
        break
    return scan


def _base_reason(pod: Obj) -> str:
    reason = get_str(pod, "status", "reason") or get_str(pod, "status", "phase")
    for cond in get_dicts(pod, "status", "conditions"):
        if get_str(cond, "type") == "PodScheduled" and get_str(cond, "reason") == SCHEDULING_GATED:
            reason = SCHEDULING_GATED
    return reason


def summarize_pod(pod: Obj) -> PodSummary:
    """Upstream printPod, step by step, without the formatting."""
    specs = get_dicts(pod, "spec", "initContainers")
    total = len(get_dicts(pod, "spec", "containers")) + sum(1 for c in specs if _is_sidecar(c))
    scan = _scan_init_containers(pod)
    reason = scan.reason or _base_reason(pod)
    ready, restarts, last_restart = scan.ready, scan.restarts, scan.last_restart
    if not scan.initializing or _initialized(pod):
        # Once initialized, only sidecar restarts carry over from the init containers.
        restarts, last_restart = scan.sidecar_restarts, scan.sidecar_last_restart
        has_running = False
        # Upstream walks the statuses backwards, so the first container's state wins the STATUS column.
        for status in reversed(get_dicts(pod, "status", "containerStatuses")):
            restarts += get_int(status, "restartCount")
            last_restart = _later(last_restart, status)
            waiting_reason = get_str(status, "state", "waiting", "reason")
            terminated = get(status, "state", "terminated")
            if waiting_reason:
                reason = waiting_reason
            elif isinstance(terminated, Mapping):
                reason = _terminated_reason(terminated, "")
            elif get(status, "ready") is True and isinstance(get(status, "state", "running"), Mapping):
                has_running = True
                ready += 1
        if reason == "Completed" and has_running:
            # A running pod whose first container completed: Running if the pod is Ready, else NotReady.
            reason = "Running" if _ready_condition(pod) else "NotReady"
    reason = _deletion_reason(pod, reason)
    return PodSummary(reason, ready, total, restarts, last_restart)


def _deletion_reason(pod: Obj, reason: str) -> str:
    if get(pod, "metadata", "deletionTimestamp") is None:
        return reason
    if get_str(pod, "status", "reason") == NODE_UNREACHABLE_REASON:
        return "Unknown"
    if get_str(pod, "status", "phase") not in ("Succeeded", "Failed"):
        return "Terminating"
    return reason


def pod_status(pod: Obj) -> str:
    """The STATUS column as kubectl shows it (e.g. Running, CrashLoopBackOff, Init:1/2, OOMKilled, Terminating)."""
    return summarize_pod(pod).reason


def pod_ready(pod: Obj) -> str:
    """The READY column, e.g. `1/2`."""
    summary = summarize_pod(pod)
    return f"{summary.ready}/{summary.total}"


def _restarts_cell(summary: PodSummary, now: datetime) -> str:
    if summary.restarts != 0 and summary.last_restart is not None:
        return f"{summary.restarts} ({since(summary.last_restart, now)} ago)"
    return str(summary.restarts)


def pod_restarts(pod: Obj, now: datetime) -> str:
    """The RESTARTS column, e.g. `5 (2m ago)` using the latest lastState.terminated.finishedAt."""
    return _restarts_cell(summarize_pod(pod), now)


def _pod_ip(pod: Obj) -> str:
    ips = get_dicts(pod, "status", "podIPs")
    # podIP is the singular mirror of podIPs[0]; accept it for objects that only set the old field.
    ip = get_str(ips[0], "ip") if ips else get_str(pod, "status", "podIP")
    return ip or NONE


def _readiness_gates(pod: Obj) -> str:
    gates = get_dicts(pod, "spec", "readinessGates")
    if not gates:
        return NONE
    satisfied = 0
    for gate in gates:
        cond = _condition(pod, get_str(gate, "conditionType"))
        if cond is not None and get_str(cond, "status") == "True":
            satisfied += 1
    return f"{satisfied}/{len(gates)}"


def pod_cells(pod: Obj, now: datetime) -> list[Cell]:
    summary = summarize_pod(pod)
    return [
        name_of(pod),
        f"{summary.ready}/{summary.total}",
        summary.reason,
        _restarts_cell(summary, now),
        age(pod, now),
        _pod_ip(pod),
        get_str(pod, "spec", "nodeName") or NONE,
        get_str(pod, "status", "nominatedNodeName") or NONE,
        _readiness_gates(pod),
    ]


def pod_conditions(pod: Obj) -> list[dict[str, str]]:
    """Row conditions upstream attaches to finished pods (metav1.RowCompleted)."""
    phase = get_str(pod, "status", "phase")
    if phase == "Succeeded":
        return [
            {
                "type": "Completed",
                "status": "True",
                "reason": "Succeeded",
                "message": "The pod has completed successfully.",
            }
        ]
    if phase == "Failed":
        return [{"type": "Completed", "status": "True", "reason": "Failed", "message": "The pod failed."}]
    return []


PRINTERS = {"pods": Printer(POD_COLUMNS, pod_cells, pod_conditions)}

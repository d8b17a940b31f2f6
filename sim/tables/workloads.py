"""Deployment, ReplicaSet, StatefulSet, DaemonSet, ControllerRevision, HorizontalPodAutoscaler and
PodDisruptionBudget columns (upstream printers.go).

Layer: sim (the simulated cluster; apart from the product).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from ._common import (
    AGE_COLUMN,
    CONTAINERS_DOC,
    IMAGES_DOC,
    NAME_COLUMN,
    NONE,
    UNKNOWN,
    UNSET,
    Cell,
    Column,
    Obj,
    Printer,
    SelectorError,
    age,
    containers_cells,
    format_label_selector,
    format_labels,
    get,
    get_dicts,
    get_int,
    get_map,
    get_str,
    int_or_string,
    name_of,
    quantity,
    selector_string,
)

# spec.replicas is defaulted to 1 by the API server for both kinds; a partial object reads the same way.
_DEFAULT_REPLICAS = 1

DEPLOYMENT_COLUMNS = (
    NAME_COLUMN,
    Column("Ready", "string", "Number of the pod with ready state"),
    Column(
        "Up-to-date",
        "string",
        "Total number of non-terminated pods targeted by this deployment that have the desired template spec.",
    ),
    Column(
        "Available",
        "string",
        "Total number of available pods (ready for at least minReadySeconds) targeted by this deployment.",
    ),
    AGE_COLUMN,
    Column("Containers", "string", CONTAINERS_DOC, priority=1),
    Column("Images", "string", IMAGES_DOC, priority=1),
    Column(
        "Selector",
        "string",
        "Label selector for pods. Existing ReplicaSets whose pods are selected by this will be the ones affected "
        "by this deployment.",
        priority=1,
    ),
)

REPLICASET_COLUMNS = (
    NAME_COLUMN,
    Column(
        "Desired",
        "integer",
        "Replicas is the number of desired replicas. This is a pointer to distinguish between explicit zero and "
        "unspecified. Defaults to 1. More info: "
        "https://kubernetes.io/docs/concepts/workloads/controllers/replicationcontroller/#what-is-a-replicationcontroller",
    ),
    Column(
        "Current",
        "integer",
        "Replicas is the most recently observed number of replicas. More info: "
        "https://kubernetes.io/docs/concepts/workloads/controllers/replicationcontroller/#what-is-a-replicationcontroller",
    ),
    Column("Ready", "integer", "The number of ready replicas for this replica set."),
    AGE_COLUMN,
    Column("Containers", "string", CONTAINERS_DOC, priority=1),
    Column("Images", "string", IMAGES_DOC, priority=1),
    Column(
        "Selector",
        "string",
        "Selector is a label query over pods that should match the replica count. If the selector is empty, it is "
        "defaulted to the labels present on the pod template. Label keys and values that must match in order to be "
        "controlled by this replica set. More info: "
        "https://kubernetes.io/docs/concepts/overview/working-with-objects/labels/#label-selectors",
        priority=1,
    ),
)

STATEFULSET_COLUMNS = (
    NAME_COLUMN,
    Column("Ready", "string", "Number of the pod with ready state"),
    AGE_COLUMN,
    Column("Containers", "string", CONTAINERS_DOC, priority=1),
    Column("Images", "string", IMAGES_DOC, priority=1),
)

_DAEMONSET_DOCS = "More info: https://kubernetes.io/docs/concepts/workloads/controllers/daemonset/"
DAEMONSET_COLUMNS = (
    NAME_COLUMN,
    Column(
        "Desired",
        "integer",
        "The total number of nodes that should be running the daemon pod (including nodes correctly running the "
        f"daemon pod). {_DAEMONSET_DOCS}",
    ),
    Column(
        "Current",
        "integer",
        f"The number of nodes that are running at least 1 daemon pod and are supposed to run the daemon pod. "
        f"{_DAEMONSET_DOCS}",
    ),
    Column(
        "Ready",
        "integer",
        "numberReady is the number of nodes that should be running the daemon pod and have one or more of the "
        "daemon pod running with a Ready Condition.",
    ),
    Column("Up-to-date", "integer", "The total number of nodes that are running updated daemon pod"),
    Column(
        "Available",
        "integer",
        "The number of nodes that should be running the daemon pod and have one or more of the daemon pod running "
        "and available (ready for at least spec.minReadySeconds)",
    ),
    Column(
        "Node Selector",
        "string",
        "NodeSelector is a selector which must be true for the pod to fit on a node. Selector which must match a "
        "node's labels for the pod to be scheduled on that node. More info: "
        "https://kubernetes.io/docs/concepts/configuration/assign-pod-node/",
    ),
    AGE_COLUMN,
    Column("Containers", "string", CONTAINERS_DOC, priority=1),
    Column("Images", "string", IMAGES_DOC, priority=1),
    Column(
        "Selector",
        "string",
        "A label query over pods that are managed by the daemon set. Must match in order to be controlled. It must "
        "match the pod template's labels. More info: "
        "https://kubernetes.io/docs/concepts/overview/working-with-objects/labels/#label-selectors",
        priority=1,
    ),
)

CONTROLLER_REVISION_COLUMNS = (
    NAME_COLUMN,
    Column("Controller", "string", "Controller of the object"),
    Column("Revision", "string", "Revision indicates the revision of the state represented by Data."),
    AGE_COLUMN,
)

HPA_COLUMNS = (
    NAME_COLUMN,
    Column(
        "Reference",
        "string",
        "reference to scaled resource; horizontal pod autoscaler will learn the current "
        "resource consumption and will set the desired number of pods by using its Scale subresource.",
    ),
    Column(
        "Targets",
        "string",
        "metrics contains the specifications for which to use to calculate the desired "
        "replica count (the maximum replica count across all metrics will be used).  The desired replica count is "
        "calculated multiplying the ratio between the target value and the current value by the current number of "
        "pods.  Ergo, metrics used must decrease as the pod count is increased, and vice-versa.  See the "
        "individual metric source types for more information about how each type of metric must respond.",
    ),
    Column(
        "MinPods",
        "string",
        "minReplicas is the lower limit for the number of replicas to which the autoscaler "
        "can scale down.  It defaults to 1 pod.  minReplicas is allowed to be 0 if the alpha feature gate "
        "HPAScaleToZero is enabled and at least one Object or External metric is configured.  Scaling is active "
        "as long as at least one metric value is available.",
    ),
    Column(
        "MaxPods",
        "string",
        "maxReplicas is the upper limit for the number of replicas to which the autoscaler "
        "can scale up. It cannot be less that minReplicas.",
    ),
    Column("Replicas", "string", "currentReplicas is current number of replicas of pods managed by this autoscaler."),
    AGE_COLUMN,
)

PDB_COLUMNS = (
    NAME_COLUMN,
    Column("Min Available", "string", "The minimum number of pods that must be available."),
    Column("Max Unavailable", "string", "The maximum number of pods that may be unavailable."),
    Column("Allowed Disruptions", "integer", "Calculated number of pods that may be disrupted at this time."),
    AGE_COLUMN,
)


def _template_containers(obj: Obj) -> list[Mapping[str, Any]]:
    return get_dicts(obj, "spec", "template", "spec", "containers")


def deployment_cells(obj: Obj, now: datetime) -> list[Cell]:
    desired = get_int(obj, "spec", "replicas", default=_DEFAULT_REPLICAS)
    names, images = containers_cells(_template_containers(obj))
    try:
        # printDeployment uses selector.String() directly: an empty selector prints as "", not <none>.
        selector = selector_string(get(obj, "spec", "selector"))
    except SelectorError:
        selector = "<invalid>"
    return [
        name_of(obj),
        f"{get_int(obj, 'status', 'readyReplicas')}/{desired}",
        get_int(obj, "status", "updatedReplicas"),
        get_int(obj, "status", "availableReplicas"),
        age(obj, now),
        names,
        images,
        selector,
    ]


def replicaset_cells(obj: Obj, now: datetime) -> list[Cell]:
    names, images = containers_cells(_template_containers(obj))
    return [
        name_of(obj),
        get_int(obj, "spec", "replicas", default=_DEFAULT_REPLICAS),
        get_int(obj, "status", "replicas"),
        get_int(obj, "status", "readyReplicas"),
        age(obj, now),
        names,
        images,
        format_label_selector(get(obj, "spec", "selector")),
    ]


def statefulset_cells(obj: Obj, now: datetime) -> list[Cell]:
    names, images = containers_cells(_template_containers(obj))
    desired = get_int(obj, "spec", "replicas", default=_DEFAULT_REPLICAS)
    return [name_of(obj), f"{get_int(obj, 'status', 'readyReplicas')}/{desired}", age(obj, now), names, images]


def daemonset_cells(obj: Obj, now: datetime) -> list[Cell]:
    names, images = containers_cells(_template_containers(obj))
    return [
        name_of(obj),
        get_int(obj, "status", "desiredNumberScheduled"),
        get_int(obj, "status", "currentNumberScheduled"),
        get_int(obj, "status", "numberReady"),
        get_int(obj, "status", "updatedNumberScheduled"),
        get_int(obj, "status", "numberAvailable"),
        format_labels(get(obj, "spec", "template", "spec", "nodeSelector")),
        age(obj, now),
        names,
        images,
        format_label_selector(get(obj, "spec", "selector")),
    ]


def controller_revision_cells(obj: Obj, now: datetime) -> list[Cell]:
    controller = NONE
    for ref in get_dicts(obj, "metadata", "ownerReferences"):
        if ref.get("controller") is True:
            # formatResourceName with the kind: lower-cased Kind.group, e.g. statefulset.apps/web
            group = get_str(ref, "apiVersion").split("/")[0] if "/" in get_str(ref, "apiVersion") else ""
            kind = get_str(ref, "kind") + (f".{group}" if group else "")
            controller = f"{kind.lower()}/{get_str(ref, 'name')}"
            break
    return [name_of(obj), controller, get_int(obj, "revision"), age(obj, now)]


# --- HPA TARGETS (formatHPAMetrics); statuses are matched to specs by position, as upstream does ---


def _q(value: Any) -> str:
    # Quantity.String() on a nil *Quantity prints "<nil>"; upstream calls it on optional fields unguarded.
    return "<nil>" if value is None else quantity(value)


def _current_status(statuses: list[Mapping[str, Any]], index: int, field: str) -> Mapping[str, Any] | None:
    if index < len(statuses):
        value = get(statuses[index], field)
        if isinstance(value, Mapping):
            return value
    return None


def _value_metric(spec: Mapping[str, Any], status: Mapping[str, Any] | None, with_avg: bool) -> str:
    """External and Object metrics: `cur/target (avg)` for an AverageValue target, else `cur/target`."""
    target = get_map(spec, "target")
    if with_avg and get(target, "averageValue") is not None:
        current = UNKNOWN
        if status is not None and get(status, "current", "averageValue") is not None:
            current = quantity(get(status, "current", "averageValue"))
        return f"{current}/{_q(get(target, 'averageValue'))} (avg)"
    current = UNKNOWN if status is None else _q(get(status, "current", "value"))
    return f"{current}/{_q(get(target, 'value'))}"


def _resource_metric(spec: Mapping[str, Any], status: Mapping[str, Any] | None) -> str:
    """Resource and ContainerResource metrics: `cpu: 250%/80%`, or values like `memory: 100Mi/200Mi`."""
    name = get_str(spec, "name")
    target = get_map(spec, "target")
    if get(target, "averageValue") is not None:
        current = UNKNOWN
        if status is not None:
            current = _q(get(status, "current", "averageValue"))
        return f"{name}: {current}/{_q(get(target, 'averageValue'))}"
    current = UNKNOWN
    utilization = get(status, "current", "averageUtilization") if status is not None else None
    if isinstance(utilization, int) and not isinstance(utilization, bool):
        current = f"{utilization}%"
    target_util = get(target, "averageUtilization")
    target_text = f"{target_util}%" if isinstance(target_util, int) and not isinstance(target_util, bool) else "<auto>"
    return f"{name}: {current}/{target_text}"


_METRIC_FIELDS = {
    "External": "external",
    "Pods": "pods",
    "Object": "object",
    "Resource": "resource",
    "ContainerResource": "containerResource",
}


def _format_metric(spec: Mapping[str, Any], statuses: list[Mapping[str, Any]], index: int) -> str:
    mtype = get_str(spec, "type")
    field = _METRIC_FIELDS.get(mtype)
    if field is None:
        return "<unknown type>"
    source = get_map(spec, field)
    status = _current_status(statuses, index, field)
    if mtype in ("External", "Object"):
        return _value_metric(source, status, with_avg=True)
    if mtype == "Pods":
        current = UNKNOWN if status is None else _q(get(status, "current", "averageValue"))
        return f"{current}/{_q(get(source, 'target', 'averageValue'))}"
    return _resource_metric(source, status)


def _v1_metrics(obj: Obj) -> tuple[list[Mapping[str, Any]], list[Mapping[str, Any]]]:
    """autoscaling/v1 objects, converted the way the API server converts them to the internal version."""
    target = get(obj, "spec", "targetCPUUtilizationPercentage")
    if target is None:
        return [], []
    spec = {"type": "Resource", "resource": {"name": "cpu", "target": {"averageUtilization": target}}}
    current = get(obj, "status", "currentCPUUtilizationPercentage")
    statuses: list[Mapping[str, Any]] = []
    if current is not None:
        statuses.append({"type": "Resource", "resource": {"name": "cpu", "current": {"averageUtilization": current}}})
    return [spec], statuses


def hpa_targets(obj: Obj) -> str:
    specs = get_dicts(obj, "spec", "metrics")
    statuses = get_dicts(obj, "status", "currentMetrics")
    if not specs and get(obj, "spec", "metrics") is None:
        specs, statuses = _v1_metrics(obj)
    if not specs:
        return NONE
    shown = 2
    texts = [_format_metric(spec, statuses, i) for i, spec in enumerate(specs)]
    if len(texts) > shown:
        return f"{', '.join(texts[:shown])} + {len(texts) - shown} more..."
    return ", ".join(texts)


def hpa_cells(obj: Obj, now: datetime) -> list[Cell]:
    ref = get_map(obj, "spec", "scaleTargetRef")
    min_replicas = get(obj, "spec", "minReplicas")
    min_pods = str(min_replicas) if isinstance(min_replicas, int) and not isinstance(min_replicas, bool) else UNSET
    return [
        name_of(obj),
        f"{get_str(ref, 'kind')}/{get_str(ref, 'name')}",
        hpa_targets(obj),
        min_pods,
        get_int(obj, "spec", "maxReplicas"),
        get_int(obj, "status", "currentReplicas"),
        age(obj, now),
    ]


def pdb_cells(obj: Obj, now: datetime) -> list[Cell]:
    return [
        name_of(obj),
        int_or_string(get(obj, "spec", "minAvailable")) or "N/A",
        int_or_string(get(obj, "spec", "maxUnavailable")) or "N/A",
        get_int(obj, "status", "disruptionsAllowed"),
        age(obj, now),
    ]


PRINTERS = {
    "deployments.apps": Printer(DEPLOYMENT_COLUMNS, deployment_cells),
    "replicasets.apps": Printer(REPLICASET_COLUMNS, replicaset_cells),
    "statefulsets.apps": Printer(STATEFULSET_COLUMNS, statefulset_cells),
    "daemonsets.apps": Printer(DAEMONSET_COLUMNS, daemonset_cells),
    "controllerrevisions.apps": Printer(CONTROLLER_REVISION_COLUMNS, controller_revision_cells),
    "horizontalpodautoscalers.autoscaling": Printer(HPA_COLUMNS, hpa_cells),
    "poddisruptionbudgets.policy": Printer(PDB_COLUMNS, pdb_cells),
}

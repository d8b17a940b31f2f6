"""Node, Namespace and Event columns (upstream printers.go).

Layer: sim (the simulated cluster; apart from the product).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from ._common import (
    AGE_COLUMN,
    NAME_COLUMN,
    NAME_DOC,
    NONE,
    UNKNOWN,
    Cell,
    Column,
    Obj,
    Printer,
    age,
    get,
    get_dicts,
    get_int,
    get_map,
    get_str,
    name_of,
    since,
)

_ROLE_PREFIX = "node-role.kubernetes.io/"
_ROLE_LABEL = "kubernetes.io/role"
_ADDRESSES_DOC = (
    "List of addresses reachable to the node. Queried from cloud provider, if available. More info: "
    "https://kubernetes.io/docs/reference/node/node-status/#addresses Note: This field is declared as mergeable, "
    "but the merge key is not sufficiently unique, which can cause data corruption when it is merged. Callers "
    "should instead use a full-replacement patch. See https://pr.k8s.io/79391 for an example. Consumers should "
    "assume that addresses can change during the lifetime of a Node. However, there are some exceptions where "
    "this may not be possible, such as Pods that inherit a Node's address in its own status or consumers of the "
    "downward API (status.hostIP)."
)

NODE_COLUMNS = (
    NAME_COLUMN,
    Column("Status", "string", "The status of the node"),
    Column("Roles", "string", "The roles of the node"),
    AGE_COLUMN,
    Column("Version", "string", "Kubelet Version reported by the node."),
    Column("Internal-IP", "string", _ADDRESSES_DOC, priority=1),
    Column("External-IP", "string", _ADDRESSES_DOC, priority=1),
    Column(
        "OS-Image",
        "string",
        "OS Image reported by the node from /etc/os-release (e.g. Debian GNU/Linux 7 (wheezy)).",
        priority=1,
    ),
    Column(
        "Kernel-Version",
        "string",
        "Kernel Version reported by the node from 'uname -r' (e.g. 3.16.0-0.bpo.4-amd64).",
        priority=1,
    ),
    Column(
        "Container-Runtime",
        "string",
        "ContainerRuntime Version reported by the node through runtime remote API (e.g. containerd://1.4.2).",
        priority=1,
    ),
)

NAMESPACE_COLUMNS = (NAME_COLUMN, Column("Status", "string", "The status of the namespace"), AGE_COLUMN)

EVENT_COLUMNS = (
    Column("Last Seen", "string", "The time at which the most recent occurrence of this event was recorded."),
    Column("Type", "string", "Type of this event (Normal, Warning), new types could be added in the future"),
    Column(
        "Reason",
        "string",
        "This should be a short, machine understandable string that gives the reason for "
        "the transition into the object's current status.",
    ),
    Column("Object", "string", "The object that this event is about."),
    Column(
        "Subobject",
        "string",
        "If referring to a piece of an object instead of an entire object, this string "
        "should contain a valid JSON/Go field access statement, such as desiredState.manifest.containers[2]. For "
        "example, if the object reference is to a container within a pod, this would take on a value like: "
        '"spec.containers{name}" (where "name" refers to the name of the container that triggered the event) or '
        'if no container name is specified "spec.containers[2]" (container with index 2 in this pod). This '
        "syntax is chosen only to have some well-defined way of referencing a part of an object.",
        priority=1,
    ),
    Column(
        "Source",
        "string",
        "The component reporting this event. Should be a short machine understandable string.",
        priority=1,
    ),
    Column("Message", "string", "A human-readable description of the status of this operation."),
    Column(
        "First Seen",
        "string",
        "The time at which the event was first recorded. (Time of server receipt is in TypeMeta.)",
        priority=1,
    ),
    Column("Count", "string", "The number of times this event has occurred.", priority=1),
    Column("Name", "string", NAME_DOC, priority=1, format="name"),
)


def node_status(node: Obj) -> str:
    """Ready / NotReady / Unknown (no Ready condition), plus SchedulingDisabled when cordoned."""
    ready = None
    for cond in get_dicts(node, "status", "conditions"):
        if get_str(cond, "type") == "Ready":
            ready = cond  # the last one wins, as in upstream's condition map
    if ready is None:
        parts = ["Unknown"]
    else:
        parts = ["Ready" if get_str(ready, "status") == "True" else "NotReady"]
    if get(node, "spec", "unschedulable") is True:
        parts.append("SchedulingDisabled")
    return ",".join(parts)


def node_roles(node: Obj) -> str:
    roles: set[str] = set()
    for key, value in get_map(node, "metadata", "labels").items():
        if key.startswith(_ROLE_PREFIX) and key[len(_ROLE_PREFIX) :]:
            roles.add(key[len(_ROLE_PREFIX) :])
        elif key == _ROLE_LABEL and isinstance(value, str) and value:
            roles.add(value)
    return ",".join(sorted(roles)) or NONE


def _node_address(node: Obj, kind: str) -> str:
    for address in get_dicts(node, "status", "addresses"):
        if get_str(address, "type") == kind:
            return get_str(address, "address")
    return NONE


def node_cells(node: Obj, now: datetime) -> list[Cell]:
    info = get_map(node, "status", "nodeInfo")
    return [
        name_of(node),
        node_status(node),
        node_roles(node),
        age(node, now),
        get_str(info, "kubeletVersion"),
        _node_address(node, "InternalIP"),
        _node_address(node, "ExternalIP"),
        get_str(info, "osImage") or UNKNOWN,
        get_str(info, "kernelVersion") or UNKNOWN,
        get_str(info, "containerRuntimeVersion") or UNKNOWN,
    ]


def namespace_cells(obj: Obj, now: datetime) -> list[Cell]:
    return [name_of(obj), get_str(obj, "status", "phase"), age(obj, now)]


def _event_source(event: Obj) -> str:
    """formatEventSource: component (or reportingController), then `, host` (or reportingInstance) when set."""
    component = get_str(event, "source", "component") or get_str(event, "reportingComponent")
    instance = get_str(event, "source", "host") or get_str(event, "reportingInstance")
    return f"{component}, {instance}" if instance else component


def _event_times(event: Obj, now: datetime) -> tuple[str, str]:
    first = since(get(event, "firstTimestamp"), now)
    if get(event, "firstTimestamp") is None:
        first = since(get(event, "eventTime"), now)
    last = since(get(event, "lastTimestamp"), now) if get(event, "lastTimestamp") is not None else first
    if _has_series(event):
        last = since(get(event, "series", "lastObservedTime"), now)
    return first, last


def _has_series(event: Obj) -> bool:
    return isinstance(get(event, "series"), Mapping)


def event_cells(event: Obj, now: datetime) -> list[Cell]:
    first, last = _event_times(event, now)
    if _has_series(event):
        count = get_int(event, "series", "count")
    else:
        # Singleton events of the new events API carry no count.
        count = get_int(event, "count") or 1
    kind = get_str(event, "involvedObject", "kind").lower()
    involved = get_str(event, "involvedObject", "name")
    return [
        last,
        get_str(event, "type"),
        get_str(event, "reason"),
        f"{kind}/{involved}" if involved else kind,
        get_str(event, "involvedObject", "fieldPath"),
        _event_source(event),
        get_str(event, "message").strip(),
        first,
        count,
        name_of(event),
    ]


PRINTERS = {
    "nodes": Printer(NODE_COLUMNS, node_cells),
    "namespaces": Printer(NAMESPACE_COLUMNS, namespace_cells),
    "events": Printer(EVENT_COLUMNS, event_cells),
}

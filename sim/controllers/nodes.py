"""Node status and taints from the `sim.incident-response.dev/condition` annotation and spec.unschedulable.

Layer: sim (the simulated cluster; apart from the product).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from incident_response.sim import behaviors, errors
from incident_response.sim.controllers.common import Obj, meta, set_condition
from incident_response.sim.controllers.runtime import image_size
from incident_response.sim.controllers.snapshot import Snapshot
from incident_response.sim.resources import NODES
from incident_response.sim.store import timestamp

if TYPE_CHECKING:
    from incident_response.sim.cluster import Cluster

COMPONENT = "node-controller"

_PRESSURE = {
    "MemoryPressure": (
        "KubeletHasSufficientMemory",
        "kubelet has sufficient memory available",
        "KubeletHasInsufficientMemory",
        "kubelet has insufficient memory available",
    ),
    "DiskPressure": (
        "KubeletHasNoDiskPressure",
        "kubelet has no disk pressure",
        "KubeletHasDiskPressure",
        "kubelet has disk pressure",
    ),
    "PIDPressure": (
        "KubeletHasSufficientPID",
        "kubelet has sufficient PID available",
        "KubeletHasInsufficientPID",
        "kubelet has insufficient PID available",
    ),
}
# Ready Unknown (the kubelet stopped posting status): unreachable, NoSchedule here and NoExecute below.
UNREACHABLE = "node.kubernetes.io/unreachable"
_TAINTS = {
    "NotReady": (UNREACHABLE,),
    "MemoryPressure": ("node.kubernetes.io/memory-pressure",),
    "DiskPressure": ("node.kubernetes.io/disk-pressure",),
}
UNSCHEDULABLE_TAINT = "node.kubernetes.io/unschedulable"
# Taints this controller owns, recomputed each sync: all come from the table above, so none is added again each tick.
MANAGED_TAINTS = {*(key for keys in _TAINTS.values() for key in keys), UNSCHEDULABLE_TAINT}


def desired_conditions(node: Obj, now: str) -> list[Obj]:
    problem = behaviors.node_condition(node)
    conditions = list((node.get("status") or {}).get("conditions") or [])
    for kind, (ok_reason, ok_msg, bad_reason, bad_msg) in _PRESSURE.items():
        bad = problem == kind
        conditions = set_condition(
            conditions,
            {
                "type": kind,
                "status": "True" if bad else "False",
                "lastHeartbeatTime": now,
                "reason": bad_reason if bad else ok_reason,
                "message": bad_msg if bad else ok_msg,
            },
            now,
        )
    if problem == "NotReady":
        ready = {
            "type": "Ready",
            "status": "Unknown",
            "lastHeartbeatTime": now,
            "reason": "NodeStatusUnknown",
            "message": "Kubelet stopped posting node status.",
        }
    else:
        ready = {
            "type": "Ready",
            "status": "True",
            "lastHeartbeatTime": now,
            "reason": "KubeletReady",
            "message": "kubelet is posting ready status",
        }
    conditions = set_condition(conditions, ready, now)
    for cond in conditions:
        # Heartbeats are not re-written every tick: only a condition change moves them.
        old = next(
            (c for c in (node.get("status") or {}).get("conditions") or [] if c.get("type") == cond["type"]), None
        )
        if old is not None and old.get("status") == cond.get("status") and old.get("reason") == cond.get("reason"):
            cond["lastHeartbeatTime"] = old.get("lastHeartbeatTime", now)
    order = ["MemoryPressure", "DiskPressure", "PIDPressure", "Ready"]
    conditions.sort(key=lambda c: order.index(c["type"]) if c.get("type") in order else len(order))
    return conditions


def desired_taints(node: Obj, now: str) -> list[Obj]:
    problem = behaviors.node_condition(node)
    spec = node.get("spec") or {}
    taints = [t for t in spec.get("taints") or [] if t.get("key") not in MANAGED_TAINTS]
    if spec.get("unschedulable"):
        taints.append({"key": UNSCHEDULABLE_TAINT, "effect": "NoSchedule"})
    taints += [{"key": key, "effect": "NoSchedule"} for key in _TAINTS.get(problem or "", ())]
    if problem == "NotReady":
        # The taint eviction's NoExecute taint, dated when it was first added (tolerationSeconds count from then).
        since = next(
            (
                t.get("timeAdded")
                for t in spec.get("taints") or []
                if t.get("key") == UNREACHABLE and t.get("effect") == "NoExecute"
            ),
            None,
        )
        taints.append({"key": UNREACHABLE, "effect": "NoExecute", "timeAdded": since or now})
    return taints


def node_images(held: frozenset[tuple[str, str]]) -> list[Obj]:
    """A node's status.images as the kubelet reports them (digest and tag names, size; largest first, at most 50)."""
    out: list[Obj] = [{"names": [digest, image], "sizeBytes": image_size(image)} for image, digest in held]
    out.sort(key=lambda entry: (-int(entry["sizeBytes"]), entry["names"][1]))
    return out[:50]


def node_up(node: Obj) -> bool:
    return behaviors.node_condition(node) != "NotReady"


class NodeController:
    def __init__(self, cluster: Cluster) -> None:
        self.cluster = cluster
        self.store = cluster.store
        self._was_up: dict[str, bool] = {}
        self._unchanged: dict[str, Obj] = {}  # node objects that needed no write (same object: skip)
        self._images: dict[str, frozenset[tuple[str, str]]] = {}  # the images last written to each node's status

    def sync(self, snap: Snapshot) -> dict[str, bool]:
        now = timestamp(self.store.clock())
        up: dict[str, bool] = {}
        for name, node in snap.nodes.items():
            up[name] = node_up(node)
            held = frozenset(self.cluster.kubelet.present.get(name, {}).items())
            if self._unchanged.get(name) is node and self._images.get(name) == held:
                continue
            conditions = desired_conditions(node, now)
            taints = desired_taints(node, now)
            current_taints = (node.get("spec") or {}).get("taints") or []
            images = node_images(held) if held != self._images.get(name) else None
            if conditions != (node.get("status") or {}).get("conditions") or taints != current_taints or images:

                def apply(
                    obj: Obj, conditions: list[Obj] = conditions, taints: list[Obj] = taints, images: Any = images
                ) -> None:
                    obj.setdefault("status", {})["conditions"] = conditions
                    if images is not None:
                        obj["status"]["images"] = images
                    if taints:
                        obj.setdefault("spec", {})["taints"] = taints
                    else:
                        obj.setdefault("spec", {}).pop("taints", None)

                try:
                    node = self.store.mutate(NODES, None, name, apply)
                except errors.ApiError:
                    continue
                self._images[name] = held
            else:
                self._unchanged[name] = node
            if self._was_up.get(name, True) and not up[name]:
                self._went_down(snap, node)
            self._was_up[name] = up[name]
        return up

    def _went_down(self, snap: Snapshot, node: Obj) -> None:
        name = str(meta(node).get("name"))
        self.cluster.recorder.record(
            node, "Normal", "NodeNotReady", f"Node {name} status is now: NodeNotReady", component=COMPONENT
        )
        for pod in snap.pods:
            if (pod.get("spec") or {}).get("nodeName") == name:
                self.cluster.recorder.record(pod, "Warning", "NodeNotReady", "Node is not ready", component=COMPONENT)

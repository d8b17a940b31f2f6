"""The taint eviction controller: deletes the pods on a node with a NoExecute taint they do not tolerate, at once, or
once the shortest tolerationSeconds of the tolerations they use has passed since the taint was added.

Every pod gets 300 s of the not-ready and unreachable taints (DefaultTolerationSeconds, sim/defaults.py), so five
minutes after a node goes NotReady its pods are deleted: gracefully, so on a node whose kubelet is down they stay
Terminating (their ReplicaSet replaces them at once) until a force delete or the Node object's removal (podgc.py).
Not modelled: the pod's DisruptionTarget condition, and "Cancelling deletion" events (the deadline is recomputed each
tick, so a taint removed in time simply evicts nothing).

Layer: sim (the simulated cluster; apart from the product).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from incident_response.sim import errors
from incident_response.sim.controllers.common import Obj, meta, terminating
from incident_response.sim.controllers.snapshot import Snapshot
from incident_response.sim.resources import PODS

if TYPE_CHECKING:
    from incident_response.sim.cluster import Cluster

COMPONENT = "taint-eviction-controller"


def _tolerates(toleration: Obj, taint: Obj) -> bool:
    """ToleratesTaint: the effect matches (or is empty) and, by operator, the key exists or key and value are equal."""
    if toleration.get("effect") not in (None, "", taint.get("effect")):
        return False
    if toleration.get("operator") == "Exists":
        return toleration.get("key") in (None, "", taint.get("key"))
    return toleration.get("key") == taint.get("key") and toleration.get("value", "") == taint.get("value", "")


def eviction_delay(pod: Obj, taints: list[Obj]) -> float | None:
    """Seconds the pod may stay on a node with these NoExecute taints: 0 when one is not tolerated, the shortest
    tolerationSeconds of the tolerations used (getMinTolerationTime), None when they tolerate it for ever."""
    tolerations = [t for t in (pod.get("spec") or {}).get("tolerations") or [] if isinstance(t, dict)]
    used = []
    for taint in taints:
        match = next((t for t in tolerations if _tolerates(t, taint)), None)
        if match is None:
            return 0.0
        used.append(match)
    seconds = [t["tolerationSeconds"] for t in used if isinstance(t.get("tolerationSeconds"), int)]
    if not seconds:
        return None
    return float(max(min(seconds), 0))


def _added(taint: Obj, fallback: datetime) -> datetime:
    try:
        return datetime.fromisoformat(str(taint.get("timeAdded")).replace("Z", "+00:00"))
    except ValueError:
        return fallback


class TaintEviction:
    def __init__(self, cluster: Cluster) -> None:
        self.cluster = cluster
        self.store = cluster.store

    def sync(self, snap: Snapshot) -> bool:
        tainted = {
            name: [t for t in (node.get("spec") or {}).get("taints") or [] if t.get("effect") == "NoExecute"]
            for name, node in snap.nodes.items()
        }
        tainted = {name: taints for name, taints in tainted.items() if taints}
        if not tainted:
            return False
        now = self.store.clock()
        evicted = False
        for pod in snap.pods:
            taints = tainted.get(str((pod.get("spec") or {}).get("nodeName") or ""))
            if not taints or terminating(pod):
                continue
            delay = eviction_delay(pod, taints)
            if delay is None:
                continue
            since = max(_added(t, now) for t in taints)
            if now >= since + timedelta(seconds=delay):
                evicted = self._evict(pod) or evicted
        return evicted

    def _evict(self, pod: Obj) -> bool:
        namespace, name = str(meta(pod).get("namespace", "")), str(meta(pod).get("name", ""))
        try:
            self.store.delete(PODS, namespace, name, graceful=True)
        except errors.ApiError:
            return False
        self.cluster.recorder.record(
            pod, "Normal", "TaintManagerEviction", f"Marking for deletion Pod {namespace}/{name}", component=COMPONENT
        )
        return True

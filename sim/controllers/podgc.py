"""The pod garbage collector's force deletes: what removes a pod whose kubelet will never confirm its deletion.

Upstream (pkg/controller/podgc) removes, without a grace period, pods bound to a Node object that no longer exists
(gcOrphaned) and terminating pods on a not-ready node tainted node.kubernetes.io/out-of-service (non-graceful node
shutdown, gcTerminating). Without one of these or a force delete, a pod on an unreachable node stays Terminating.

Layer: sim (the simulated cluster; apart from the product).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from incident_response.sim import errors
from incident_response.sim.controllers.common import Obj, meta, terminating
from incident_response.sim.controllers.snapshot import Snapshot
from incident_response.sim.resources import PODS

if TYPE_CHECKING:
    from incident_response.sim.cluster import Cluster

OUT_OF_SERVICE = "node.kubernetes.io/out-of-service"


def out_of_service(node: Obj) -> bool:
    taints = (node.get("spec") or {}).get("taints") or []
    return any(t.get("key") == OUT_OF_SERVICE and t.get("effect") == "NoExecute" for t in taints)


class PodGC:
    def __init__(self, cluster: Cluster) -> None:
        self.cluster = cluster
        self.store = cluster.store

    def sync(self, snap: Snapshot, node_up: dict[str, bool]) -> bool:
        changed = False
        for pod in snap.pods:
            node = (pod.get("spec") or {}).get("nodeName")
            if not node:
                continue
            found = snap.nodes.get(node)
            orphaned = found is None
            fenced = found is not None and not node_up.get(node, True) and terminating(pod) and out_of_service(found)
            if not (orphaned or fenced):
                continue
            try:
                self.store.remove(PODS, meta(pod).get("namespace"), str(meta(pod).get("name")))
            except errors.ApiError:
                continue
            changed = True
        return changed

"""Garbage collection by ownerReferences: dependents whose owner no longer exists are deleted.

Layer: sim (the simulated cluster; apart from the product).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from incident_response.sim import errors
from incident_response.sim.controllers.common import Obj, meta, terminating, uid_of
from incident_response.sim.controllers.snapshot import Snapshot
from incident_response.sim.resources import BY_KIND, CONTROLLERREVISIONS, PODS, REPLICASETS, ResourceType

if TYPE_CHECKING:
    from incident_response.sim.cluster import Cluster


class GarbageCollector:
    """Background propagation: a dependent goes once none of its owners exists any more."""

    def __init__(self, cluster: Cluster) -> None:
        self.cluster = cluster
        self.store = cluster.store
        self._next = 0.0

    def sync(self, snap: Snapshot) -> bool:
        now = self.cluster.now()
        if now < self._next:
            return False
        self._next = now + self.cluster.timing.gc_period
        changed = False
        owners = {uid_of(o) for o in (*snap.deployments, *snap.replicasets, *snap.statefulsets, *snap.daemonsets)}
        revisions = [r for owned in snap.revisions_by_owner.values() for r in owned]
        for res, objects in ((REPLICASETS, snap.replicasets), (CONTROLLERREVISIONS, revisions), (PODS, snap.pods)):
            for obj in objects:
                refs = obj["metadata"].get("ownerReferences")
                if not refs or refs[0].get("uid") in owners:
                    continue  # the common case: its (first) owner is a live Deployment or ReplicaSet
                if not terminating(obj) and not any(self._exists(ref) for ref in refs):
                    changed = self._collect(res, obj) or changed
        return changed

    def _exists(self, ref: Obj) -> bool:
        uid = str(ref.get("uid", ""))
        api_version = str(ref.get("apiVersion", ""))
        group = api_version.split("/")[0] if "/" in api_version else ""
        res = BY_KIND.get((group, str(ref.get("kind", ""))))
        if res is None:
            return True  # an owner kind we do not serve: leave the dependent alone
        return uid in self.cluster.uids(res)

    def _collect(self, res: ResourceType, obj: Obj) -> bool:
        namespace = meta(obj).get("namespace")
        name = str(meta(obj).get("name"))
        try:
            if res is PODS and (obj.get("spec") or {}).get("nodeName"):
                self.store.delete(PODS, namespace, name, graceful=True)
            else:
                self.store.remove(res, namespace, name)
        except errors.ApiError:
            return False
        return True

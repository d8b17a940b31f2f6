"""The resource quota controller: keeps each ResourceQuota's status.hard and status.used true to the namespace.

Layer: sim (the simulated cluster; apart from the product).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from incident_response.sim import errors
from incident_response.sim.controllers.common import Obj, meta
from incident_response.sim.controllers.snapshot import Snapshot
from incident_response.sim.quota import Ledger
from incident_response.sim.resources import RESOURCEQUOTAS

if TYPE_CHECKING:
    from incident_response.sim.cluster import Cluster


class QuotaController:
    def __init__(self, cluster: Cluster) -> None:
        self.store = cluster.store

    def sync(self, snap: Snapshot) -> bool:
        """Recount every namespace that has a quota (none: nothing to do, so a cluster without quotas pays nothing).
        Usage is not progress: a recount follows the pods, it does not move them."""
        quotas = self.store.values(RESOURCEQUOTAS)
        if not quotas:
            return False
        now = self.store.clock()
        for namespace in sorted({str(meta(q).get("namespace")) for q in quotas}):
            ledger = Ledger(self.store, namespace, now, pods=snap.pods_by_ns.get(namespace, []))
            for quota in ledger.quotas:
                status = ledger.status(quota)
                if status != quota.get("status"):
                    self._write(namespace, str(meta(quota)["name"]), status)
        return False

    def _write(self, namespace: str, name: str, status: Obj) -> None:
        try:
            self.store.mutate(RESOURCEQUOTAS, namespace, name, lambda q: q.__setitem__("status", status))
        except errors.ApiError:
            pass  # deleted since the snapshot: nothing to count

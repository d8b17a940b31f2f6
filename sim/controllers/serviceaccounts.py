"""The ServiceAccount controller: every namespace has a `default` ServiceAccount (recreated if deleted), so
`kubectl create token default -n NS` works as on a real cluster.

Layer: sim (the simulated cluster; apart from the product).
"""

from __future__ import annotations

from incident_response.sim import errors
from incident_response.sim.controllers.common import meta, terminating
from incident_response.sim.resources import NAMESPACES, SERVICEACCOUNTS
from incident_response.sim.store import Store

DEFAULT = "default"


class ServiceAccountController:
    def __init__(self, store: Store) -> None:
        self.store = store

    def sync(self) -> bool:
        changed = False
        for namespace in self.store.values(NAMESPACES):
            name = meta(namespace).get("name", "")
            if terminating(namespace) or self.store.peek(SERVICEACCOUNTS, name, DEFAULT) is not None:
                continue
            try:
                self.store.create(SERVICEACCOUNTS, {"metadata": {"name": DEFAULT, "namespace": name}})
                changed = True
            except errors.ApiError:  # created meanwhile, or the namespace just went
                continue
        return changed

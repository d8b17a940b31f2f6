"""The admission a new pod goes through before it is stored, whoever creates it (a client, a controller): the
ServiceAccount plugin's part that gives a pod listing no imagePullSecrets its ServiceAccount's (so a pull Secret
attached to `default` reaches every pod of the namespace, and one removed from it reaches none created after), then
the LimitRanger (sim/limitranges.py: defaults, then min/max refusals). The quota is charged after (sim/quota.py).

Layer: sim (the simulated cluster; apart from the product).
"""

from __future__ import annotations

import copy

from incident_response.sim import limitranges
from incident_response.sim.resources import SERVICEACCOUNTS
from incident_response.sim.store import Obj, Store


def admit_pod(store: Store, pod: Obj) -> None:
    """Mutate (and maybe refuse: ApiError 403) a pod being created, in place."""
    spec = pod.get("spec")
    namespace = str((pod.get("metadata") or {}).get("namespace") or "")
    if isinstance(spec, dict) and namespace and not spec.get("imagePullSecrets"):
        account = store.peek(SERVICEACCOUNTS, namespace, str(spec.get("serviceAccountName") or "default"))
        secrets = (account or {}).get("imagePullSecrets")
        if secrets:
            spec["imagePullSecrets"] = copy.deepcopy(secrets)
    limitranges.admit_pod(store, pod)

"""PodDisruptionBudget status and the eviction check `kubectl drain` relies on.

Layer: sim (the simulated cluster; apart from the product).
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from incident_response.sim import errors
from incident_response.sim.controllers.common import (
    Obj,
    int_of,
    labels_of,
    meta,
    selector_from_spec,
    set_condition,
    terminating,
    uid_of,
)
from incident_response.sim.controllers.replicasets import pod_ready
from incident_response.sim.controllers.snapshot import Snapshot
from incident_response.sim.resources import PDBS, PODS
from incident_response.sim.store import timestamp

if TYPE_CHECKING:
    from incident_response.sim.cluster import Cluster


def _resolve(value: object, total: int, round_up: bool) -> int:
    if isinstance(value, str) and value.endswith("%"):
        exact = int_of(value[:-1]) * total / 100
        return math.ceil(exact) if round_up else math.floor(exact)
    return int_of(value)


def ignores_budgets(pod: Obj) -> bool:
    """Upstream evicts a Pending, Succeeded or Failed pod without asking any budget (canIgnorePDB)."""
    return (pod.get("status") or {}).get("phase") in ("Pending", "Succeeded", "Failed")


def unready_evictable(pdb: Obj, status: Obj) -> bool:
    """A Running pod that is not Ready: evicted without using up the budget with unhealthyPodEvictionPolicy
    AlwaysAllow, else (unset or IfHealthyBudget) only while the budget is healthy (currentHealthy >= desiredHealthy
    > 0); otherwise disruptionsAllowed decides, as for a Ready pod."""
    if (pdb.get("spec") or {}).get("unhealthyPodEvictionPolicy") == "AlwaysAllow":
        return True
    return int(status["desiredHealthy"]) > 0 and int(status["currentHealthy"]) >= int(status["desiredHealthy"])


def pdb_status(pdb: Obj, pods: list[Obj], now: str) -> Obj:
    """Upstream's arithmetic: expected pods, healthy pods, the desired floor and the disruptions allowed."""
    spec = pdb.get("spec") or {}
    matches = selector_from_spec(spec.get("selector"))
    selected = [p for p in pods if matches(labels_of(p)) and not terminating(p)]
    expected = len(selected)
    healthy = sum(1 for p in selected if pod_ready(p))
    if spec.get("maxUnavailable") is not None:
        desired = max(expected - _resolve(spec["maxUnavailable"], expected, round_up=True), 0)
    elif spec.get("minAvailable") is not None:
        desired = _resolve(spec["minAvailable"], expected, round_up=True)
    else:
        desired = expected
    allowed = max(healthy - desired, 0)
    old = pdb.get("status") or {}
    conditions = set_condition(
        list(old.get("conditions") or []),
        {
            "type": "DisruptionAllowed",
            "status": "True" if allowed > 0 else "False",
            "reason": "SufficientPods" if allowed > 0 else "InsufficientPods",
            "message": "",
            "observedGeneration": int_of(meta(pdb).get("generation"), 1),
        },
        now,
    )
    status: Obj = {
        "observedGeneration": int_of(meta(pdb).get("generation"), 1),
        "currentHealthy": healthy,
        "desiredHealthy": desired,
        "disruptionsAllowed": allowed,
        "expectedPods": expected,
        "conditions": conditions,
    }
    return status


class DisruptionController:
    def __init__(self, cluster: Cluster) -> None:
        self.cluster = cluster
        self.store = cluster.store
        self._settled: dict[str, tuple[Obj, list[Obj]]] = {}  # PDB uid -> (PDB, its namespace's pods), up to date

    def sync(self, snap: Snapshot) -> bool:
        changed = False
        now = timestamp(self.store.clock())
        settled: dict[str, tuple[Obj, list[Obj]]] = {}
        for pdb in snap.pdbs:
            namespace = str(meta(pdb).get("namespace", ""))
            pods = snap.pods_by_ns.get(namespace, [])
            # The status is the PDB's and its namespace's pods' (the clock only dates a condition that changes): the
            # very objects of a sync that found it up to date need no selector run over them again. The store never
            # changes a stored object in place, so a changed PDB or pod is another object.
            last = self._settled.get(uid_of(pdb))
            if (
                last is not None
                and last[0] is pdb
                and len(last[1]) == len(pods)
                and all(a is b for a, b in zip(last[1], pods, strict=True))
            ):
                settled[uid_of(pdb)] = last
                continue
            status = pdb_status(pdb, pods, now)
            if status == (pdb.get("status") or {}):
                settled[uid_of(pdb)] = (pdb, pods)
            else:

                def apply(obj: Obj, status: Obj = status) -> None:
                    obj["status"] = status

                try:
                    self.store.mutate(PDBS, namespace, str(meta(pdb)["name"]), apply)
                except errors.ApiError:
                    continue
                changed = True
        self._settled = settled  # a PDB gone from the cluster is forgotten
        return changed

    def evict(self, namespace: str, name: str, *, dry_run: bool, uid: str | None = None) -> None:
        """policy/v1 Eviction: refuse with 429 when a PodDisruptionBudget allows no disruption; with `uid` (the
        Eviction's deleteOptions.preconditions), 409 when the pod by that name is another one."""
        with self.store.lock:
            pod = self.store.peek(PODS, namespace, name)
            if pod is None:
                raise errors.not_found("pods", "", name)
            if uid and pod["metadata"].get("uid") != uid:
                raise errors.conflict("pods", "", name)
            if terminating(pod):
                return
            pods = list(self.store.items(PODS, namespace))
            now = timestamp(self.store.clock())
            budgets = [
                pdb
                for pdb in self.store.items(PDBS, namespace)
                if selector_from_spec((pdb.get("spec") or {}).get("selector"))(labels_of(pod))
            ]
            if len(budgets) > 1:
                raise errors.ApiError(
                    500,
                    "InternalError",
                    "This pod has more than one PodDisruptionBudget, which the eviction subresource does not support.",
                )
            if budgets and not ignores_budgets(pod):
                pdb = budgets[0]
                status = pdb_status(pdb, pods, now)
                # Terminating pods already count as unhealthy, so the fresh count needs no disruptedPods ledger.
                uses_budget = pod_ready(pod) or not unready_evictable(pdb, status)
                if uses_budget and status["disruptionsAllowed"] <= 0:
                    raise errors.ApiError(
                        429,
                        "TooManyRequests",
                        "Cannot evict pod as it would violate the pod's disruption budget.",
                        causes=[
                            {
                                "reason": "DisruptionBudget",
                                "message": f"The disruption budget {meta(pdb)['name']} needs "
                                f"{status['desiredHealthy']} healthy pods and has {status['currentHealthy']} currently",
                            }
                        ],
                    )
            if dry_run:
                return
            if (pod.get("spec") or {}).get("nodeName"):
                self.store.delete(PODS, namespace, name, graceful=True)
            else:
                self.store.remove(PODS, namespace, name)

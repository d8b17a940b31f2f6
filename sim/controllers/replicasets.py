"""The ReplicaSet controller: keeps spec.replicas pods, releases and adopts pods by selector, writes status.

Layer: sim (the simulated cluster; apart from the product).
"""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING

from incident_response.sim import errors, pod_admission
from incident_response.sim.controllers.common import (
    Matcher,
    Obj,
    condition,
    int_of,
    labels_of,
    meta,
    owner_reference,
    replicas_of,
    selector_from_spec,
    terminating,
    uid_of,
)
from incident_response.sim.controllers.podfactory import pod_from_template
from incident_response.sim.controllers.snapshot import Snapshot
from incident_response.sim.quota import Ledger
from incident_response.sim.resources import PODS, REPLICASETS, RESOURCEQUOTAS
from incident_response.sim.store import timestamp

if TYPE_CHECKING:
    from incident_response.sim.cluster import Cluster

COMPONENT = "replicaset-controller"
BURST = 500  # pods created per ReplicaSet per tick, like the controller's slow-start batches
# A refused create is retried after this back-off (doubling, capped), or at once when the namespace's quotas change
# (raised, or their usage moved): the work queue's rate-limited requeue and the quota informer's resync.
RETRY_BASE = 1.0
RETRY_CAP = 60.0


def pod_ready(pod: Obj) -> bool:
    cond = condition(pod, "Ready")
    return cond is not None and cond.get("status") == "True"


def active(pod: Obj) -> bool:
    return not terminating(pod) and (pod.get("status") or {}).get("phase") not in ("Succeeded", "Failed")


class ReplicaSetController:
    def __init__(self, cluster: Cluster) -> None:
        self.cluster = cluster
        self.store = cluster.store
        # uid -> (the RS object and its pods last synced with no change). Stored objects are replaced on every
        # write, so the same objects by identity mean nothing changed; holding them keeps their ids unique.
        self._unchanged: dict[str, tuple[Obj, list[Obj]]] = {}
        # uid -> (when to try again, the back-off, the namespace's quota objects then) of a ReplicaSet whose pod
        # create was refused (exceeded quota)
        self._refused: dict[str, tuple[float, float, tuple[int, ...]]] = {}

    def sync(self, snap: Snapshot) -> bool:
        busy = False
        live: set[str] = set()
        for rs in snap.replicasets:
            if terminating(rs):
                continue
            uid = uid_of(rs)
            live.add(uid)
            pods = snap.pods_by_owner.get(uid, [])
            cached = self._unchanged.get(uid)
            namespace = rs["metadata"].get("namespace", "")
            if (
                cached is not None
                and cached[0] is rs
                and len(cached[1]) == len(pods)
                and all(a is b for a, b in zip(cached[1], pods, strict=True))
                and not snap.orphans_by_ns.get(namespace)
                and not (rs.get("spec") or {}).get("minReadySeconds")
            ):
                continue
            self._unchanged.pop(uid, None)
            try:
                changed = self._sync_one(snap, rs)
                busy = changed or busy
                if not changed and uid not in self._refused:
                    self._unchanged[uid] = (rs, list(pods))
            except errors.ApiError:
                busy = True
        if len(self._unchanged) > len(live):
            for uid in [u for u in self._unchanged if u not in live]:
                del self._unchanged[uid]
        for uid in [u for u in self._refused if u not in live]:
            del self._refused[uid]
        return busy

    def _quotas(self, namespace: str) -> tuple[int, ...]:
        return tuple(id(q) for q in self.store.items(RESOURCEQUOTAS, namespace))

    def _may_create(self, rs: Obj) -> bool:
        refused = self._refused.get(uid_of(rs))
        if refused is None:
            return True
        retry_at, _, quotas = refused
        return self.cluster.now() >= retry_at or quotas != self._quotas(str(meta(rs).get("namespace", "")))

    def _refuse(self, rs: Obj, error: errors.ApiError) -> None:
        uid = uid_of(rs)
        _, backoff, _ = self._refused.get(uid, (0.0, 0.0, ()))
        backoff = min(backoff * 2, RETRY_CAP) if backoff else RETRY_BASE
        namespace = str(meta(rs).get("namespace", ""))
        self._refused[uid] = (self.cluster.now() + backoff, backoff, self._quotas(namespace))
        self.cluster.recorder.record(
            rs, "Warning", "FailedCreate", f"Error creating: {error.message}", component=COMPONENT
        )

    def _sync_one(self, snap: Snapshot, rs: Obj) -> bool:
        namespace = str(meta(rs).get("namespace", ""))
        matches = selector_from_spec((rs.get("spec") or {}).get("selector"))
        pods = self._claim(snap, rs, matches)
        live = [p for p in pods if active(p)]
        want = replicas_of(rs, 1)
        changed = False
        failure: str | None = None  # manageReplicasErr: why a create was refused this sync
        attempted = False
        if len(live) < want and self._may_create(rs):
            attempted = True
            ledger = Ledger(self.store, namespace, self.store.clock())
            for _ in range(min(want - len(live), BURST)):
                try:
                    created = self._create_pod(rs, ledger)
                except errors.ApiError as e:
                    failure = e.message
                    self._refuse(rs, e)
                    break
                if created is None:
                    break
                live.append(created)
                changed = True
        elif len(live) > want:
            for pod in sorted(live, key=self._deletion_rank)[: len(live) - want]:
                self._delete_pod(rs, pod)
                live.remove(pod)
                changed = True
        if failure is None and (attempted or len(live) >= want):
            self._refused.pop(uid_of(rs), None)
        ready = [p for p in live if pod_ready(p)]
        min_ready = int_of((rs.get("spec") or {}).get("minReadySeconds"), 0)
        available = [p for p in ready if self._available(p, min_ready)]
        status: Obj = {"replicas": len(live)}
        labeled = sum(1 for p in live if matches(labels_of(p)))
        if labeled:
            status["fullyLabeledReplicas"] = labeled
        if ready:
            status["readyReplicas"] = len(ready)
        if available:
            status["availableReplicas"] = len(available)
        status["observedGeneration"] = int_of(meta(rs).get("generation"), 1)
        conditions = self._conditions(rs, failure, attempted or len(live) >= want)
        if conditions:
            status["conditions"] = conditions
        if status != (rs.get("status") or {}):
            self.store.mutate(REPLICASETS, namespace, str(meta(rs)["name"]), lambda o: o.__setitem__("status", status))
            changed = True
        return changed

    def _conditions(self, rs: Obj, failure: str | None, settled: bool) -> list[Obj]:
        """ReplicaFailure is set by a refused create (kept, message and all, until a sync creates without error)
        and removed once one does."""
        current = list((rs.get("status") or {}).get("conditions") or [])
        has = condition(rs, "ReplicaFailure") is not None
        if failure is not None and not has:
            current.append(
                {
                    "type": "ReplicaFailure",
                    "status": "True",
                    "lastTransitionTime": timestamp(self.store.clock()),
                    "reason": "FailedCreate",
                    "message": failure,
                }
            )
        elif failure is None and has and settled:
            current = [c for c in current if c.get("type") != "ReplicaFailure"]
        return current

    def _claim(self, snap: Snapshot, rs: Obj, matches: Matcher) -> list[Obj]:
        """Owned pods that still match; release those that no longer match; adopt matching orphans."""
        uid = uid_of(rs)
        namespace = str(meta(rs).get("namespace", ""))
        mine: list[Obj] = []
        for pod in snap.pods_by_owner.get(uid, []):
            if matches(labels_of(pod)):
                mine.append(pod)
            elif not terminating(pod):
                self._set_owner(namespace, pod, None)
        for pod in snap.orphans_by_ns.get(namespace, []):
            if not terminating(pod) and matches(labels_of(pod)):
                adopted = self._set_owner(namespace, pod, rs)
                if adopted is not None:
                    mine.append(adopted)
        return mine

    def _set_owner(self, namespace: str, pod: Obj, rs: Obj | None) -> Obj | None:
        def apply(obj: Obj) -> None:
            refs = [r for r in obj["metadata"].get("ownerReferences") or [] if not r.get("controller")]
            if rs is not None:
                refs.append(owner_reference(rs))
            if refs:
                obj["metadata"]["ownerReferences"] = refs
            else:
                obj["metadata"].pop("ownerReferences", None)

        try:
            return self.store.mutate(PODS, namespace, str(meta(pod)["name"]), apply)
        except errors.ApiError:
            return None

    def _available(self, pod: Obj, min_ready: int) -> bool:
        if min_ready <= 0:
            return True
        cond = condition(pod, "Ready") or {}
        since = self.cluster.parse_time(str(cond.get("lastTransitionTime") or ""))
        return since is not None and self.cluster.wall_seconds() - since >= min_ready

    def _create_pod(self, rs: Obj, ledger: Ledger) -> Obj | None:
        """Create one pod; ApiError when admission (a quota) refuses it, None when the store did."""
        body = pod_from_template(rs, (rs.get("spec") or {}).get("template") or {})
        pod_admission.admit_pod(self.store, body)
        ledger.check(PODS, body)
        shift = self.cluster.dated.shift(uid_of(rs))  # a dated revision's pods are as old as its rollout
        moment = self.store.clock() - timedelta(seconds=shift) if shift else None
        try:
            pod = self.store.create(PODS, body, created=moment)
        except errors.ApiError:
            return None
        ledger.charge(PODS, pod)
        if shift:
            self.cluster.dated.date(uid_of(pod), shift)
        if not shift or shift < self.cluster.recorder.ttl_seconds:
            self.cluster.recorder.record(
                rs,
                "Normal",
                "SuccessfulCreate",
                f"Created pod: {pod['metadata']['name']}",
                component=COMPONENT,
                when=moment,
            )
        return pod

    def _delete_pod(self, rs: Obj, pod: Obj) -> None:
        namespace = str(meta(pod).get("namespace", ""))
        name = str(meta(pod)["name"])
        try:
            if (pod.get("spec") or {}).get("nodeName"):
                self.store.delete(PODS, namespace, name, graceful=True)
            else:
                self.store.remove(PODS, namespace, name)
        except errors.ApiError:
            return
        self.cluster.recorder.record(rs, "Normal", "SuccessfulDelete", f"Deleted pod: {name}", component=COMPONENT)

    @staticmethod
    def _deletion_rank(pod: Obj) -> tuple[int, int, int, int, str]:
        """Upstream's order: unscheduled, then pending, then not ready, more restarts, newest first."""
        status = pod.get("status") or {}
        scheduled = 1 if (pod.get("spec") or {}).get("nodeName") else 0
        phase = {"Pending": 0, "Unknown": 1, "Running": 2}.get(str(status.get("phase")), 0)
        ready = 1 if pod_ready(pod) else 0
        restarts = sum(int_of(c.get("restartCount")) for c in status.get("containerStatuses") or [])
        created = str(meta(pod).get("creationTimestamp", ""))
        # Newest first: invert the timestamp's sort order by negating each character code.
        newest_first = "".join(chr(0x10FFFF - ord(c)) for c in created)
        return scheduled, phase, ready, -restarts, newest_first

"""The ReplicaSet controller: keeps spec.replicas pods, releases and adopts pods by selector, writes status.

Layer: sim (the simulated cluster; apart from the product).
"""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING

from incident_response.sim import errors
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
from incident_response.sim.resources import PODS, REPLICASETS

if TYPE_CHECKING:
    from incident_response.sim.cluster import Cluster

COMPONENT = "replicaset-controller"
BURST = 500  # pods created per ReplicaSet per tick, like the controller's slow-start batches


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
                if not changed:
                    self._unchanged[uid] = (rs, list(pods))
                continue
                busy = self._sync_one(snap, rs) or busy
            except errors.ApiError:
                busy = True
        if len(self._unchanged) > len(live):
            for uid in [u for u in self._unchanged if u not in live]:
                del self._unchanged[uid]
        return busy

    def _sync_one(self, snap: Snapshot, rs: Obj) -> bool:
        namespace = str(meta(rs).get("namespace", ""))
        matches = selector_from_spec((rs.get("spec") or {}).get("selector"))
        pods = self._claim(snap, rs, matches)
        live = [p for p in pods if active(p)]
        want = replicas_of(rs, 1)
        changed = False
        if len(live) < want:
            for _ in range(min(want - len(live), BURST)):
                created = self._create_pod(rs)
                if created is None:
                    break
                live.append(created)
                changed = True
        elif len(live) > want:
            for pod in sorted(live, key=self._deletion_rank)[: len(live) - want]:
                self._delete_pod(rs, pod)
                live.remove(pod)
                changed = True
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
        if status != (rs.get("status") or {}):
            self.store.mutate(REPLICASETS, namespace, str(meta(rs)["name"]), lambda o: o.__setitem__("status", status))
            changed = True
        return changed

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

    def _create_pod(self, rs: Obj) -> Obj | None:
        body = pod_from_template(rs, (rs.get("spec") or {}).get("template") or {})
        shift = self.cluster.dated.shift(uid_of(rs))  # a dated revision's pods are as old as its rollout
        moment = self.store.clock() - timedelta(seconds=shift) if shift else None
        try:
            pod = self.store.create(PODS, body, created=moment)
        except errors.ApiError:
            return None
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

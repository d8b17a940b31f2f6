"""The StatefulSet controller (upstream's stateful_set_control.go, OrderedReady and Parallel).

Pods are named <set>-<ordinal> and carry their revision's name in `controller-revision-hash`. OrderedReady
creates them one at a time in ordinal order, each after the previous one is Running and Ready, and scales
down from the highest ordinal. A rolling update deletes the highest-ordinal pod not yet at the update
revision (down to `partition`), one at a time, and waits for each to come back Running and Ready: a new
revision whose pods never get Ready stops the rollout, and rolling the template back does not replace the
broken pod (it must be deleted), as on a real cluster. volumeClaimTemplates make PersistentVolumeClaims
<template>-<set>-<ordinal> that stay when pods, replicas or the set go away (the Retain policy).

Layer: sim (the simulated cluster; apart from the product).
"""

from __future__ import annotations

import copy
import re
from typing import TYPE_CHECKING

from incident_response.sim import errors, pod_admission
from incident_response.sim.controllers import revisions
from incident_response.sim.controllers.common import (
    Obj,
    int_of,
    labels_of,
    meta,
    replicas_of,
    terminating,
    uid_of,
)
from incident_response.sim.controllers.podfactory import pod_from_template
from incident_response.sim.controllers.replicasets import pod_ready
from incident_response.sim.controllers.snapshot import Snapshot
from incident_response.sim.resources import PODS, PVCS, STATEFULSETS

if TYPE_CHECKING:
    from incident_response.sim.cluster import Cluster

COMPONENT = "statefulset-controller"
POD_NAME = "statefulset.kubernetes.io/pod-name"
POD_INDEX = "apps.kubernetes.io/pod-index"
DEFAULT_STORAGE_CLASS = "standard-rwo"  # what the simulated cluster's default StorageClass admission fills in


def running_and_ready(pod: Obj) -> bool:
    return (pod.get("status") or {}).get("phase") == "Running" and pod_ready(pod) and not terminating(pod)


def partition_of(sts: Obj) -> int:
    strategy = (sts.get("spec") or {}).get("updateStrategy") or {}
    return int_of((strategy.get("rollingUpdate") or {}).get("partition"), 0)


def claim_name(template: Obj, sts: Obj, ordinal: int) -> str:
    return f"{meta(template).get('name')}-{meta(sts).get('name')}-{ordinal}"


class StatefulSetController:
    def __init__(self, cluster: Cluster) -> None:
        self.cluster = cluster
        self.store = cluster.store

    def sync(self, snap: Snapshot) -> bool:
        busy = False
        for sts in snap.statefulsets:
            if terminating(sts):
                continue
            try:
                busy = self._sync_one(snap, sts) or busy
            except errors.ApiError:
                busy = True  # raced with an API write: the next tick sees the new state
        return busy

    def _ordinals(self, snap: Snapshot, sts: Obj) -> dict[int, Obj]:
        pattern = re.compile(rf"^{re.escape(str(meta(sts).get('name')))}-(\d+)$")
        out: dict[int, Obj] = {}
        for pod in snap.pods_by_owner.get(uid_of(sts), []):
            found = pattern.match(str(meta(pod).get("name")))
            if found:
                out[int(found.group(1))] = pod
        return out

    def _sync_one(self, snap: Snapshot, sts: Obj) -> bool:
        history = revisions.sync_history(self.store, sts, snap.revisions_by_owner.get(uid_of(sts), []))
        update = history.update
        by_name = {str(meta(r)["name"]): r for r in history.revisions}
        current = by_name.get(str((sts.get("status") or {}).get("currentRevision")), update)
        pods = self._ordinals(snap, sts)
        changed = self._reconcile(sts, pods, current, update)
        live = {str(labels_of(p).get(revisions.REVISION_HASH)) for p in pods.values()}
        revisions.truncate(
            self.store, sts, history, lambda r: str(meta(r)["name"]) in live or r is current or r is update
        )
        return self._write_status(sts, pods, current, update) or changed

    # ----- pods -----

    def _reconcile(self, sts: Obj, pods: dict[int, Obj], current: Obj, update: Obj) -> bool:
        """One step of upstream's updateStatefulSet: create or repair in order, scale down, then update."""
        spec = sts.get("spec") or {}
        replicas = replicas_of(sts)
        ordered = spec.get("podManagementPolicy", "OrderedReady") != "Parallel"
        changed = False
        for ordinal in range(replicas):
            pod = pods.get(ordinal)
            if pod is not None and (pod.get("status") or {}).get("phase") in ("Failed", "Succeeded"):
                self._delete(sts, pod)  # recreated on a later tick
                return True
            if pod is None:
                self._create(sts, ordinal, current, update)
                changed = True
                if ordered:
                    return True
                continue
            if ordered and not running_and_ready(pod):
                return changed  # each pod waits for its predecessors to be Running and Ready
        condemned = sorted((o for o in pods if o >= replicas), reverse=True)
        unhealthy = [o for o in sorted(pods) if not running_and_ready(pods[o])]
        for ordinal in condemned:
            pod = pods[ordinal]
            if terminating(pod):
                if ordered:
                    return changed
                continue
            if ordered and not running_and_ready(pod) and unhealthy and unhealthy[0] != ordinal:
                return changed
            self._delete(sts, pod)
            changed = True
            if ordered:
                return changed
        strategy = (spec.get("updateStrategy") or {}).get("type", "RollingUpdate")
        if strategy != "RollingUpdate":
            return changed  # OnDelete: a pod takes the new revision when someone deletes it
        update_name = str(meta(update)["name"])
        for ordinal in range(replicas - 1, partition_of(sts) - 1, -1):
            pod = pods.get(ordinal)
            if pod is None:
                return changed
            if labels_of(pod).get(revisions.REVISION_HASH) != update_name and not terminating(pod):
                self._delete(sts, pod)
                return True
            if not running_and_ready(pod):
                return changed  # wait for the updated pod before the next one
        return changed

    def _create(self, sts: Obj, ordinal: int, current: Obj, update: Obj) -> None:
        spec = sts.get("spec") or {}
        strategy = spec.get("updateStrategy") or {}
        use_current = strategy.get("type", "RollingUpdate") == "RollingUpdate" and ordinal < partition_of(sts)
        revision = current if use_current else update
        template = revisions.template_of(revision) if use_current else copy.deepcopy(spec.get("template") or {})
        name = f"{meta(sts).get('name')}-{ordinal}"
        body = pod_from_template(
            sts,
            template,
            name=name,
            labels={revisions.REVISION_HASH: str(meta(revision)["name"]), POD_NAME: name, POD_INDEX: str(ordinal)},
        )
        body["spec"]["hostname"] = name
        if spec.get("serviceName"):
            body["spec"]["subdomain"] = spec["serviceName"]
        volumes = [v for v in body["spec"].get("volumes") or [] if isinstance(v, dict)]
        for claim in spec.get("volumeClaimTemplates") or []:
            claim_volume = {
                "name": meta(claim).get("name"),
                "persistentVolumeClaim": {"claimName": claim_name(claim, sts, ordinal)},
            }
            volumes = [v for v in volumes if v.get("name") != claim_volume["name"]] + [claim_volume]
            self._ensure_claim(sts, claim, ordinal, name)
        if volumes:
            body["spec"]["volumes"] = volumes
        try:
            pod_admission.admit_pod(self.store, body)
            self.store.create(PODS, body)
        except errors.ApiError as err:
            self._event(
                sts,
                "Warning",
                "FailedCreate",
                f"create Pod {name} in StatefulSet {meta(sts)['name']} failed error: {err.message}",
            )
            return
        self._event(
            sts, "Normal", "SuccessfulCreate", f"create Pod {name} in StatefulSet {meta(sts)['name']} successful"
        )

    def _ensure_claim(self, sts: Obj, claim: Obj, ordinal: int, pod: str) -> None:
        namespace = str(meta(sts).get("namespace", ""))
        name = claim_name(claim, sts, ordinal)
        if self.store.peek(PVCS, namespace, name) is not None:
            return  # a claim outlives its pod: the new pod gets the old data
        spec = copy.deepcopy(claim.get("spec") or {})
        spec.setdefault("storageClassName", DEFAULT_STORAGE_CLASS)
        spec.setdefault("volumeMode", "Filesystem")
        selector = ((sts.get("spec") or {}).get("selector") or {}).get("matchLabels") or {}
        body: Obj = {
            "metadata": {
                "name": name,
                "namespace": namespace,
                "labels": {**(meta(claim).get("labels") or {}), **selector},
                "annotations": {
                    **(meta(claim).get("annotations") or {}),
                    "pv.kubernetes.io/bind-completed": "yes",
                    "pv.kubernetes.io/bound-by-controller": "yes",
                    "volume.kubernetes.io/storage-provisioner": "pd.csi.storage.gke.io",
                },
                "finalizers": ["kubernetes.io/pvc-protection"],
            },
            "spec": spec,
        }
        created = self.store.create(PVCS, body)
        storage = ((spec.get("resources") or {}).get("requests") or {}).get("storage", "1Gi")

        def bind(pvc: Obj) -> None:
            pvc["spec"]["volumeName"] = f"pvc-{uid_of(created)}"
            pvc["status"] = {
                "phase": "Bound",
                "accessModes": list(spec.get("accessModes") or ["ReadWriteOnce"]),
                "capacity": {"storage": storage},
            }

        self.store.mutate(PVCS, namespace, name, bind)
        self._event(
            sts,
            "Normal",
            "SuccessfulCreate",
            f"create Claim {name} Pod {pod} in StatefulSet {meta(sts)['name']} success",
        )

    def _delete(self, sts: Obj, pod: Obj) -> None:
        namespace, name = str(meta(pod).get("namespace", "")), str(meta(pod)["name"])
        try:
            if (pod.get("spec") or {}).get("nodeName"):
                self.store.delete(PODS, namespace, name, graceful=True)
            else:
                self.store.remove(PODS, namespace, name)
        except errors.ApiError:
            return
        self._event(
            sts, "Normal", "SuccessfulDelete", f"delete Pod {name} in StatefulSet {meta(sts)['name']} successful"
        )

    def _event(self, sts: Obj, type_: str, reason: str, message: str) -> None:
        self.cluster.recorder.record(sts, type_, reason, message, component=COMPONENT)

    # ----- status -----

    def _write_status(self, sts: Obj, pods: dict[int, Obj], current: Obj, update: Obj) -> bool:
        current_name, update_name = str(meta(current)["name"]), str(meta(update)["name"])
        replicas = ready = available = at_current = at_update = 0
        for pod in pods.values():
            replicas += 1
            if running_and_ready(pod):
                ready += 1
                available += 1
            if not terminating(pod):
                revision = labels_of(pod).get(revisions.REVISION_HASH)
                at_current += revision == current_name
                at_update += revision == update_name
        old = sts.get("status") or {}
        status: Obj = {
            "observedGeneration": int_of(meta(sts).get("generation"), 1),
            "replicas": replicas,
            "readyReplicas": ready,
            "currentReplicas": at_current,
            "updatedReplicas": at_update,
            "currentRevision": current_name,
            "updateRevision": update_name,
            "collisionCount": int_of(old.get("collisionCount"), 0),
            "availableReplicas": available,
        }
        strategy = ((sts.get("spec") or {}).get("updateStrategy") or {}).get("type", "RollingUpdate")
        desired = replicas_of(sts)
        if strategy == "RollingUpdate" and at_update == desired and ready == desired and replicas == desired:
            # completeRollingUpdate: every pod runs the update revision, which becomes the current one.
            status["currentRevision"], status["currentReplicas"] = update_name, at_update
        status = {k: v for k, v in status.items() if v or k in ("replicas", "collisionCount", "availableReplicas")}
        if status == old:
            return False
        self.store.mutate(
            STATEFULSETS, meta(sts).get("namespace"), str(meta(sts)["name"]), lambda o: o.__setitem__("status", status)
        )
        return True

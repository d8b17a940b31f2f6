"""One consistent read of the store per tick, indexed the ways the controllers look things up.

Objects are the store's live dicts (read-only by contract); writes made during a tick show up in the next
tick's snapshot, as an informer cache would lag behind the API server.

Layer: sim (the simulated cluster; apart from the product).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from incident_response.sim.behaviors import POISONS, Images
from incident_response.sim.controllers.common import Obj, controller_uid, meta, uid_of
from incident_response.sim.resources import (
    CONTROLLERREVISIONS,
    DAEMONSETS,
    DEPLOYMENTS,
    HPAS,
    NETWORKPOLICIES,
    NODES,
    PDBS,
    PODS,
    REPLICASETS,
    SERVICES,
    STATEFULSETS,
)
from incident_response.sim.store import Store


@dataclass
class Snapshot:
    pods: list[Obj]
    replicasets: list[Obj]
    deployments: list[Obj]
    nodes: dict[str, Obj]
    services: list[Obj]
    netpols: list[Obj]
    hpas: list[Obj]
    pdbs: list[Obj]
    statefulsets: list[Obj] = field(default_factory=list)
    daemonsets: list[Obj] = field(default_factory=list)
    revisions_by_owner: dict[str, list[Obj]] = field(default_factory=dict)  # ControllerRevisions
    pods_by_ns: dict[str, list[Obj]] = field(default_factory=dict)
    pods_by_owner: dict[str, list[Obj]] = field(default_factory=dict)
    orphans_by_ns: dict[str, list[Obj]] = field(default_factory=dict)
    unscheduled: list[Obj] = field(default_factory=list)
    poisoners: list[Obj] = field(default_factory=list)  # pods that poison: by annotation or by their image
    images: Images = field(default_factory=dict)  # the cluster's image catalogue (behaviors.Images)
    rs_by_owner: dict[str, list[Obj]] = field(default_factory=dict)
    by_uid: dict[str, Obj] = field(default_factory=dict)

    @classmethod
    def build(cls, store: Store, images: Images | None = None) -> Snapshot:
        snap = cls(
            pods=store.values(PODS),
            replicasets=store.values(REPLICASETS),
            deployments=store.values(DEPLOYMENTS),
            nodes={meta(n).get("name", ""): n for n in store.values(NODES)},
            services=store.values(SERVICES),
            netpols=store.values(NETWORKPOLICIES),
            hpas=store.values(HPAS),
            pdbs=store.values(PDBS),
            statefulsets=store.values(STATEFULSETS),
            daemonsets=store.values(DAEMONSETS),
            images=dict(images or {}),  # a copy: a test or /sim/images may enter an image while the tick runs
        )
        # Images whose release breaks other pods (the catalogue's poisons), looked for only when there are some.
        poisoning = {image for image, does in snap.images.items() if POISONS in does}
        by_ns: defaultdict[str, list[Obj]] = defaultdict(list)
        by_owner: defaultdict[str, list[Obj]] = defaultdict(list)
        orphans: defaultdict[str, list[Obj]] = defaultdict(list)
        unscheduled = snap.unscheduled
        poisoners = snap.poisoners
        for pod in snap.pods:
            m = pod["metadata"]
            by_ns[m.get("namespace", "")].append(pod)
            if not pod["spec"].get("nodeName"):
                unscheduled.append(pod)
            annotations = m.get("annotations")
            if (annotations and POISONS in annotations) or (
                poisoning and any(c.get("image") in poisoning for c in pod["spec"].get("containers") or ())
            ):
                poisoners.append(pod)
            refs = m.get("ownerReferences")
            # Fast path: a controller reference is almost always the first and only one.
            owner = refs[0].get("uid") if refs and refs[0].get("controller") else controller_uid(pod)
            if owner:
                by_owner[owner].append(pod)
            else:
                orphans[m.get("namespace", "")].append(pod)
        snap.pods_by_ns = dict(by_ns)
        snap.orphans_by_ns = dict(orphans)
        snap.pods_by_owner = dict(by_owner)
        rs_owner: defaultdict[str, list[Obj]] = defaultdict(list)
        for rs in snap.replicasets:
            owner = controller_uid(rs)
            if owner:
                rs_owner[owner].append(rs)
            snap.by_uid[uid_of(rs)] = rs
        snap.rs_by_owner = dict(rs_owner)
        for workload in (*snap.deployments, *snap.statefulsets, *snap.daemonsets):
            snap.by_uid[uid_of(workload)] = workload
        revisions: defaultdict[str, list[Obj]] = defaultdict(list)
        for revision in store.values(CONTROLLERREVISIONS):
            owner = controller_uid(revision)
            if owner:
                revisions[owner].append(revision)
        snap.revisions_by_owner = dict(revisions)
        return snap

    def deployment_of_pod(self, pod: Obj) -> Obj | None:
        """The workload that controls a pod through the owner chain: a Deployment (or a bare ReplicaSet), a
        StatefulSet or a DaemonSet."""
        rs_uid = controller_uid(pod)
        rs = self.by_uid.get(rs_uid) if rs_uid else None
        if rs is None or rs.get("kind") != "ReplicaSet":
            return rs
        deploy_uid = controller_uid(rs)
        deploy = self.by_uid.get(deploy_uid) if deploy_uid else None
        return deploy if deploy is not None else rs

"""Who sends traffic to whom, per tick: poisoned pods (and by whom) and each deployment's load per pod.

Layer: sim (the simulated cluster; apart from the product).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from incident_response.sim import behaviors
from incident_response.sim.controllers.common import (
    Obj,
    controller_uid,
    labels_of,
    meta,
    parse_selector,
    selector_from_map,
    terminating,
    uid_of,
)
from incident_response.sim.controllers.netpol import ingress_allowed
from incident_response.sim.controllers.replicasets import pod_ready
from incident_response.sim.controllers.snapshot import Snapshot


@dataclass
class Traffic:
    poisoned: dict[str, tuple[str, str]] = field(default_factory=dict)  # pod uid -> (poisoner name, poisoner IP)
    share: dict[str, int] = field(default_factory=dict)  # owner (deployment or RS) uid -> millicores per pod
    owner_of: dict[str, str] = field(default_factory=dict)  # pod uid -> loaded owner uid


def serving(pod: Obj) -> bool:
    """A pod that receives its share of traffic: running and not being deleted.

    Load is shared by running pods rather than only Ready ones: an overloaded pod that fails readiness still
    gets retried traffic, and sharing only among Ready pods would make every overload a death spiral that no
    amount of scaling could fix.
    """
    return not terminating(pod) and (pod.get("status") or {}).get("phase") == "Running"


def compute(snap: Snapshot) -> Traffic:
    traffic = Traffic()
    loaded: dict[str, int] = {}
    for obj in (*snap.deployments, *snap.replicasets, *snap.statefulsets, *snap.daemonsets):
        load = behaviors.load_millicores(obj)
        if load is not None:
            loaded[uid_of(obj)] = load
    rs_to_owner: dict[str, str] = {}
    for rs in snap.replicasets:
        parent = controller_uid(rs)
        if parent in loaded:
            rs_to_owner[uid_of(rs)] = parent
        elif uid_of(rs) in loaded:
            rs_to_owner[uid_of(rs)] = uid_of(rs)
    for workload in (*snap.statefulsets, *snap.daemonsets):
        if uid_of(workload) in loaded:
            rs_to_owner[uid_of(workload)] = uid_of(workload)  # their pods are their own, no ReplicaSet between
    counts: dict[str, int] = {}
    for rs_uid, parent in rs_to_owner.items():
        for pod in snap.pods_by_owner.get(rs_uid, []):
            if serving(pod):
                counts[parent] = counts.get(parent, 0) + 1
                traffic.owner_of[uid_of(pod)] = parent
    for parent, load in loaded.items():
        traffic.share[parent] = load // max(counts.get(parent, 0), 1)
    for pod in snap.poisoners:
        _poison(snap, pod, traffic)
    return traffic


def _poison(snap: Snapshot, pod: Obj, traffic: Traffic) -> None:
    if not pod_ready(pod) or terminating(pod):
        return
    namespace = str(meta(pod).get("namespace", ""))
    labels = labels_of(pod)
    in_service = any(
        (svc.get("spec") or {}).get("selector") and selector_from_map(svc["spec"]["selector"])(labels)
        for svc in snap.services
        if meta(svc).get("namespace") == namespace
    )
    if not in_service:
        return
    targets = parse_selector(behaviors.pod_behavior(pod, snap.images).poisons or "")
    if targets is None:
        return
    ip = str((pod.get("status") or {}).get("podIP", ""))
    for other in snap.pods_by_ns.get(namespace, []):
        # The victims call the poisoner: only those its NetworkPolicies admit still get its answers.
        if other is not pod and targets(labels_of(other)) and ingress_allowed(snap.netpols, pod, other):
            traffic.poisoned.setdefault(uid_of(other), (str(meta(pod)["name"]), ip))

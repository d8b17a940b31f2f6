"""The attach/detach controller: a ReadWriteOnce claim's volume is attached to one node at a time.

A pod on node N that mounts a bound claim (not ReadWriteMany/ReadOnlyMany: a block disk) needs its volume attached
to N first. An unattached volume is attached at once (Normal SuccessfulAttachVolume, 'AttachVolume.Attach succeeded
for volume "pvc-..."'); one attached to another node stays there while a pod on that node still uses it (one not
terminated: a pod deleted on a node whose kubelet is down is never confirmed gone, so it keeps the volume), and the
new pod waits in ContainerCreating with the controller's Warning FailedAttachVolume: 'Multi-Attach error for volume
"pvc-..." Volume is already used by pod(s) NAME' (same-namespace pods), else 'Volume is already exclusively attached
to one node and can't be attached to another'. The kubelet adds its own FailedMount after two minutes ('Unable to
attach or mount volumes: unmounted volumes=[data], unattached volumes=[data]: timed out waiting for the condition').
A volume no pod on its node uses any more is detached at once from a node that is up; from one that is not (its
kubelet cannot confirm the unmount) only after maxWaitForUnmountDuration (6 minutes), or at once when the node
carries the node.kubernetes.io/out-of-service taint (non-graceful node shutdown). Not modelled: VolumeAttachment
objects, node.status.volumesAttached/volumesInUse, zonal volume node affinity.

Layer: sim (the simulated cluster; apart from the product).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from incident_response.sim.controllers.common import Obj, meta
from incident_response.sim.controllers.snapshot import Snapshot
from incident_response.sim.resources import PVCS

if TYPE_CHECKING:
    from incident_response.sim.cluster import Cluster

COMPONENT = "attachdetach-controller"
MAX_WAIT_FOR_UNMOUNT = 360.0  # seconds the controller waits for an unreachable node to unmount before detaching
RETRY_FIRST, RETRY_CAP = 0.5, 122.0  # the controller's attach retry back-off (seconds)
OUT_OF_SERVICE = "node.kubernetes.io/out-of-service"
SHARED_MODES = {"ReadWriteMany", "ReadOnlyMany"}  # file volumes: mounted on many nodes, never attached


def claims(pod: Obj) -> bool:
    """Whether the pod mounts a PersistentVolumeClaim at all (most do not: looked at first)."""
    volumes = (pod.get("spec") or {}).get("volumes") or ()
    return any(isinstance(v, dict) and "persistentVolumeClaim" in v for v in volumes)


def terminated(pod: Obj) -> bool:
    """The controller's IsPodTerminated: finished, or deleted with no container left running."""
    status = pod.get("status") or {}
    if status.get("phase") in ("Succeeded", "Failed"):
        return True
    running = any("running" in (c.get("state") or {}) for c in status.get("containerStatuses") or [])
    return bool(meta(pod).get("deletionTimestamp")) and not running


def multi_attach(pv: str, pod: Obj, holders: list[Obj]) -> str:
    """The controller's event message: the pods of the pod's namespace that hold the volume by name, the others
    counted; none known: the volume is 'exclusively attached'."""
    namespace = meta(pod).get("namespace")
    named = [str(meta(p).get("name")) for p in holders if meta(p).get("namespace") == namespace]
    if not named:
        exclusive = "Volume is already exclusively attached to one node and can't be attached to another"
        return f'Multi-Attach error for volume "{pv}" {exclusive}'
    why = f"Volume is already used by pod(s) {', '.join(named)}"
    if len(holders) > len(named):
        why += f" and {len(holders) - len(named)} pod(s) in different namespaces"
    return f'Multi-Attach error for volume "{pv}" {why}'


class AttachDetach:
    def __init__(self, cluster: Cluster) -> None:
        self.cluster = cluster
        self.store = cluster.store
        self.attached: dict[str, str] = {}  # volume (the claim's PV name) -> node
        self.unused_since: dict[str, float] = {}  # volume -> when its node's last pod let go of it (node down)
        self.blocked: dict[str, tuple[str, str]] = {}  # pod uid -> (volume name in the pod, Multi-Attach message)
        # pod uid -> (when its Multi-Attach is reported next, the wait after that): the controller's exponential
        # back-off, 0.5 s doubling to 2m2s, so a long wait is counted a few times a minute, not every tick
        self._retry: dict[str, tuple[float, float]] = {}

    def volumes_of(self, pod: Obj) -> list[tuple[str, str]]:
        """(volume name in the pod, PV name) of each attachable claim the pod mounts."""
        out = []
        namespace = meta(pod).get("namespace")
        for volume in (pod.get("spec") or {}).get("volumes") or ():
            claim = (volume.get("persistentVolumeClaim") or {}).get("claimName") if isinstance(volume, dict) else None
            pvc = self.store.peek(PVCS, namespace, str(claim)) if claim else None
            spec = (pvc or {}).get("spec") or {}
            if spec.get("volumeName") and not SHARED_MODES & set(spec.get("accessModes") or ()):
                out.append((str(volume.get("name")), str(spec["volumeName"])))
        return out

    def sync(self, snap: Snapshot, node_up: dict[str, bool]) -> bool:
        now = self.cluster.now()
        users: dict[str, list[tuple[Obj, str, str]]] = {}  # PV -> (pod, node, volume name in the pod)
        # Only namespaces holding a claim can have pods that mount one (at scale most pods are in none of them).
        namespaces = {str(meta(c).get("namespace")) for c in self.store.items(PVCS)}
        candidates = [p for ns in namespaces for p in snap.pods_by_ns.get(ns, ())] if namespaces else []
        claiming = [p for p in candidates if (p.get("spec") or {}).get("nodeName") and claims(p) and not terminated(p)]
        for pod in sorted(claiming, key=lambda p: str(meta(p).get("creationTimestamp") or "")):
            node = pod["spec"]["nodeName"]
            for name, pv in self.volumes_of(pod):
                users.setdefault(pv, []).append((pod, str(node), name))
        busy = self._detach(users, snap, node_up, now)
        blocked: dict[str, tuple[str, str]] = {}
        for pv, using in users.items():
            for pod, node, name in using:
                holder = self.attached.get(pv)
                if holder is None:
                    self.attached[pv] = holder = node
                    running = (pod.get("status") or {}).get("phase") == "Running"
                    if not running:  # a pod seeded as running had its volume attached long ago
                        attached = f'AttachVolume.Attach succeeded for volume "{pv}"'
                        self._record(pod, "Normal", "SuccessfulAttachVolume", attached)
                if holder == node:
                    continue
                uid = str(meta(pod).get("uid"))
                message = multi_attach(pv, pod, [p for p, n, _ in using if n == holder])
                blocked[uid] = (name, message)
                due, wait = self._retry.get(uid, (now, RETRY_FIRST))
                if now >= due:
                    self._retry[uid] = (now + wait, min(wait * 2, RETRY_CAP))
                    self._record(pod, "Warning", "FailedAttachVolume", message)
                    busy = True
        self.blocked = blocked
        for uid in [u for u in self._retry if u not in blocked]:
            del self._retry[uid]
        return busy

    def _detach(
        self, users: dict[str, list[tuple[Obj, str, str]]], snap: Snapshot, node_up: dict[str, bool], now: float
    ) -> bool:
        """Detach each volume no pod on its node uses any more (at once from a node that is up or out of service;
        after MAX_WAIT_FOR_UNMOUNT from one that is not)."""
        detached = False
        for pv, node in list(self.attached.items()):
            if any(n == node for _, n, _ in users.get(pv, ())):
                self.unused_since.pop(pv, None)
                continue
            taints = ((snap.nodes.get(node) or {}).get("spec") or {}).get("taints") or ()
            fenced = any(t.get("key") == OUT_OF_SERVICE for t in taints)
            since = self.unused_since.setdefault(pv, now)
            if node_up.get(node, False) or fenced or node not in snap.nodes or now - since >= MAX_WAIT_FOR_UNMOUNT:
                del self.attached[pv]
                self.unused_since.pop(pv, None)
                detached = True
        return detached

    def _record(self, pod: Obj, type_: str, reason: str, message: str) -> None:
        self.cluster.recorder.record(pod, type_, reason, message, component=COMPONENT)

"""The scheduler: binds pending pods to nodes that are schedulable, tolerated, selected and have room.

Layer: sim (the simulated cluster; apart from the product).
"""

from __future__ import annotations

from collections import Counter
from datetime import timedelta
from typing import TYPE_CHECKING

from incident_response.sim import errors
from incident_response.sim.behaviors import bytes_of, millicores
from incident_response.sim.controllers.common import Obj, labels_of, meta, set_condition, terminating
from incident_response.sim.controllers.snapshot import Snapshot
from incident_response.sim.resources import PODS
from incident_response.sim.store import timestamp

if TYPE_CHECKING:
    from incident_response.sim.cluster import Cluster

COMPONENT = "default-scheduler"
UNSCHEDULABLE_TAINT = "node.kubernetes.io/unschedulable"


def pod_requests(pod: Obj) -> tuple[int, int]:
    """(CPU millicores, memory bytes) the pod requests; limits stand in for missing requests, as upstream."""
    cpu = mem = 0
    for container in (pod.get("spec") or {}).get("containers") or []:
        resources = container.get("resources") or {}
        requests = resources.get("requests") or {}
        limits = resources.get("limits") or {}
        cpu += millicores(requests.get("cpu", limits.get("cpu"))) or 0
        mem += bytes_of(requests.get("memory", limits.get("memory"))) or 0
    return cpu, mem


def allocatable(node: Obj) -> tuple[int, int, int]:
    alloc = (node.get("status") or {}).get("allocatable") or {}
    return (
        millicores(alloc.get("cpu")) or 0,
        bytes_of(alloc.get("memory")) or 0,
        int(bytes_of(alloc.get("pods")) or 110),
    )


def tolerates(pod: Obj, taint: Obj) -> bool:
    for toleration in (pod.get("spec") or {}).get("tolerations") or []:
        if toleration.get("effect") and toleration.get("effect") != taint.get("effect"):
            continue
        if toleration.get("operator") == "Exists":
            if not toleration.get("key") or toleration.get("key") == taint.get("key"):
                return True
        elif toleration.get("key") == taint.get("key") and toleration.get("value", "") == taint.get("value", ""):
            return True
    return False


def _requirement_holds(requirement: Obj, value: str | None) -> bool:
    operator, values = requirement.get("operator"), [str(v) for v in requirement.get("values") or []]
    if operator == "In":
        return value in values
    if operator == "NotIn":
        return value not in values
    if operator == "Exists":
        return value is not None
    if operator == "DoesNotExist":
        return value is None
    return False  # Gt/Lt and unknown operators: not modelled, so the term does not match


def affinity_matches(pod: Obj, node: Obj) -> bool:
    """The pod's required node affinity: any term whose matchExpressions (labels) and matchFields (the node's
    name, as DaemonSet pods are pinned) all hold; a pod without one fits every node."""
    affinity = ((pod.get("spec") or {}).get("affinity") or {}).get("nodeAffinity") or {}
    required = affinity.get("requiredDuringSchedulingIgnoredDuringExecution") or {}
    terms = [t for t in required.get("nodeSelectorTerms") or [] if isinstance(t, dict)]
    if not terms:
        return True
    labels = labels_of(node)
    fields = {"metadata.name": str(meta(node).get("name"))}
    return any(
        all(_requirement_holds(r, labels.get(str(r.get("key")))) for r in term.get("matchExpressions") or [])
        and all(_requirement_holds(r, fields.get(str(r.get("key")))) for r in term.get("matchFields") or [])
        for term in terms
    )


def filter_node(pod: Obj, node: Obj, used: tuple[int, int, int]) -> list[str]:
    """Why the pod cannot go on the node (upstream's FailedScheduling reasons); empty when it fits."""
    spec = node.get("spec") or {}
    unschedulable_taint = {"key": UNSCHEDULABLE_TAINT, "effect": "NoSchedule"}
    if spec.get("unschedulable") and not tolerates(pod, unschedulable_taint):
        return ["node(s) were unschedulable"]
    for taint in spec.get("taints") or []:
        if taint.get("key") == UNSCHEDULABLE_TAINT:
            continue
        if taint.get("effect") in ("NoSchedule", "NoExecute") and not tolerates(pod, taint):
            return [f"node(s) had untolerated taint {{{taint.get('key')}: {taint.get('value', '')}}}"]
    selector = (pod.get("spec") or {}).get("nodeSelector") or {}
    node_labels = labels_of(node)
    if any(node_labels.get(k) != v for k, v in selector.items()) or not affinity_matches(pod, node):
        return ["node(s) didn't match Pod's node affinity/selector"]
    cpu, mem, pods = allocatable(node)
    want_cpu, want_mem = pod_requests(pod)
    reasons = []
    if used[2] + 1 > pods:
        reasons.append("Too many pods")
    if used[0] + want_cpu > cpu:
        reasons.append("Insufficient cpu")
    if used[1] + want_mem > mem:
        reasons.append("Insufficient memory")
    return reasons


class Scheduler:
    def __init__(self, cluster: Cluster) -> None:
        self.cluster = cluster
        self.store = cluster.store
        self._last_failure: dict[str, float] = {}

    def sync(self, snap: Snapshot) -> bool:
        pending = [p for p in snap.unscheduled if not terminating(p)]
        if not pending:
            self._last_failure.clear()
            return False
        used: dict[str, tuple[int, int, int]] = dict.fromkeys(snap.nodes, (0, 0, 0))
        for pod in snap.pods:
            node = (pod.get("spec") or {}).get("nodeName")
            if node in used and (pod.get("status") or {}).get("phase") not in ("Succeeded", "Failed"):
                cpu, mem = pod_requests(pod)
                u = used[node]
                used[node] = (u[0] + cpu, u[1] + mem, u[2] + 1)
        busy = False
        pending.sort(key=lambda p: (str(meta(p).get("creationTimestamp")), str(meta(p).get("name"))))
        for pod in pending:
            busy = self._schedule(snap, pod, used) or busy
        live = {str(meta(p).get("uid")) for p in pending}
        for uid in [u for u in self._last_failure if u not in live]:
            del self._last_failure[uid]
        return busy

    def _schedule(self, snap: Snapshot, pod: Obj, used: dict[str, tuple[int, int, int]]) -> bool:
        reasons: Counter[str] = Counter()
        fits: list[tuple[float, str]] = []
        for name, node in snap.nodes.items():
            problems = filter_node(pod, node, used[name])
            if problems:
                reasons.update(problems)
            else:
                cpu, _, _ = allocatable(node)
                fits.append((used[name][0] / cpu if cpu else 1.0, name))
        namespace = str(meta(pod).get("namespace", ""))
        name = str(meta(pod)["name"])
        now = timestamp(self.store.clock())
        if fits:
            _, target = min(fits)
            cpu, mem = pod_requests(pod)
            u = used[target]
            used[target] = (u[0] + cpu, u[1] + mem, u[2] + 1)

            def bind(obj: Obj) -> None:
                obj["spec"]["nodeName"] = target
                status = obj.setdefault("status", {})
                status["conditions"] = set_condition(
                    list(status.get("conditions") or []),
                    {"type": "PodScheduled", "status": "True", "lastProbeTime": None},
                    now,
                )

            try:
                bound = self.store.mutate(PODS, namespace, name, bind)
            except errors.ApiError:
                return True
            # A pod of a dated revision (rolled-out-minutes-ago) was scheduled when it was created.
            shift = self.cluster.dated.shift(str(meta(pod).get("uid")))
            if shift < self.cluster.recorder.ttl_seconds:
                self.cluster.recorder.record(
                    bound,
                    "Normal",
                    "Scheduled",
                    f"Successfully assigned {namespace}/{name} to {target}",
                    component=COMPONENT,
                    when=self.store.clock() - timedelta(seconds=shift),
                )
            return True
        total = len(snap.nodes)
        detail = ", ".join(sorted(f"{count} {reason}" for reason, count in reasons.items()))
        message = f"0/{total} nodes are available: {detail}." if detail else f"0/{total} nodes are available."
        message += f" preemption: 0/{total} nodes are available: {total} Preemption is not helpful for scheduling."
        uid = str(meta(pod).get("uid"))
        mono = self.cluster.now()
        last = self._last_failure.get(uid)
        conditions = (pod.get("status") or {}).get("conditions") or []
        current = next((c for c in conditions if c.get("type") == "PodScheduled"), None)
        if current is None or current.get("message") != message or current.get("status") != "False":

            def mark(obj: Obj) -> None:
                status = obj.setdefault("status", {})
                status.setdefault("phase", "Pending")
                status["conditions"] = set_condition(
                    list(status.get("conditions") or []),
                    {
                        "type": "PodScheduled",
                        "status": "False",
                        "lastProbeTime": None,
                        "reason": "Unschedulable",
                        "message": message,
                    },
                    now,
                )

            try:
                self.store.mutate(PODS, namespace, name, mark)
            except errors.ApiError:
                return False
        if last is None or mono - last >= self.cluster.timing.schedule_retry:
            self._last_failure[uid] = mono
            self.cluster.recorder.record(pod, "Warning", "FailedScheduling", message, component=COMPONENT)
        return False

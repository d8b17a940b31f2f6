"""The DaemonSet controller (upstream's pkg/controller/daemon): one pod per eligible node, rolling updates.

A node is eligible when it matches the template's nodeSelector and its NoSchedule/NoExecute taints are
tolerated; daemon pods tolerate cordoned nodes and node problems as upstream adds those tolerations, so a
cordoned node keeps (and gets) its daemon pod while a NotReady node gets no new one. Pods are named
<set>-<random>, pinned to their node by node affinity (the scheduler binds them), and labelled with their
revision's hash (`controller-revision-hash`) and `pod-template-generation`. A rolling update replaces old pods
node by node, at most maxUnavailable unavailable at once (or, with maxSurge, starting the new pod first).

Layer: sim (the simulated cluster; apart from the product).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from incident_response.sim import errors, pod_admission
from incident_response.sim.controllers import revisions
from incident_response.sim.controllers.common import (
    Obj,
    annotations_of,
    int_of,
    labels_of,
    meta,
    scaled_value,
    terminating,
    uid_of,
)
from incident_response.sim.controllers.podfactory import pod_from_template
from incident_response.sim.controllers.scheduler import tolerates
from incident_response.sim.controllers.snapshot import Snapshot
from incident_response.sim.controllers.statefulsets import running_and_ready
from incident_response.sim.resources import DAEMONSETS, PODS

if TYPE_CHECKING:
    from incident_response.sim.cluster import Cluster

COMPONENT = "daemonset-controller"
TEMPLATE_GENERATION = "deprecated.daemonset.template.generation"
POD_TEMPLATE_GENERATION = "pod-template-generation"

# AddOrUpdateDaemonPodTolerations: what every daemon pod tolerates.
DAEMON_TOLERATIONS = (
    {"key": "node.kubernetes.io/not-ready", "operator": "Exists", "effect": "NoExecute"},
    {"key": "node.kubernetes.io/unreachable", "operator": "Exists", "effect": "NoExecute"},
    {"key": "node.kubernetes.io/disk-pressure", "operator": "Exists", "effect": "NoSchedule"},
    {"key": "node.kubernetes.io/memory-pressure", "operator": "Exists", "effect": "NoSchedule"},
    {"key": "node.kubernetes.io/pid-pressure", "operator": "Exists", "effect": "NoSchedule"},
    {"key": "node.kubernetes.io/unschedulable", "operator": "Exists", "effect": "NoSchedule"},
)


def daemon_tolerations(template: Obj) -> list[Obj]:
    own = list(((template.get("spec") or {}).get("tolerations")) or [])
    missing = [
        t
        for t in DAEMON_TOLERATIONS
        if not any(o.get("key") == t["key"] and o.get("effect") == t["effect"] for o in own)
    ]
    return own + [dict(t) for t in missing]


def should_run(template: Obj, node: Obj, effects: tuple[str, ...] = ("NoSchedule", "NoExecute")) -> bool:
    """Whether a daemon pod belongs on the node: its nodeSelector matches and the node's taints of `effects` are
    tolerated (NodeShouldRunDaemonPod; with only NoExecute, whether a pod already there may stay)."""
    selector = (template.get("spec") or {}).get("nodeSelector") or {}
    labels = labels_of(node)
    if any(labels.get(k) != v for k, v in selector.items()):
        return False
    probe = {"spec": {"tolerations": daemon_tolerations(template)}}
    taints = list((node.get("spec") or {}).get("taints") or [])
    return all(tolerates(probe, t) for t in taints if t.get("effect") in effects)


def node_of(pod: Obj) -> str:
    """The node a daemon pod is for: where it runs, or the node its affinity pins it to before it is bound."""
    bound = (pod.get("spec") or {}).get("nodeName")
    if bound:
        return str(bound)
    affinity = ((pod.get("spec") or {}).get("affinity") or {}).get("nodeAffinity") or {}
    terms = (affinity.get("requiredDuringSchedulingIgnoredDuringExecution") or {}).get("nodeSelectorTerms") or []
    for term in terms:
        for field in term.get("matchFields") or []:
            if field.get("key") == "metadata.name" and field.get("values"):
                return str(field["values"][0])
    return ""


def pinned_affinity(node: str) -> Obj:
    term = {"matchFields": [{"key": "metadata.name", "operator": "In", "values": [node]}]}
    return {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": [term]}}}


class DaemonSetController:
    def __init__(self, cluster: Cluster) -> None:
        self.cluster = cluster
        self.store = cluster.store
        self._generations: dict[str, tuple[str, int]] = {}  # uid -> (update revision's name, its generation)

    def sync(self, snap: Snapshot) -> bool:
        busy = False
        for ds in snap.daemonsets:
            if terminating(ds):
                continue
            try:
                busy = self._sync_one(snap, ds) or busy
            except errors.ApiError:
                busy = True  # raced with an API write: the next tick sees the new state
        return busy

    def _sync_one(self, snap: Snapshot, ds: Obj) -> bool:
        history = revisions.sync_history(self.store, ds, snap.revisions_by_owner.get(uid_of(ds), []))
        update = history.update
        generation = self._template_generation(ds, update)
        template = (ds.get("spec") or {}).get("template") or {}
        pods = list(snap.pods_by_owner.get(uid_of(ds), []))
        by_node: dict[str, list[Obj]] = {}
        for pod in pods:
            by_node.setdefault(node_of(pod), []).append(pod)
        eligible = sorted(name for name, node in snap.nodes.items() if should_run(template, node))
        staying = {name for name, node in snap.nodes.items() if should_run(template, node, ("NoExecute",))}
        changed = self._manage(ds, by_node, eligible, staying, update, generation)
        if not changed:
            changed = self._rolling_update(ds, by_node, eligible, update, generation)
        live = {str(labels_of(p).get(revisions.REVISION_HASH)) for p in pods}
        revisions.truncate(self.store, ds, history, lambda r: revisions.hash_of(r) in live)
        return self._write_status(ds, by_node, eligible, update) or changed

    def _template_generation(self, ds: Obj, update: Obj) -> int:
        """The API server's templateGeneration, shown as an annotation: 1, then one more per template change."""
        shown = int_of(annotations_of(ds).get(TEMPLATE_GENERATION), 0)
        seen = self._generations.get(uid_of(ds))
        name = str(meta(update)["name"])
        if seen is None:
            wanted = max(shown, 1)
        else:
            wanted = seen[1] + 1 if seen[0] != name else seen[1]
        self._generations[uid_of(ds)] = (name, wanted)
        if wanted != shown:
            self.store.mutate(
                DAEMONSETS,
                meta(ds).get("namespace"),
                str(meta(ds)["name"]),
                lambda o: o["metadata"].setdefault("annotations", {}).__setitem__(TEMPLATE_GENERATION, str(wanted)),
            )
        return wanted

    # ----- pods per node -----

    def _manage(
        self,
        ds: Obj,
        by_node: dict[str, list[Obj]],
        eligible: list[str],
        staying: set[str],
        update: Obj,
        generation: int,
    ) -> bool:
        """Create a pod on each eligible node without one; delete failed and surplus pods, and those on nodes
        they may no longer stay on (a pod on a node that turned NotReady stays: only NoExecute taints evict)."""
        changed = False
        surge = self._max_surge(ds, len(eligible)) > 0
        for node, pods in by_node.items():
            active = [p for p in pods if not terminating(p)]
            failed = [p for p in active if (p.get("status") or {}).get("phase") == "Failed"]
            for pod in failed:
                self._delete(ds, pod)
                changed = True
            active = [p for p in active if p not in failed]
            if node not in staying:
                for pod in active:
                    self._delete(ds, pod)
                    changed = True
            elif len(active) > 1 and not surge:
                # Keep the oldest; a surge update runs two pods on a node for a while on purpose.
                active.sort(key=lambda p: str(meta(p).get("creationTimestamp")))
                for pod in active[1:]:
                    self._delete(ds, pod)
                    changed = True
        for node in eligible:
            if not [p for p in by_node.get(node, []) if not terminating(p)]:
                self._create(ds, node, update, generation)
                changed = True
        return changed

    def _max_unavailable(self, ds: Obj, desired: int) -> int:
        rolling = (((ds.get("spec") or {}).get("updateStrategy") or {}).get("rollingUpdate")) or {}
        return scaled_value(rolling.get("maxUnavailable", 1), desired, round_up=True)

    def _max_surge(self, ds: Obj, desired: int) -> int:
        rolling = (((ds.get("spec") or {}).get("updateStrategy") or {}).get("rollingUpdate")) or {}
        return scaled_value(rolling.get("maxSurge", 0), desired, round_up=True)

    def _rolling_update(
        self, ds: Obj, by_node: dict[str, list[Obj]], eligible: list[str], update: Obj, generation: int
    ) -> bool:
        strategy = ((ds.get("spec") or {}).get("updateStrategy") or {}).get("type", "RollingUpdate")
        if strategy != "RollingUpdate":
            return False  # OnDelete: a pod takes the new template when someone deletes it
        new_hash = revisions.hash_of(update)
        surge = self._max_surge(ds, len(eligible))
        budget = self._max_unavailable(ds, len(eligible))
        olds: list[Obj] = []
        unavailable = 0
        for node in eligible:
            active = [p for p in by_node.get(node, []) if not terminating(p)]
            new = [p for p in active if labels_of(p).get(revisions.REVISION_HASH) == new_hash]
            old = [p for p in active if p not in new]
            if not any(running_and_ready(p) for p in active):
                unavailable += 1
            if old:
                olds.extend(old)
        changed = False
        if surge:
            surging = 0  # nodes where a new pod runs beside the old one and is not available yet
            candidates: list[str] = []
            for node in eligible:
                active = [p for p in by_node.get(node, []) if not terminating(p)]
                new = [p for p in active if labels_of(p).get(revisions.REVISION_HASH) == new_hash]
                old = [p for p in active if p not in new]
                if not old:
                    continue
                if new and any(running_and_ready(p) for p in new):
                    for pod in old:
                        self._delete(ds, pod)
                    changed = True
                elif new:
                    surging += 1
                elif not any(running_and_ready(p) for p in old):
                    self._create(ds, node, update, generation)  # nothing to keep available here
                    changed = True
                else:
                    candidates.append(node)
            for node in candidates[: max(surge - surging, 0)]:
                self._create(ds, node, update, generation)
                changed = True
            return changed
        # Unavailable old pods go first: replacing them costs nothing; then as many as the budget allows.
        olds.sort(key=running_and_ready)
        for pod in olds:
            if not running_and_ready(pod):
                self._delete(ds, pod)
                changed = True
            elif unavailable < budget:
                self._delete(ds, pod)
                unavailable += 1
                changed = True
        return changed

    def _create(self, ds: Obj, node: str, update: Obj, generation: int) -> None:
        template = (ds.get("spec") or {}).get("template") or {}
        labels = {revisions.REVISION_HASH: revisions.hash_of(update), POD_TEMPLATE_GENERATION: str(generation)}
        # AddOrUpdateDaemonPodTolerations runs before admission: no 300 s default for the node-problem taints
        template = {**template, "spec": {**(template.get("spec") or {}), "tolerations": daemon_tolerations(template)}}
        body = pod_from_template(ds, template, labels=labels)
        body["spec"]["affinity"] = {**(body["spec"].get("affinity") or {}), **pinned_affinity(node)}
        body["spec"]["tolerations"] = daemon_tolerations({"spec": body["spec"]})
        try:
            pod_admission.admit_pod(self.store, body)
            pod = self.store.create(PODS, body)
        except errors.ApiError as err:
            self._event(ds, "Warning", "FailedCreate", f"Error creating: {err.message}")
            return
        self._event(ds, "Normal", "SuccessfulCreate", f"Created pod: {meta(pod)['name']}")

    def _delete(self, ds: Obj, pod: Obj) -> None:
        namespace, name = str(meta(pod).get("namespace", "")), str(meta(pod)["name"])
        try:
            if (pod.get("spec") or {}).get("nodeName"):
                self.store.delete(PODS, namespace, name, graceful=True)
            else:
                self.store.remove(PODS, namespace, name)
        except errors.ApiError:
            return
        self._event(ds, "Normal", "SuccessfulDelete", f"Deleted pod: {name}")

    def _event(self, ds: Obj, type_: str, reason: str, message: str) -> None:
        self.cluster.recorder.record(ds, type_, reason, message, component=COMPONENT)

    # ----- status -----

    def _write_status(self, ds: Obj, by_node: dict[str, list[Obj]], eligible: list[str], update: Obj) -> bool:
        new_hash = revisions.hash_of(update)
        current = ready = available = updated = misscheduled = 0
        for node, pods in by_node.items():
            scheduled = [p for p in pods if not terminating(p)]
            if not scheduled:
                continue
            if node not in eligible:
                misscheduled += 1
                continue
            current += 1
            oldest = min(scheduled, key=lambda p: str(meta(p).get("creationTimestamp")))  # as upstream counts
            updated += labels_of(oldest).get(revisions.REVISION_HASH) == new_hash
            if running_and_ready(oldest):
                ready += 1
                available += 1
        desired = len(eligible)
        status: Obj = {
            "currentNumberScheduled": current,
            "desiredNumberScheduled": desired,
            "numberMisscheduled": misscheduled,
            "numberReady": ready,
            "observedGeneration": int_of(meta(ds).get("generation"), 1),
        }
        if updated:
            status["updatedNumberScheduled"] = updated
        if available:
            status["numberAvailable"] = available
        if desired - available > 0:
            status["numberUnavailable"] = desired - available
        if status == (ds.get("status") or {}):
            return False
        self.store.mutate(
            DAEMONSETS, meta(ds).get("namespace"), str(meta(ds)["name"]), lambda o: o.__setitem__("status", status)
        )
        return True

"""The Deployment controller: ReplicaSets per template, revisions, rollback, rolling/recreate, status.

Follows upstream's pkg/controller/deployment closely enough that `kubectl rollout status|history|undo`
behave as on a real cluster: pod-template-hash names, revision annotations moved on rollback, surge and
unavailability rounded as upstream, and the Available/Progressing conditions.

Layer: sim (the simulated cluster; apart from the product).
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from incident_response.sim import behaviors, errors
from incident_response.sim.controllers.common import (
    CONTROLLER_ANNOTATIONS,
    DESIRED_REPLICAS,
    MAX_REPLICAS,
    POD_TEMPLATE_HASH,
    REVISION,
    REVISION_HISTORY,
    Obj,
    annotations_of,
    condition,
    int_of,
    meta,
    owner_reference,
    replicas_of,
    same_template,
    scaled_value,
    set_condition,
    template_hash,
    terminating,
    uid_of,
    without_hash,
)
from incident_response.sim.controllers.snapshot import Snapshot
from incident_response.sim.resources import DEPLOYMENTS, REPLICASETS
from incident_response.sim.store import timestamp

if TYPE_CHECKING:
    from incident_response.sim.cluster import Cluster

COMPONENT = "deployment-controller"
_REFRESH = "_refresh"


@dataclass
class _RS:
    obj: Obj
    replicas: int  # spec.replicas, updated locally as this sync scales it

    @property
    def name(self) -> str:
        return str(meta(self.obj).get("name", ""))

    @property
    def revision(self) -> int:
        return int_of(annotations_of(self.obj).get(REVISION), 0)

    def status(self, key: str) -> int:
        return int_of((self.obj.get("status") or {}).get(key), 0)


def surge_and_unavailable(deploy: Obj) -> tuple[int, int]:
    """maxSurge rounds up and maxUnavailable down; both zero means one may be unavailable (upstream)."""
    spec = deploy.get("spec") or {}
    strategy = spec.get("strategy") or {}
    replicas = replicas_of(deploy)
    if strategy.get("type", "RollingUpdate") != "RollingUpdate":
        return 0, 0
    rolling = strategy.get("rollingUpdate") or {}
    surge = scaled_value(rolling.get("maxSurge", "25%"), replicas, round_up=True)
    unavailable = scaled_value(rolling.get("maxUnavailable", "25%"), replicas, round_up=False)
    if surge == 0 and unavailable == 0:
        unavailable = 1
    return surge, min(unavailable, replicas)


class DeploymentController:
    def __init__(self, cluster: Cluster) -> None:
        self.cluster = cluster
        self.store = cluster.store
        # Complete deployments whose sync changed nothing, with their ReplicaSets: the same objects (stored
        # objects are replaced on every write) next tick mean there is nothing to do.
        self._unchanged: dict[str, tuple[Obj, list[Obj]]] = {}
        self._new: _RS | None = None
        # same_template's answers by the two templates' identity (the same stored objects give the same answer): an
        # unfinished rollout compares its ReplicaSets' templates with the deployment's every tick, and the semantic
        # comparison was 40% of the controller's tick. The pair is kept, so an id is never another object's.
        self._compared: dict[tuple[int, int], tuple[Obj, Obj, bool]] = {}

    def sync(self, snap: Snapshot) -> bool:
        busy = False
        for deploy in snap.deployments:
            if terminating(deploy):
                continue
            uid = uid_of(deploy)
            owned = snap.rs_by_owner.get(uid, [])
            cached = self._unchanged.pop(uid, None)
            if (
                cached is not None
                and cached[0] is deploy
                and len(cached[1]) == len(owned)
                and all(a is b for a, b in zip(cached[1], owned, strict=True))
            ):
                self._unchanged[uid] = cached
                continue
            try:
                changed = self._sync_one(snap, deploy)
                busy = changed or busy
                if not changed and self._complete(deploy):
                    self._unchanged[uid] = (deploy, list(owned))
            except errors.ApiError:
                # Raced with an API write (object deleted or changed): the next tick sees the new state.
                busy = True
        return busy

    def _same_template(self, replicaset_template: Obj, template: Obj) -> bool:
        """Whether a ReplicaSet's pod template (with its pod-template-hash) is the deployment's."""
        key = (id(replicaset_template), id(template))
        known = self._compared.get(key)
        if known is not None and known[0] is replicaset_template and known[1] is template:
            return known[2]
        if len(self._compared) >= 4096:  # bounded: old pairs go all at once
            self._compared.clear()
        same = same_template(without_hash(replicaset_template), template)
        self._compared[key] = (replicaset_template, template, same)
        return same

    # ----- one deployment -----

    def _sync_one(self, snap: Snapshot, deploy: Obj) -> bool:
        uid = uid_of(deploy)
        spec = deploy.get("spec") or {}
        template = spec.get("template") or {}
        owned = [_RS(rs, replicas_of(rs, 0)) for rs in snap.rs_by_owner.get(uid, []) if not terminating(rs)]
        new = next((rs for rs in owned if self._same_template(rs.obj["spec"].get("template") or {}, template)), None)
        olds = sorted((rs for rs in owned if rs is not new), key=lambda r: str(meta(r.obj).get("creationTimestamp")))
        paused = bool(spec.get("paused"))
        changed = False
        progress_reason: tuple[str, str] | None = None
        if new is None and not paused:
            if self._recreate_waiting(snap, deploy, olds):
                changed = self._scale_olds_to_zero(deploy, olds)
            else:
                new = self._create_rs(deploy, olds)
                changed = True
                progress_reason = ("NewReplicaSetCreated", f'Created new replica set "{new.name}"')
        elif new is not None and not paused:
            if self._sync_revision(deploy, new, olds):
                changed = True
                progress_reason = ("FoundNewReplicaSet", f'Found new replica set "{new.name}"')
        self._new = new  # scaling events of this sync are dated as its new ReplicaSet's rollout
        for rs in olds:
            self.cluster.dated.forget(uid_of(rs.obj))  # superseded before it finished rolling out
        if new is not None and not paused:
            if self._strategy(deploy) == "Recreate":
                changed = self._recreate(snap, deploy, new, olds) or changed
            else:
                changed = self._rolling(deploy, new, olds) or changed
        elif new is not None and paused and not any(rs.replicas for rs in olds):
            changed = self._scale(deploy, new, replicas_of(deploy)) or changed
        status_changed = self._write_status(deploy, new, olds, progress_reason)
        if new is not None and not paused and self._complete(deploy):
            self.cluster.dated.forget(uid_of(new.obj))  # rolled out: what happens from now on is dated now
            self._cleanup(deploy, olds)
        return changed or status_changed

    def _shift(self, rs: _RS | None) -> float:
        """Seconds back this rollout is dated (its new ReplicaSet was created for a dated revision), else 0."""
        return self.cluster.dated.shift(uid_of(rs.obj)) if rs is not None else 0.0

    def _now(self, rs: _RS | None) -> datetime:
        return self.store.clock() - timedelta(seconds=self._shift(rs))

    def _dating(self, deploy: Obj, olds: list[_RS]) -> datetime | None:
        """When a new ReplicaSet is dated (rolled-out-minutes-ago): for the first revision, or a later one whose
        update changed the annotation too (the previous revision carries the value it was rolled out with), and
        only after every older revision."""
        minutes = behaviors.rolled_out_minutes_ago(deploy)
        if minutes is None:
            return None
        latest = max(olds, key=lambda rs: rs.revision, default=None)
        if latest is not None and behaviors.rolled_out_minutes_ago(latest.obj) == minutes:
            return None
        moment = self.store.clock() - timedelta(minutes=minutes)
        for rs in olds:
            created = self.cluster.parse_time(str(meta(rs.obj).get("creationTimestamp") or ""))
            if created is None or created >= moment.timestamp():
                return None
        return moment

    def _strategy(self, deploy: Obj) -> str:
        return str(((deploy.get("spec") or {}).get("strategy") or {}).get("type") or "RollingUpdate")

    def _recreate_waiting(self, snap: Snapshot, deploy: Obj, olds: list[_RS]) -> bool:
        """Recreate creates the new ReplicaSet only once every old pod is gone."""
        if self._strategy(deploy) != "Recreate":
            return False
        return any(rs.replicas for rs in olds) or any(snap.pods_by_owner.get(uid_of(rs.obj)) for rs in olds)

    def _create_rs(self, deploy: Obj, olds: list[_RS]) -> _RS:
        spec = deploy.get("spec") or {}
        template = copy.deepcopy(spec.get("template") or {})
        status = deploy.get("status") or {}
        collisions = int_of(status.get("collisionCount"), 0)
        namespace = str(meta(deploy).get("namespace", ""))
        while True:
            pod_hash = template_hash(template, collisions)
            name = f"{meta(deploy).get('name')}-{pod_hash}"
            existing = self.store.peek(REPLICASETS, namespace, name)
            if existing is None:
                break
            collisions += 1
        if collisions != int_of(status.get("collisionCount"), 0):
            count = collisions
            self.store.mutate(
                DEPLOYMENTS,
                namespace,
                str(meta(deploy)["name"]),
                lambda d: d.setdefault("status", {}).__setitem__("collisionCount", count),
            )
        tmpl_meta = template.setdefault("metadata", {})
        tmpl_meta["labels"] = {**(tmpl_meta.get("labels") or {}), POD_TEMPLATE_HASH: pod_hash}
        selector = copy.deepcopy(spec.get("selector") or {})
        selector["matchLabels"] = {**(selector.get("matchLabels") or {}), POD_TEMPLATE_HASH: pod_hash}
        revision = max((rs.revision for rs in olds), default=0) + 1
        surge, _ = surge_and_unavailable(deploy)
        annotations = {k: v for k, v in annotations_of(deploy).items() if k not in CONTROLLER_ANNOTATIONS}
        annotations.update(
            {
                DESIRED_REPLICAS: str(replicas_of(deploy)),
                MAX_REPLICAS: str(replicas_of(deploy) + surge),
                REVISION: str(revision),
            }
        )
        body: Obj = {
            "metadata": {
                "name": name,
                "namespace": namespace,
                "labels": dict(tmpl_meta["labels"]),
                "annotations": annotations,
                "ownerReferences": [owner_reference(deploy)],
            },
            "spec": {
                "replicas": 0,
                "minReadySeconds": int_of(spec.get("minReadySeconds"), 0),
                "selector": selector,
                "template": template,
            },
        }
        moment = self._dating(deploy, olds)
        created = self.store.create(REPLICASETS, body, created=moment)
        if moment is not None:
            self.cluster.dated.date(uid_of(created), (self.store.clock() - moment).total_seconds())
            self._date_deployment(deploy, moment)
        self._mirror_revision(deploy, revision)
        return _RS(created, 0)

    def _date_deployment(self, deploy: Obj, moment: datetime) -> None:
        """A deployment created with a dated revision is at least as old as that revision."""
        stamp = timestamp(moment)
        if str(meta(deploy).get("creationTimestamp") or "") <= stamp:
            return
        self.store.mutate(
            DEPLOYMENTS,
            meta(deploy).get("namespace"),
            str(meta(deploy)["name"]),
            lambda d: d["metadata"].__setitem__("creationTimestamp", stamp),
        )

    def _sync_revision(self, deploy: Obj, new: _RS, olds: list[_RS]) -> bool:
        """Make the current ReplicaSet the latest revision (rollback) and copy the deployment's annotations."""
        max_old = max((rs.revision for rs in olds), default=0)
        current = new.revision
        wanted = {k: v for k, v in annotations_of(deploy).items() if k not in CONTROLLER_ANNOTATIONS}
        moved = current <= max_old
        if moved:
            history = [h for h in annotations_of(new.obj).get(REVISION_HISTORY, "").split(",") if h]
            if current:
                history.append(str(current))
            wanted[REVISION] = str(max_old + 1)
            wanted[REVISION_HISTORY] = ",".join(history)
        have = annotations_of(new.obj)
        if any(have.get(k) != v for k, v in wanted.items()):

            def apply(rs: Obj) -> None:
                rs["metadata"].setdefault("annotations", {}).update(wanted)

            new.obj = self.store.mutate(REPLICASETS, meta(new.obj).get("namespace"), new.name, apply)
        self._mirror_revision(deploy, new.revision)
        return moved

    def _mirror_revision(self, deploy: Obj, revision: int) -> None:
        if annotations_of(deploy).get(REVISION) == str(revision):
            return
        self.store.mutate(
            DEPLOYMENTS,
            meta(deploy).get("namespace"),
            str(meta(deploy)["name"]),
            lambda d: d["metadata"].setdefault("annotations", {}).__setitem__(REVISION, str(revision)),
        )

    # ----- strategies -----

    def _rolling(self, deploy: Obj, new: _RS, olds: list[_RS]) -> bool:
        replicas = replicas_of(deploy)
        surge, unavailable = surge_and_unavailable(deploy)
        everyone = [new, *olds]
        total = sum(rs.replicas for rs in everyone)
        if new.replicas < replicas:
            max_total = replicas + surge
            if total < max_total:
                return self._scale(deploy, new, new.replicas + min(max_total - total, replicas - new.replicas))
        elif new.replicas > replicas:
            return self._scale(deploy, new, replicas)
        if not any(rs.replicas for rs in olds):
            return False
        min_available = replicas - unavailable
        new_unavailable = new.replicas - new.status("availableReplicas")
        max_down = total - min_available - new_unavailable
        if max_down <= 0:
            return False
        changed = False
        done = 0
        # Unhealthy old replicas go first: removing them costs no availability.
        for rs in olds:
            if done >= max_down:
                break
            unhealthy = rs.replicas - rs.status("availableReplicas")
            if rs.replicas == 0 or unhealthy <= 0:
                continue
            count = min(max_down - done, unhealthy)
            changed = self._scale(deploy, rs, rs.replicas - count) or changed
            done += count
        available = sum(min(rs.status("availableReplicas"), rs.replicas) for rs in everyone)
        budget = available - min_available
        for rs in olds:
            if budget <= 0:
                break
            if rs.replicas == 0:
                continue
            count = min(rs.replicas, budget)
            changed = self._scale(deploy, rs, rs.replicas - count) or changed
            budget -= count
        return changed

    def _recreate(self, snap: Snapshot, deploy: Obj, new: _RS, olds: list[_RS]) -> bool:
        if any(rs.replicas for rs in olds):
            return self._scale_olds_to_zero(deploy, olds)
        if any(snap.pods_by_owner.get(uid_of(rs.obj)) for rs in olds):
            return True  # waiting for old pods to terminate
        return self._scale(deploy, new, replicas_of(deploy))

    def _scale_olds_to_zero(self, deploy: Obj, olds: list[_RS]) -> bool:
        changed = False
        for rs in olds:
            if rs.replicas:
                changed = self._scale(deploy, rs, 0) or changed
        return changed

    def _scale(self, deploy: Obj, rs: _RS, count: int) -> bool:
        if count == rs.replicas:
            return False
        before = rs.replicas
        surge, _ = surge_and_unavailable(deploy)
        desired = str(replicas_of(deploy))
        maximum = str(replicas_of(deploy) + surge)

        def apply(obj: Obj) -> None:
            obj["spec"]["replicas"] = count
            annotations = obj["metadata"].setdefault("annotations", {})
            annotations[DESIRED_REPLICAS] = desired
            annotations[MAX_REPLICAS] = maximum

        rs.obj = self.store.mutate(REPLICASETS, meta(rs.obj).get("namespace"), rs.name, apply)
        rs.replicas = count
        direction = "up" if count > before else "down"
        message = f"Scaled {direction} replica set {rs.name} to {count}" + (f" from {before}" if before else "")
        if self._shift(self._new) < self.cluster.recorder.ttl_seconds:  # an older event would have expired
            self.cluster.recorder.record(
                deploy, "Normal", "ScalingReplicaSet", message, component=COMPONENT, when=self._now(self._new)
            )
        return True

    # ----- status -----

    def _complete(self, deploy: Obj) -> bool:
        status = deploy.get("status") or {}
        replicas = replicas_of(deploy)
        return (
            int_of(status.get("updatedReplicas")) == replicas
            and int_of(status.get("replicas")) == replicas
            and int_of(status.get("availableReplicas")) == replicas
            and int_of(status.get("observedGeneration")) >= int_of(meta(deploy).get("generation"), 0)
        )

    def _write_status(self, deploy: Obj, new: _RS | None, olds: list[_RS], reason: tuple[str, str] | None) -> bool:
        everyone = [rs for rs in [new, *olds] if rs is not None]
        replicas = replicas_of(deploy)
        _, unavailable = surge_and_unavailable(deploy)
        old_status = deploy.get("status") or {}
        counts = {
            "replicas": sum(rs.status("replicas") for rs in everyone),
            "updatedReplicas": new.status("replicas") if new else 0,
            "readyReplicas": sum(rs.status("readyReplicas") for rs in everyone),
            "availableReplicas": sum(rs.status("availableReplicas") for rs in everyone),
        }
        counts["unavailableReplicas"] = max(sum(rs.replicas for rs in everyone) - counts["availableReplicas"], 0)
        now = timestamp(self._now(new))
        conditions = list(old_status.get("conditions") or [])
        if counts["availableReplicas"] >= replicas - unavailable:
            available = ("True", "MinimumReplicasAvailable", "Deployment has minimum availability.")
        else:
            available = ("False", "MinimumReplicasUnavailable", "Deployment does not have minimum availability.")
        conditions = set_condition(
            conditions,
            {
                "type": "Available",
                "status": available[0],
                "lastUpdateTime": now,
                "reason": available[1],
                "message": available[2],
            },
            now,
        )
        progressing = self._progressing(deploy, new, counts, reason, now)
        if progressing is not None:
            refresh = bool(progressing.pop(_REFRESH, False))
            conditions = set_condition(conditions, progressing, now, refresh=refresh)
        conditions = self._replica_failure(conditions, new, olds)
        # Conditions are listed Available first, Progressing second, as upstream writes them.
        conditions.sort(key=lambda c: {"Available": 0, "Progressing": 1}.get(str(c.get("type")), 2))
        status: Obj = {"observedGeneration": int_of(meta(deploy).get("generation"), 1)}
        status.update({k: v for k, v in counts.items() if v})
        status["conditions"] = conditions
        if "collisionCount" in old_status:
            status["collisionCount"] = old_status["collisionCount"]
        if status == old_status:
            return False
        current = self.store.peek(DEPLOYMENTS, meta(deploy).get("namespace"), str(meta(deploy)["name"]))
        if current is None:
            return False
        if "collisionCount" in (current.get("status") or {}):
            status["collisionCount"] = current["status"]["collisionCount"]
        self.store.mutate(
            DEPLOYMENTS,
            meta(deploy).get("namespace"),
            str(meta(deploy)["name"]),
            lambda d: d.__setitem__("status", status),
        )
        return True

    @staticmethod
    def _replica_failure(conditions: list[Obj], new: _RS | None, olds: list[_RS]) -> list[Obj]:
        """getReplicaFailures: the new ReplicaSet's ReplicaFailure condition (else an old one's), as the
        Deployment's own; removed once no ReplicaSet has one."""
        found = condition(new.obj, "ReplicaFailure") if new is not None else None
        for rs in olds:
            found = found or condition(rs.obj, "ReplicaFailure")
        kept = [c for c in conditions if c.get("type") != "ReplicaFailure"]
        if found is None:
            return kept
        since = found.get("lastTransitionTime")
        mirrored = {
            "type": "ReplicaFailure",
            "status": found.get("status", "True"),
            "lastUpdateTime": since,
            "lastTransitionTime": since,
            "reason": found.get("reason", ""),
            "message": found.get("message", ""),
        }
        return [*kept, mirrored]

    def _progressing(
        self, deploy: Obj, new: _RS | None, counts: dict[str, int], reason: tuple[str, str] | None, now: str
    ) -> Obj | None:
        spec = deploy.get("spec") or {}
        old_status = deploy.get("status") or {}
        current = condition(deploy, "Progressing")
        replicas = replicas_of(deploy)

        def cond(status: str, why: str, message: str) -> Obj:
            return {"type": "Progressing", "status": status, "lastUpdateTime": now, "reason": why, "message": message}

        if spec.get("paused"):
            return cond("Unknown", "DeploymentPaused", "Deployment is paused")
        if new is None:
            return None
        if reason is not None:
            return cond("True", reason[0], reason[1])
        if (
            counts["updatedReplicas"] == replicas
            and counts["replicas"] == replicas
            and counts["availableReplicas"] == replicas
        ):
            return cond("True", "NewReplicaSetAvailable", f'ReplicaSet "{new.name}" has successfully progressed.')
        progressed = any(
            counts[key] > int_of(old_status.get(key))
            for key in ("updatedReplicas", "readyReplicas", "availableReplicas")
        ) or counts["replicas"] < int_of(old_status.get("replicas"))
        if progressed:
            # A progress report refreshes lastUpdateTime even when the message is the same.
            return {**cond("True", "ReplicaSetUpdated", f'ReplicaSet "{new.name}" is progressing.'), _REFRESH: True}
        if current is not None and current.get("status") == "True":
            deadline = int_of(spec.get("progressDeadlineSeconds"), 600)
            started = self.cluster.parse_time(str(current.get("lastUpdateTime") or ""))
            if (
                current.get("reason") != "NewReplicaSetAvailable"
                and started is not None
                and self._now(new).timestamp() - started > deadline
            ):
                return cond("False", "ProgressDeadlineExceeded", f'ReplicaSet "{new.name}" has timed out progressing.')
        return None

    def _cleanup(self, deploy: Obj, olds: list[_RS]) -> None:
        limit = int_of((deploy.get("spec") or {}).get("revisionHistoryLimit"), 10)
        idle = [rs for rs in olds if rs.replicas == 0 and rs.status("replicas") == 0]
        idle.sort(key=lambda rs: rs.revision)
        for rs in idle[: max(len(idle) - limit, 0)]:
            if self.store.peek(REPLICASETS, meta(rs.obj).get("namespace"), rs.name) is not None:
                self.store.remove(REPLICASETS, meta(rs.obj).get("namespace"), rs.name)

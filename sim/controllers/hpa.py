"""The HorizontalPodAutoscaler controller (autoscaling/v2, Resource cpu Utilization) on simulated CPU.

Layer: sim (the simulated cluster; apart from the product).
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from incident_response.sim import errors
from incident_response.sim.controllers.common import Obj, int_of, meta, replicas_of, set_condition, terminating
from incident_response.sim.controllers.scheduler import pod_requests
from incident_response.sim.controllers.snapshot import Snapshot
from incident_response.sim.resources import BY_KIND, HPAS, SCALABLE
from incident_response.sim.store import timestamp

if TYPE_CHECKING:
    from incident_response.sim.cluster import Cluster

COMPONENT = "horizontal-pod-autoscaler"
TOLERANCE = 0.1


def cpu_target(hpa: Obj) -> int | None:
    """The target average utilization (percent) of the first cpu Resource metric; v2 default is 80."""
    metrics = (hpa.get("spec") or {}).get("metrics")
    if not metrics:
        return 80
    for metric in metrics:
        resource = metric.get("resource") or {}
        if metric.get("type") == "Resource" and resource.get("name") == "cpu":
            target = resource.get("target") or {}
            if target.get("type", "Utilization") == "Utilization":
                return int_of(target.get("averageUtilization"), 80)
    return None


def recommend(usage: int, requested: int, counted: int, missing: list[int], percent: int, current: int) -> int:
    """Upstream's replica calculation (replica_calculator.go) for the pods with metrics plus those `missing` them.

    A pod without metrics counts as using its whole request (at least the target) when the others say scale down,
    and nothing when they say scale up; a recommendation that this brings within tolerance, reverses, or moves
    the other way than the usage keeps the current count. Without that rule, load that shifts onto the pods that
    are briefly running would resize the target back and forth.
    """
    ratio = usage * 100 / requested / percent
    if not missing:
        return current if abs(ratio - 1.0) <= TOLERANCE else math.ceil(ratio * counted)
    if ratio < 1.0:
        usage += sum(request * max(100, percent) // 100 for request in missing)
    requested += sum(missing)
    adjusted = usage * 100 / requested / percent
    if abs(adjusted - 1.0) <= TOLERANCE or (ratio < 1.0 < adjusted) or (ratio > 1.0 > adjusted):
        return current
    desired = math.ceil(adjusted * (counted + len(missing)))
    if (adjusted < 1.0 and desired > current) or (adjusted > 1.0 and desired < current):
        return current
    return desired


class HPAController:
    def __init__(self, cluster: Cluster) -> None:
        self.cluster = cluster
        self.store = cluster.store
        self._next: dict[str, float] = {}
        self._recommendations: dict[str, list[tuple[float, int]]] = {}

    def sync(self, snap: Snapshot) -> bool:
        now = self.cluster.now()
        changed = False
        for hpa in snap.hpas:
            uid = str(meta(hpa).get("uid"))
            if terminating(hpa) or now < self._next.get(uid, 0.0):
                continue
            self._next[uid] = now + self.cluster.timing.hpa_sync
            try:
                changed = self._sync_one(snap, hpa, now) or changed
            except errors.ApiError:
                changed = True
        return changed

    def _target(self, hpa: Obj) -> tuple[Obj | None, str]:
        ref = (hpa.get("spec") or {}).get("scaleTargetRef") or {}
        api_version = str(ref.get("apiVersion", "apps/v1"))
        group = api_version.split("/")[0] if "/" in api_version else ""
        res = BY_KIND.get((group, str(ref.get("kind", ""))))
        if res not in SCALABLE or res is None:
            return (
                None,
                f"the HPA controller was unable to get the target's current scale: no scale for {ref.get('kind')}",
            )
        target = self.store.peek(res, meta(hpa).get("namespace"), str(ref.get("name", "")))
        if target is None:
            return None, (
                f"the HPA controller was unable to get the target's current scale: {res.plural}.{res.group} "
                f'"{ref.get("name")}" not found'
            )
        return target, ""

    def _pods(self, snap: Snapshot, target: Obj) -> list[Obj]:
        uid = str(meta(target).get("uid"))
        if target.get("kind") != "Deployment":  # a ReplicaSet's or a StatefulSet's own pods
            return list(snap.pods_by_owner.get(uid, []))
        pods: list[Obj] = []
        for rs in snap.rs_by_owner.get(uid, []):
            pods.extend(snap.pods_by_owner.get(str(meta(rs).get("uid")), []))
        return pods

    def _sync_one(self, snap: Snapshot, hpa: Obj, now: float) -> bool:
        spec = hpa.get("spec") or {}
        wall = timestamp(self.store.clock())
        minimum = int_of(spec.get("minReplicas"), 1)
        maximum = int_of(spec.get("maxReplicas"), minimum)
        status = dict(hpa.get("status") or {})
        conditions = list(status.get("conditions") or [])
        target, problem = self._target(hpa)
        if target is None:
            conditions = set_condition(
                conditions,
                {"type": "AbleToScale", "status": "False", "reason": "FailedGetScale", "message": problem},
                wall,
            )
            return self._write(hpa, {**status, "conditions": conditions})
        current = replicas_of(target)
        conditions = set_condition(
            conditions,
            {
                "type": "AbleToScale",
                "status": "True",
                "reason": "SucceededGetScale",
                "message": "the HPA controller was able to get the target's current scale",
            },
            wall,
        )
        desired = current
        metrics: list[Obj] = []
        percent = cpu_target(hpa)
        if current == 0 and minimum > 0:
            conditions = set_condition(
                conditions,
                {
                    "type": "ScalingActive",
                    "status": "False",
                    "reason": "ScalingDisabled",
                    "message": "scaling is disabled since the replica count of the target is zero",
                },
                wall,
            )
            # Upstream leaves a target scaled to zero alone (someone turned it off on purpose): no bounds, no rescale.
            return self._write(hpa, {**status, "currentReplicas": 0, "desiredReplicas": 0, "conditions": conditions})
        else:
            usage = requested = counted = 0
            missing: list[int] = []  # requests of started pods without metrics (a crash-looping container in backoff)
            for pod in self._pods(snap, target):
                measured = self.cluster.pod_usage(pod)
                cpu_request, _ = pod_requests(pod)
                if terminating(pod) or not cpu_request:
                    continue
                if measured is None:
                    if (pod.get("status") or {}).get("phase") == "Running":
                        missing.append(cpu_request)
                    continue
                usage += measured[0]
                requested += cpu_request
                counted += 1
            if percent is None or not counted:
                conditions = set_condition(
                    conditions,
                    {
                        "type": "ScalingActive",
                        "status": "False",
                        "reason": "FailedGetResourceMetric",
                        "message": "the HPA was unable to compute the replica count: failed to get cpu utilization: "
                        "unable to get metrics for resource cpu: no metrics returned from resource metrics API",
                    },
                    wall,
                )
            else:
                utilization = round(usage * 100 / requested)
                desired = recommend(usage, requested, counted, missing, percent, current)
                metrics = [
                    {
                        "type": "Resource",
                        "resource": {
                            "name": "cpu",
                            "current": {"averageUtilization": utilization, "averageValue": f"{usage // counted}m"},
                        },
                    }
                ]
                conditions = set_condition(
                    conditions,
                    {
                        "type": "ScalingActive",
                        "status": "True",
                        "reason": "ValidMetricFound",
                        "message": "the HPA was able to successfully calculate a replica count from cpu resource "
                        "utilization (percentage of request)",
                    },
                    wall,
                )
        desired = self._stabilize(str(meta(hpa).get("uid")), desired, current, now)
        limited = ("False", "DesiredWithinRange", "the desired count is within the acceptable range")
        scale_up_limit = max(2 * current, 4)
        if desired > maximum:
            desired, limited = (
                maximum,
                ("True", "TooManyReplicas", "the desired replica count is more than the maximum replica count"),
            )
        elif desired < minimum:
            desired, limited = (
                minimum,
                ("True", "TooFewReplicas", "the desired replica count is less than the minimum replica count"),
            )
        elif desired > scale_up_limit:
            desired, limited = (
                scale_up_limit,
                ("True", "ScaleUpLimit", "the desired replica count is increasing faster than the maximum scale rate"),
            )
        conditions = set_condition(
            conditions,
            {"type": "ScalingLimited", "status": limited[0], "reason": limited[1], "message": limited[2]},
            wall,
        )
        new_status: Obj = {"currentReplicas": current, "desiredReplicas": desired, "conditions": conditions}
        if metrics:
            new_status["currentMetrics"] = metrics
        if "lastScaleTime" in status:
            new_status["lastScaleTime"] = status["lastScaleTime"]
        new_status["observedGeneration"] = int_of(meta(hpa).get("generation"), 1)
        if desired != current and target is not None:
            self._rescale(hpa, target, current, desired)
            new_status["lastScaleTime"] = wall
            conditions = set_condition(
                conditions,
                {
                    "type": "AbleToScale",
                    "status": "True",
                    "reason": "SucceededRescale",
                    "message": f"the HPA controller was able to update the target scale to {desired}",
                },
                wall,
            )
            new_status["conditions"] = conditions
        new_status["conditions"] = sorted(
            new_status["conditions"],
            key=lambda c: (
                ["AbleToScale", "ScalingActive", "ScalingLimited"].index(c["type"])
                if c.get("type") in ("AbleToScale", "ScalingActive", "ScalingLimited")
                else 3
            ),
        )
        return self._write(hpa, new_status) or desired != current

    def _stabilize(self, uid: str, desired: int, current: int, now: float) -> int:
        """Scale down only to the highest recommendation of the stabilization window, like upstream."""
        window = self.cluster.timing.hpa_downscale_window
        history = [(t, r) for t, r in self._recommendations.get(uid, []) if now - t <= window]
        history.append((now, desired))
        self._recommendations[uid] = history
        if desired < current:
            return min(current, max(r for _, r in history))
        return desired

    def _rescale(self, hpa: Obj, target: Obj, current: int, desired: int) -> None:
        res = next(r for r in SCALABLE if r.kind == target.get("kind"))
        self.store.mutate(
            res,
            meta(target).get("namespace"),
            str(meta(target)["name"]),
            lambda obj: obj.setdefault("spec", {}).__setitem__("replicas", desired),
        )
        direction = "above" if desired > current else "below"
        self.cluster.recorder.record(
            hpa,
            "Normal",
            "SuccessfulRescale",
            f"New size: {desired}; reason: cpu resource utilization (percentage of request) {direction} target",
            component=COMPONENT,
        )

    def _write(self, hpa: Obj, status: Obj) -> bool:
        if status == (hpa.get("status") or {}):
            return False
        self.store.mutate(
            HPAS, meta(hpa).get("namespace"), str(meta(hpa)["name"]), lambda obj: obj.__setitem__("status", status)
        )
        return True

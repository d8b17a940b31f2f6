"""Serving a kind in more than one version: the store keeps one (the storage version); others are converted.

Custom resources are the same object under another apiVersion (a CRD's `None` strategy). Built in:
autoscaling/v1 HorizontalPodAutoscaler (stored as autoscaling/v2), converted as upstream's
pkg/apis/autoscaling/v1 conversion does: the cpu Utilization metric is `targetCPUUtilizationPercentage`, and what
v1 cannot express (other metrics, scaling behavior, conditions, other current metrics) travels in
`autoscaling.alpha.kubernetes.io/*` annotations, so a v1 read-modify-write keeps it.

Layer: sim (the simulated cluster; apart from the product).
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from typing import Any

from incident_response.sim import errors
from incident_response.sim.resources import ResourceType

Obj = dict[str, Any]

METRICS = "autoscaling.alpha.kubernetes.io/metrics"
CURRENT_METRICS = "autoscaling.alpha.kubernetes.io/current-metrics"
CONDITIONS = "autoscaling.alpha.kubernetes.io/conditions"
BEHAVIOR = "autoscaling.alpha.kubernetes.io/behavior"


def _is_cpu_utilization(metric: Any) -> bool:
    resource = metric.get("resource") or {} if isinstance(metric, dict) else {}
    target = resource.get("target") or {}
    return bool(
        metric.get("type") == "Resource"
        and resource.get("name") == "cpu"
        and target.get("type") == "Utilization"
        and isinstance(target.get("averageUtilization"), int)
    )


def _is_cpu_current(metric: Any) -> bool:
    resource = metric.get("resource") or {} if isinstance(metric, dict) else {}
    return bool(metric.get("type") == "Resource" and resource.get("name") == "cpu")


def _annotation_list(annotations: Obj, key: str) -> list[Any]:
    text = annotations.pop(key, None)
    if text is None:
        return []
    try:
        value = json.loads(text)
    except (TypeError, ValueError) as e:
        raise errors.bad_request(f"metadata.annotations[{key}] is not a JSON list: {e}") from e
    if not isinstance(value, list):
        raise errors.bad_request(f"metadata.annotations[{key}] must be a JSON list")
    return value


def hpa_v2_to_v1(obj: Obj) -> Obj:
    out = copy.deepcopy(obj)
    out["apiVersion"] = "autoscaling/v1"
    meta = out.setdefault("metadata", {})
    annotations: Obj = dict(meta.get("annotations") or {})
    spec = out.get("spec")
    if isinstance(spec, dict):
        metrics = spec.pop("metrics", None) or []
        cpu = next((m for m in metrics if _is_cpu_utilization(m)), None)
        if cpu is not None:
            spec["targetCPUUtilizationPercentage"] = cpu["resource"]["target"]["averageUtilization"]
        others = [m for m in metrics if m is not cpu]
        if others:
            annotations[METRICS] = json.dumps(others, separators=(",", ":"))
        behavior = spec.pop("behavior", None)
        if behavior:
            annotations[BEHAVIOR] = json.dumps(behavior, separators=(",", ":"))
    status = out.get("status")
    if isinstance(status, dict):
        current = status.pop("currentMetrics", None) or []
        cpu_now = next((m for m in current if _is_cpu_current(m)), None)
        utilization = ((cpu_now or {}).get("resource") or {}).get("current", {}).get("averageUtilization")
        if utilization is not None:
            status["currentCPUUtilizationPercentage"] = utilization
        others = [m for m in current if m is not cpu_now]
        if others:
            annotations[CURRENT_METRICS] = json.dumps(others, separators=(",", ":"))
        conditions = status.pop("conditions", None)
        if conditions:
            annotations[CONDITIONS] = json.dumps(conditions, separators=(",", ":"))
    if annotations:
        meta["annotations"] = annotations
    return out


def hpa_v1_to_v2(obj: Obj) -> Obj:
    out = copy.deepcopy(obj)
    out["apiVersion"] = "autoscaling/v2"
    meta = out.get("metadata")
    annotations: Obj = dict(meta.get("annotations") or {}) if isinstance(meta, dict) else {}
    spec = out.get("spec")
    if isinstance(spec, dict):
        metrics: list[Any] = []
        percent = spec.pop("targetCPUUtilizationPercentage", None)
        if percent is not None:
            if not isinstance(percent, int) or isinstance(percent, bool):
                raise errors.bad_request("spec.targetCPUUtilizationPercentage must be an integer")
            target = {"type": "Utilization", "averageUtilization": percent}
            metrics.append({"type": "Resource", "resource": {"name": "cpu", "target": target}})
        metrics += _annotation_list(annotations, METRICS)
        if metrics:
            spec["metrics"] = metrics
        behavior = annotations.pop(BEHAVIOR, None)
        if behavior is not None:
            try:
                spec["behavior"] = json.loads(behavior)
            except ValueError as e:
                raise errors.bad_request(f"metadata.annotations[{BEHAVIOR}] is not JSON: {e}") from e
    status = out.get("status")
    if isinstance(status, dict):
        current: list[Any] = []
        utilization = status.pop("currentCPUUtilizationPercentage", None)
        if utilization is not None:
            current.append(
                {"type": "Resource", "resource": {"name": "cpu", "current": {"averageUtilization": utilization}}}
            )
        current += _annotation_list(annotations, CURRENT_METRICS)
        if current:
            status["currentMetrics"] = current
        conditions = _annotation_list(annotations, CONDITIONS)
        if conditions:
            status["conditions"] = conditions
    else:
        for key in (CURRENT_METRICS, CONDITIONS):
            annotations.pop(key, None)
    if isinstance(meta, dict):
        if annotations:
            meta["annotations"] = annotations
        else:
            meta.pop("annotations", None)
    return out


Converter = Callable[[Obj], Obj]
# (storage resource key, served version) -> (storage -> served, served -> storage)
CONVERTERS: dict[tuple[str, str], tuple[Converter, Converter]] = {
    ("horizontalpodautoscalers.autoscaling", "v1"): (hpa_v2_to_v1, hpa_v1_to_v2),
}


def to_served(res: ResourceType, version: str, obj: Obj) -> Obj:
    pair = CONVERTERS.get((res.key, version))
    if pair:
        return pair[0](obj)
    if res.custom:  # CRDs without a conversion webhook: the same object under another apiVersion
        return {**obj, "apiVersion": f"{res.group}/{version}"}
    return obj


def to_storage(res: ResourceType, version: str, obj: Any) -> Any:
    if not isinstance(obj, dict):
        return obj
    pair = CONVERTERS.get((res.key, version))
    if pair:
        return pair[1](obj)
    if res.custom:
        return {**obj, "apiVersion": res.api_version}
    return obj

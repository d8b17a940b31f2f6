"""list_hpas: each HorizontalPodAutoscaler's bounds, replicas and targets, and whether it is pinned at max.

Layer: tools.assess.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, Field

from incident_response.tools.core.models import ToolResult, Truncation
from incident_response.tools.engine.deps import Deps
from incident_response.tools.k8s.hpa_formula import hpa_wanted
from incident_response.tools.k8s.views import meta
from incident_response.tools.kube.paging import list_all

__all__ = ["HpaList", "HpaRow", "hpa_row", "hpa_wanted", "list_hpas"]  # hpa_wanted lives in k8s now


class HpaRow(BaseModel):
    name: str
    target: str = Field(description="The scaled object: deployment/web.")
    min_replicas: int
    max_replicas: int
    current_replicas: int
    desired_replicas: int
    targets: list[str] = Field(description="Metric current/target as kubectl prints them: cpu: 95%/70%.")
    at_max: bool = Field(description="Current or desired replicas are at the maximum.")
    saturated: bool = Field(description="At max while a metric is above its target: more load than it may absorb.")
    conditions: list[str] = Field(description="Non-True or limiting conditions: ScalingLimited=True (TooManyReplicas).")


def _metric_name(spec: dict[str, Any]) -> str:
    kind = spec.get("type", "")
    body = (
        spec.get(
            {
                "Resource": "resource",
                "ContainerResource": "containerResource",
                "Pods": "pods",
                "Object": "object",
                "External": "external",
            }.get(kind, ""),
            {},
        )
        or {}
    )
    name = body.get("name") or (body.get("metric") or {}).get("name") or kind
    return str(name)


def _value(measure: dict[str, Any]) -> tuple[str, float | None]:
    if measure.get("averageUtilization") is not None:
        return f"{measure['averageUtilization']}%", float(measure["averageUtilization"])
    for key in ("averageValue", "value"):
        if measure.get(key) is not None:
            from incident_response.tools.k8s.quantity import parse_quantity

            return str(measure[key]), parse_quantity(measure[key])
    return "<unknown>", None


def hpa_row(hpa: dict[str, Any]) -> HpaRow:
    spec, status = hpa.get("spec") or {}, hpa.get("status") or {}
    ref = spec.get("scaleTargetRef") or {}
    currents = {_metric_name(m): m for m in status.get("currentMetrics") or []}
    targets: list[str] = []
    above = False
    for metric in spec.get("metrics") or []:
        name = _metric_name(metric)
        body = next((v for k, v in metric.items() if k != "type" and isinstance(v, dict)), {})
        target_text, target_value = _value(body.get("target") or {})
        current_body = next(
            (v for k, v in (currents.get(name) or {}).items() if k != "type" and isinstance(v, dict)), {}
        )
        current_text, current_value = _value(current_body.get("current") or {})
        targets.append(f"{name}: {current_text}/{target_text}")
        if current_value is not None and target_value is not None and current_value > target_value:
            above = True
    maximum = int(spec.get("maxReplicas") or 0)
    current = int(status.get("currentReplicas") or 0)
    desired = int(status.get("desiredReplicas") or 0)
    at_max = maximum > 0 and max(current, desired) >= maximum
    limited = False
    conditions = []
    for condition in status.get("conditions") or []:
        if condition.get("type") == "ScalingLimited" and condition.get("status") == "True":
            limited = condition.get("reason") == "TooManyReplicas" or limited
            conditions.append(f"ScalingLimited=True ({condition.get('reason')})")
        elif condition.get("status") != "True" and condition.get("type") != "ScalingLimited":
            conditions.append(f"{condition.get('type')}={condition.get('status')} ({condition.get('reason')})")
    return HpaRow(
        name=str(meta(hpa).name),
        target=f"{str(ref.get('kind', '')).lower()}/{ref.get('name')}",
        min_replicas=int(spec.get("minReplicas") or 1),
        max_replicas=maximum,
        current_replicas=current,
        desired_replicas=desired,
        targets=targets,
        at_max=at_max or limited,
        saturated=(at_max or limited) and above,
        conditions=conditions,
    )


class HpaList(ToolResult):
    namespace: str
    hpas: list[HpaRow]
    truncation: Truncation


def list_hpas(
    deps: Deps,
    namespace: Annotated[str, Field(description="Namespace.")],
    limit: Annotated[int, Field(description="Most HPAs to return (those at max first).", ge=1, le=200)] = 50,
) -> HpaList:
    """List HorizontalPodAutoscalers with min/max/current/desired replicas and metric targets, flagging any pinned
    at max. Use it to tell whether autoscaling has run out of room (then override_hpa, not scale_deployment)."""
    listed = list_all(deps.kube, "horizontalpodautoscalers", namespace)
    rows = sorted((hpa_row(h) for h in listed.items), key=lambda r: (not r.saturated, not r.at_max, r.name))
    shown = rows[:limit]
    at_max = [r for r in rows if r.at_max]
    if not rows:
        summary = f"no HPAs in {namespace}"
    elif at_max:
        summary = f"{len(rows)} HPAs in {namespace}; at max: " + ", ".join(
            f"{r.name} {r.current_replicas}/{r.max_replicas} ({'; '.join(r.targets)})" for r in at_max[:5]
        )
    else:
        summary = f"{len(rows)} HPAs in {namespace}; none at max"
    return HpaList(
        summary=summary,
        namespace=namespace,
        hpas=shown,
        truncation=Truncation.of(len(shown), len(rows), listed.truncated or len(rows) > len(shown)),
    )

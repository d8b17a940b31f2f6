"""What an HPA says about load right now: its replicas against its bounds, its utilization against its targets.

verify_recovery asks whether the autoscaler has run out of room (at its max, still over target: more load than
it may absorb); restore_measure asks whether lower bounds would hold the load it carries now.

Layer: tools.k8s.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from incident_response.tools.k8s.views import meta

# The autoscaler's own tolerance: within 10% of the target it does not rescale, so that is not "over".
TOLERANCE = 0.1


@dataclass(frozen=True)
class Utilization:
    resource: str  # cpu, memory
    current: int  # percent of the pods' requests
    target: int

    @property
    def over(self) -> bool:
        return self.current > self.target * (1 + TOLERANCE)

    def text(self) -> str:
        return f"{self.resource} {self.current}% of requests (target {self.target}%)"


@dataclass(frozen=True)
class HpaLoad:
    name: str
    target_kind: str
    target_name: str
    min_replicas: int
    max_replicas: int
    current: int
    desired: int
    utilization: tuple[Utilization, ...]
    limited: bool  # ScalingLimited=True (TooManyReplicas): the controller wants more than its max

    @property
    def at_max(self) -> bool:
        return self.limited or (self.max_replicas > 0 and max(self.current, self.desired) >= self.max_replicas)

    @property
    def over(self) -> tuple[Utilization, ...]:
        return tuple(u for u in self.utilization if u.over)

    @property
    def pinned(self) -> bool:
        """At its maximum while a metric is over its target and its formula asks for more than the maximum: it wants
        pods it may not add. (Still climbing to a maximum that will do is not pinned.)"""
        return self.at_max and bool(self.over) and (self.needed() or 0) > self.max_replicas

    def needed(self) -> int | None:
        """Replicas its own formula asks for now (ceil(current x utilization / target)), before any max cuts it."""
        if not self.utilization or not self.current:
            return None
        return math.ceil(self.current * max(u.current / u.target for u in self.utilization))

    def loads(self) -> str:
        return ", ".join(u.text() for u in self.utilization) or "no utilization reported yet"

    def text(self) -> str:
        bounds = f"min {self.min_replicas}, max {self.max_replicas}"
        return f"HPA {self.name} runs {self.current} replicas ({bounds}), {self.loads()}"


def _percent(value: Any) -> int | None:
    return int(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def hpa_load(hpa: dict[str, Any]) -> HpaLoad:
    """The load facts of an autoscaling/v2 HPA (Resource metrics with an averageUtilization target)."""
    spec, status = hpa.get("spec") or {}, hpa.get("status") or {}
    ref = spec.get("scaleTargetRef") or {}
    now = {
        str((m.get("resource") or {}).get("name")): _percent(
            ((m.get("resource") or {}).get("current") or {}).get("averageUtilization")
        )
        for m in status.get("currentMetrics") or []
        if m.get("type") == "Resource"
    }
    found = []
    for metric in spec.get("metrics") or []:
        resource = metric.get("resource") or {}
        name = str(resource.get("name"))
        goal = _percent((resource.get("target") or {}).get("averageUtilization"))
        current = now.get(name)
        if metric.get("type") == "Resource" and goal and current is not None:
            found.append(Utilization(name, current, goal))
    limited = any(
        c.get("type") == "ScalingLimited" and c.get("status") == "True" and c.get("reason") == "TooManyReplicas"
        for c in status.get("conditions") or []
    )
    return HpaLoad(
        name=str(meta(hpa).name),
        target_kind=str(ref.get("kind") or ""),
        target_name=str(ref.get("name") or ""),
        min_replicas=int(spec.get("minReplicas") or 1),
        max_replicas=int(spec.get("maxReplicas") or 0),
        current=int(status.get("currentReplicas") or 0),
        desired=int(status.get("desiredReplicas") or 0),
        utilization=tuple(found),
        limited=limited,
    )


def scaling(hpas: list[dict[str, Any]], kind: str, name: str) -> list[HpaLoad]:
    """The load facts of the HPAs that scale `kind`/`name`."""
    loads = [hpa_load(h) for h in hpas]
    return [h for h in loads if h.target_kind == kind and h.target_name == name]

"""The HPA's own replica formula on its current metrics, before its max cuts it.

Layer: tools.k8s.
"""

from __future__ import annotations

import math
from typing import Any


def hpa_wanted(hpa: dict[str, Any]) -> int | None:
    """Replicas the HPA's own formula asks for (ceil(current * utilization / target)), before its max cuts it."""
    spec, status = hpa.get("spec") or {}, hpa.get("status") or {}
    current = {
        str((m.get("resource") or {}).get("name")): (m.get("resource") or {}).get("current") or {}
        for m in status.get("currentMetrics") or []
        if m.get("type") == "Resource"
    }
    ratios = []
    for metric in spec.get("metrics") or []:
        resource = metric.get("resource") or {}
        goal = (resource.get("target") or {}).get("averageUtilization")
        now = current.get(str(resource.get("name")), {}).get("averageUtilization")
        if metric.get("type") == "Resource" and goal and now is not None:
            ratios.append(float(now) / float(goal))
    replicas = int(status.get("currentReplicas") or 0)
    return math.ceil(replicas * max(ratios)) if ratios and replicas else None

"""Pure facts about resource usage: metrics.k8s.io items against the requests and limits of pod specs.

Layer: tools.k8s.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from incident_response.tools.k8s.quantity import cpu_text, memory_text, parse_quantity, percent
from incident_response.tools.k8s.views import meta

NEAR_LIMIT_PERCENT = 90  # usage at or above this share of the limit counts as "near the limit"


class PodUsage(BaseModel):
    name: str
    cpu: str = Field(description="Usage as kubectl top prints it (250m), '-' when unknown.")
    memory: str
    cpu_cores: float | None
    memory_bytes: float | None
    cpu_request: str
    cpu_limit: str
    memory_request: str
    memory_limit: str
    cpu_percent_of_limit: int | None
    cpu_percent_of_request: int | None
    memory_percent_of_limit: int | None


def pod_resources(pod: dict[str, Any]) -> dict[str, float | None]:
    """Summed container requests and limits; a limit is None when any container has none (unbounded)."""
    totals: dict[str, float | None] = {}
    containers = (pod.get("spec") or {}).get("containers") or []
    for kind in ("requests", "limits"):
        for resource in ("cpu", "memory"):
            values = [parse_quantity(((c.get("resources") or {}).get(kind) or {}).get(resource)) for c in containers]
            if kind == "limits" and (not values or any(v is None for v in values)):
                totals[f"{resource}_{kind}"] = None
            else:
                totals[f"{resource}_{kind}"] = sum(v for v in values if v is not None) or None
    return totals


def usage_by_pod(metrics: list[dict[str, Any]]) -> dict[str, tuple[float, float]]:
    usage: dict[str, tuple[float, float]] = {}
    for item in metrics:
        cpu = memory = 0.0
        # PodMetrics report per container; NodeMetrics report one `usage` for the node.
        for container in item.get("containers") or [item]:
            cpu += parse_quantity((container.get("usage") or {}).get("cpu")) or 0.0
            memory += parse_quantity((container.get("usage") or {}).get("memory")) or 0.0
        usage[str(meta(item).name)] = (cpu, memory)
    return usage


def pod_usage_rows(pods: list[dict[str, Any]], metrics: list[dict[str, Any]] | None) -> list[PodUsage]:
    return usage_rows(pods, usage_by_pod(metrics or []))


def usage_rows(pods: list[dict[str, Any]], usage: dict[str, tuple[float, float]]) -> list[PodUsage]:
    """Each pod's usage (from `usage_by_pod`) against its requests and limits; finished pods are left out."""
    rows = []
    # Pods of one controller read together share one containers list (tools.k8s.podslim): sum it, and write its
    # requests and limits as text, once.
    summed: dict[int, tuple[Any, dict[str, float | None], dict[str, str]]] = {}
    for pod in pods:
        name = str(meta(pod).name)
        if (pod.get("status") or {}).get("phase") in ("Succeeded", "Failed"):
            continue
        cpu, memory = usage.get(name, (None, None))
        containers = (pod.get("spec") or {}).get("containers")
        known = summed.get(id(containers))
        if known is not None and known[0] is containers:
            _, r, texts = known
        else:
            r = pod_resources(pod)
            texts = {
                "cpu_request": cpu_text(r["cpu_requests"]),
                "cpu_limit": cpu_text(r["cpu_limits"]),
                "memory_request": memory_text(r["memory_requests"]),
                "memory_limit": memory_text(r["memory_limits"]),
            }
            summed[id(containers)] = (containers, r, texts)
        rows.append(
            PodUsage(
                name=name,
                cpu=cpu_text(cpu),
                memory=memory_text(memory),
                cpu_cores=cpu,
                memory_bytes=memory,
                cpu_percent_of_limit=percent(cpu, r["cpu_limits"]),
                cpu_percent_of_request=percent(cpu, r["cpu_requests"]),
                memory_percent_of_limit=percent(memory, r["memory_limits"]),
                **texts,
            )
        )
    return rows

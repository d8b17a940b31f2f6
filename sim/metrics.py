"""metrics.k8s.io/v1beta1 as metrics-server serves it, computed from the cluster's simulated usage.

Layer: sim (the simulated cluster; apart from the product).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any, Protocol

from incident_response.sim import errors
from incident_response.sim.resources import NODES, PODS
from incident_response.sim.store import Obj, Predicate, Store, timestamp


class UsageSource(Protocol):
    store: Store

    def pod_usage(self, pod: Obj) -> tuple[int, int] | None: ...

    def node_usage(self, node: Obj) -> tuple[int, int]: ...


def cpu_quantity(millicores: int) -> str:
    return f"{max(millicores, 0) * 1_000_000}n"


def memory_quantity(num_bytes: int) -> str:
    return f"{max(num_bytes, 0) // 1024}Ki"


def _pod_entry(source: UsageSource, pod: Obj, now: datetime) -> Obj | None:
    usage = source.pod_usage(pod)
    if usage is None:
        return None
    cpu, memory = usage
    containers = [c.get("name", "") for c in (pod.get("spec") or {}).get("containers") or []] or [""]
    share = len(containers)
    meta = pod["metadata"]
    return {
        "metadata": {
            "name": meta["name"],
            "namespace": meta.get("namespace"),
            "creationTimestamp": timestamp(now),
            "labels": meta.get("labels") or {},
        },
        "timestamp": timestamp(now),
        "window": "15s",
        "containers": [
            {"name": name, "usage": {"cpu": cpu_quantity(cpu // share), "memory": memory_quantity(memory // share)}}
            for name in containers
        ],
    }


def pod_metrics(
    source: UsageSource, namespace: str | None, name: str | None, checks: Iterable[Predicate], now: datetime
) -> dict[str, Any]:
    if name is not None:
        pod = source.store.peek(PODS, namespace, name)
        entry = _pod_entry(source, pod, now) if pod is not None else None
        if entry is None:
            raise errors.ApiError(404, "NotFound", f'podmetrics.metrics.k8s.io "{namespace}/{name}" not found')
        return {"kind": "PodMetrics", "apiVersion": "metrics.k8s.io/v1beta1", **entry}
    pods, _, _ = source.store.list(PODS, namespace, list(checks))
    items = [e for e in (_pod_entry(source, p, now) for p in pods) if e is not None]
    return {"kind": "PodMetricsList", "apiVersion": "metrics.k8s.io/v1beta1", "metadata": {}, "items": items}


def _node_entry(source: UsageSource, node: Obj, now: datetime) -> Obj:
    cpu, memory = source.node_usage(node)
    return {
        "metadata": {
            "name": node["metadata"]["name"],
            "creationTimestamp": timestamp(now),
            "labels": node["metadata"].get("labels") or {},
        },
        "timestamp": timestamp(now),
        "window": "20s",
        "usage": {"cpu": cpu_quantity(cpu), "memory": memory_quantity(memory)},
    }


def node_metrics(source: UsageSource, name: str | None, checks: Iterable[Predicate], now: datetime) -> dict[str, Any]:
    if name is not None:
        node = source.store.peek(NODES, None, name)
        if node is None:
            raise errors.ApiError(404, "NotFound", f'nodemetrics.metrics.k8s.io "{name}" not found')
        return {"kind": "NodeMetrics", "apiVersion": "metrics.k8s.io/v1beta1", **_node_entry(source, node, now)}
    nodes, _, _ = source.store.list(NODES, None, list(checks))
    items = [_node_entry(source, n, now) for n in nodes]
    return {"kind": "NodeMetricsList", "apiVersion": "metrics.k8s.io/v1beta1", "metadata": {}, "items": items}

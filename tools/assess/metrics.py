"""top_pods and top_nodes: usage from metrics.k8s.io against requests, limits and allocatable.

Layer: tools.assess.
"""

from __future__ import annotations

from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field

from incident_response.tools.assess.pods import Selector
from incident_response.tools.core import errors
from incident_response.tools.core.concurrency import submit
from incident_response.tools.core.models import ToolResult, Truncation
from incident_response.tools.engine.deps import Deps
from incident_response.tools.engine.sizing_reads import RUNNING
from incident_response.tools.k8s.quantity import cpu_text, memory_text, parse_quantity, percent
from incident_response.tools.k8s.usage import NEAR_LIMIT_PERCENT, PodUsage, usage_by_pod, usage_rows
from incident_response.tools.k8s.views import meta
from incident_response.tools.kube.client import Kube
from incident_response.tools.kube.paging import MAX_OBJECTS_READ, list_all, list_pages

MAX_NODES_READ_BY_NODE = 20  # more nodes shown (or half the cluster): every pod in pages is fewer requests
CONCURRENT_NODE_READS = 4
METRICS_MISSING = (
    "the metrics API (metrics.k8s.io) is not available in this cluster, so usage is unknown; requests and limits "
    "are still shown. Judge load from HPA status (list_hpas) and restarts instead"
)


def read_metrics(kube: Kube, resource: str, namespace: str | None, selector: str | None) -> list[dict[str, Any]] | None:
    """Metrics items, or None when the metrics API is absent (not installed, or its APIService is down)."""
    try:
        return kube.list(resource, namespace, label_selector=selector).items
    except (errors.NotFound, errors.ServerError):
        return None


class TopPods(ToolResult):
    namespace: str
    metrics_available: bool
    sort_by: str
    pods: list[PodUsage]
    near_limit: list[str] = Field(description=f"Pods using >= {NEAR_LIMIT_PERCENT}% of a CPU or memory limit.")
    truncation: Truncation


def top_pods(
    deps: Deps,
    namespace: Annotated[str, Field(description="Namespace.")],
    selector: Selector = None,
    sort_by: Annotated[Literal["cpu", "memory"], Field(description="Sort key, highest first.")] = "cpu",
    limit: Annotated[int, Field(description="Most pods to return.", ge=1, le=200)] = 20,
) -> TopPods:
    """Show pods' CPU and memory usage against their requests and limits, highest first, like `kubectl top pods
    --sort-by`. Use it to tell whether the incident is load-related."""
    kube = deps.kube
    metrics = read_metrics(kube, "pods.metrics.k8s.io", namespace, selector)
    usage = usage_by_pod(metrics or [])
    rows: list[PodUsage] = []
    truncated = False
    # Every pod, page by page, each page reduced to its usage rows at once: memory stays at a page however many.
    for page in list_pages(kube, "pods", namespace, label_selector=selector):
        rows.extend(usage_rows(page.items, usage))
        if len(rows) >= MAX_OBJECTS_READ and page.truncated:
            truncated = True
            break
    key = "cpu_cores" if sort_by == "cpu" else "memory_bytes"
    rows.sort(key=lambda r: (getattr(r, key) is None, -(getattr(r, key) or 0.0), r.name))
    near = [
        r.name
        for r in rows
        if (r.cpu_percent_of_limit or 0) >= NEAR_LIMIT_PERCENT or (r.memory_percent_of_limit or 0) >= NEAR_LIMIT_PERCENT
    ]
    shown = rows[:limit]
    if metrics is None:
        summary = f"{len(rows)} pods in {namespace}; {METRICS_MISSING}"
    else:
        top = ", ".join(f"{r.name} {r.cpu}/{r.cpu_limit} cpu {r.memory}/{r.memory_limit} mem" for r in shown[:3])
        summary = f"{len(rows)} pods in {namespace}; top by {sort_by}: {top or 'none'}"
        summary += f"; {len(near)} near a limit" if near else "; none near a limit"
    return TopPods(
        summary=summary,
        namespace=namespace,
        metrics_available=metrics is not None,
        sort_by=sort_by,
        pods=shown,
        near_limit=near,
        truncation=Truncation.of(len(shown), None if truncated else len(rows), truncated or len(rows) > len(shown)),
    )


class NodeUsage(BaseModel):
    name: str
    ready: bool
    schedulable: bool
    pressure: list[str] = Field(description="Conditions like MemoryPressure that are True.")
    cpu: str
    memory: str
    cpu_percent: int | None = Field(description="Usage as a share of allocatable, as kubectl top nodes prints.")
    memory_percent: int | None
    allocatable_cpu: str
    allocatable_memory: str
    pods: int
    cpu_requests: str
    cpu_requests_percent: int | None
    cpu_limits: str
    cpu_limits_percent: int | None
    memory_requests: str
    memory_requests_percent: int | None
    memory_limits: str
    memory_limits_percent: int | None


def allocated_by_node(
    pods: list[dict[str, Any]], totals: dict[str, dict[str, float]] | None = None
) -> dict[str, dict[str, float]]:
    """Requests and limits of running pods per node: the 'Allocated resources' block of describe nodes (`pods`
    added to `totals`, when given: the sums of the pages before)."""
    totals = totals if totals is not None else defaultdict(lambda: defaultdict(float))
    for pod in pods:
        node = (pod.get("spec") or {}).get("nodeName")
        if not node or (pod.get("status") or {}).get("phase") in ("Succeeded", "Failed"):
            continue
        totals[node]["pods"] += 1
        for container in (pod.get("spec") or {}).get("containers") or []:
            resources = container.get("resources") or {}
            for kind in ("requests", "limits"):
                for resource in ("cpu", "memory"):
                    totals[node][f"{resource}_{kind}"] += parse_quantity((resources.get(kind) or {}).get(resource)) or 0
    return totals


def allocated_on(kube: Kube, names: list[str], of: int) -> dict[str, dict[str, float]] | None:
    """Requests and limits of the pods holding room on the named nodes (of `of` in all): a few nodes' pods read by
    node (spec.nodeName, side by side), else every pod of the cluster page by page (each page added to the totals at
    once: memory stays at a page). None when these credentials may not list pods cluster-wide."""
    totals: dict[str, dict[str, float]] = defaultdict(lambda: defaultdict(float))
    narrow = len(names) <= MAX_NODES_READ_BY_NODE and 2 * len(names) <= of
    try:
        if narrow:
            with ThreadPoolExecutor(max_workers=CONCURRENT_NODE_READS, thread_name_prefix="top-nodes") as pool:
                selectors = [f"spec.nodeName={name},{RUNNING}" for name in names]
                reads = [submit(pool, list_all, kube, "pods", None, field_selector=s) for s in selectors]
                for read in reads:
                    totals = allocated_by_node(read.result().items, totals)
        else:
            for page in list_pages(kube, "pods", None, field_selector=RUNNING):
                totals = allocated_by_node(page.items, totals)
    except errors.Forbidden:
        return None
    return totals


def node_rows(
    nodes: list[dict[str, Any]], metrics: list[dict[str, Any]] | None, allocated: dict[str, dict[str, float]] | None
) -> list[NodeUsage]:
    usage = usage_by_pod(metrics or [])
    rows = []
    for node in nodes:
        name = str(meta(node).name)
        status = node.get("status") or {}
        conditions = {c.get("type"): c.get("status") for c in status.get("conditions") or []}
        cpu_alloc = parse_quantity((status.get("allocatable") or {}).get("cpu"))
        mem_alloc = parse_quantity((status.get("allocatable") or {}).get("memory"))
        cpu, memory = usage.get(name, (None, None))
        given = (allocated or {}).get(name, {})

        def alloc(key: str, whole: float | None, given: dict[str, float] = given) -> tuple[float | None, int | None]:
            value = given.get(key) if allocated is not None else None
            return value, percent(value, whole)

        cpu_req, cpu_req_pct = alloc("cpu_requests", cpu_alloc)
        cpu_lim, cpu_lim_pct = alloc("cpu_limits", cpu_alloc)
        mem_req, mem_req_pct = alloc("memory_requests", mem_alloc)
        mem_lim, mem_lim_pct = alloc("memory_limits", mem_alloc)
        rows.append(
            NodeUsage(
                name=name,
                ready=conditions.get("Ready") == "True",
                schedulable=not (node.get("spec") or {}).get("unschedulable"),
                pressure=sorted(str(t) for t, v in conditions.items() if t != "Ready" and v == "True"),
                cpu=cpu_text(cpu),
                memory=memory_text(memory),
                cpu_percent=percent(cpu, cpu_alloc),
                memory_percent=percent(memory, mem_alloc),
                allocatable_cpu=cpu_text(cpu_alloc),
                allocatable_memory=memory_text(mem_alloc),
                pods=int(given.get("pods", 0)),
                cpu_requests=cpu_text(cpu_req),
                cpu_requests_percent=cpu_req_pct,
                cpu_limits=cpu_text(cpu_lim),
                cpu_limits_percent=cpu_lim_pct,
                memory_requests=memory_text(mem_req),
                memory_requests_percent=mem_req_pct,
                memory_limits=memory_text(mem_lim),
                memory_limits_percent=mem_lim_pct,
            )
        )
    return rows


class TopNodes(ToolResult):
    metrics_available: bool
    allocation_known: bool = Field(description="False when the server may not list pods in every namespace.")
    nodes: list[NodeUsage]
    truncation: Truncation


def requested(percent: int | None) -> str:
    """' (requested 95%)': what the scheduler counts, beside what is used."""
    return f" (requested {percent}%)" if percent is not None else ""


def pod_limits(nodes: list[dict[str, Any]], rows: list[NodeUsage]) -> str:
    """'; at their pod limit: node-1 110/110 pods': the scheduler places no more pods there, whatever CPU is free."""
    limits = {
        str(meta(n).name): int(parse_quantity(((n.get("status") or {}).get("allocatable") or {}).get("pods")) or 0)
        for n in nodes
    }
    full = [f"{r.name} {r.pods}/{limits[r.name]}" for r in rows if limits.get(r.name) and r.pods >= limits[r.name]]
    if not full:
        return ""
    return f"; at their pod limit (no more pods fit, whatever CPU is free): {', '.join(full[:5])}" + (
        f" and {len(full) - 5} more" if len(full) > 5 else ""
    )


def top_nodes(
    deps: Deps,
    limit: Annotated[int, Field(description="Most nodes to return (busiest CPU first).", ge=1, le=500)] = 50,
) -> TopNodes:
    """Show each node's CPU and memory usage, readiness, and allocated requests and limits against allocatable
    (kubectl top nodes plus describe nodes' Allocated resources). Use it before scaling, to see if capacity exists."""
    kube = deps.kube
    nodes = list_all(kube, "nodes")
    metrics = read_metrics(kube, "nodes.metrics.k8s.io", None, None)
    # The order needs usage only; the requests allocated are read for the nodes shown.
    rows = node_rows(nodes.items, metrics, None)
    rows.sort(key=lambda r: (-(r.cpu_percent or 0), r.name))
    picked = {r.name for r in rows[:limit]}
    allocated = allocated_on(kube, sorted(picked), len(rows))
    by_name = {r.name: r for r in node_rows([n for n in nodes.items if meta(n).name in picked], metrics, allocated)}
    shown = [by_name[r.name] for r in rows[:limit]]
    not_ready = [r.name for r in rows if not r.ready]
    cordoned = [r.name for r in rows if not r.schedulable]
    summary = f"{len(rows)} nodes"
    summary += f"; NotReady: {', '.join(not_ready)}" if not_ready else "; all Ready"
    if cordoned:
        summary += f"; cordoned: {', '.join(cordoned)}"
    if pressed := [f"{r.name} {'/'.join(r.pressure)}" for r in rows if r.pressure]:
        summary += f"; under pressure: {', '.join(pressed)}"  # the kubelet evicts pods over their requests there
    if metrics is None:
        summary += f"; {METRICS_MISSING}"
    elif shown:
        summary += "; busiest: " + ", ".join(
            f"{r.name} cpu {r.cpu_percent}%{requested(r.cpu_requests_percent)} mem {r.memory_percent}%"
            f"{requested(r.memory_requests_percent)}"
            for r in shown[:3]
        )
    if allocated is not None and shown:
        # The scheduler places pods by requests, not usage: a node at 30% CPU can have no room left.
        full = max(shown, key=lambda r: (r.cpu_requests_percent or 0, r.name))  # rows' requests were not read
        summary += f"; most requested: {full.name} cpu {full.cpu_requests_percent}% of allocatable"
    if allocated is None:
        summary += "; allocated requests unknown (may not list pods cluster-wide)"
    else:
        summary += pod_limits(nodes.items, shown)
    return TopNodes(
        summary=summary,
        metrics_available=metrics is not None,
        allocation_known=allocated is not None,
        nodes=shown,
        truncation=Truncation.of(len(shown), len(rows), nodes.truncated or len(rows) > len(shown)),
    )

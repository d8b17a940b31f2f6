"""list_pods: what `kubectl get pods` shows, plus restarts and the last crash, bounded.

Layer: tools.assess.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated, Any

from pydantic import Field

from incident_response.tools.core import errors
from incident_response.tools.core.models import ToolResult, Truncation
from incident_response.tools.engine.deps import Deps
from incident_response.tools.k8s.args import SelectorText
from incident_response.tools.k8s.podstatus import PodRow, pod_row
from incident_response.tools.kube.client import Kube

# How many pods one call reads from the API at most; beyond it the answer says it is truncated.
FETCH_LIMIT = 2000

Selector = Annotated[SelectorText | None, Field(description="Label selector as kubectl takes it: app=web,version!=v2")]


@dataclass
class FetchedPods:
    pods: list[tuple[dict[str, Any], str | None]]  # (pod, Table STATUS cell or None when computed)
    truncated: bool
    status_source: str  # "table" or "computed"
    remaining: int | None = None  # pods not read, when the API says (remainingItemCount)

    def total_text(self) -> str:
        """How many pods exist, as far as we know: exact, or a lower bound when the API did not say."""
        if not self.truncated:
            return str(len(self.pods))
        if self.remaining is not None:
            return f"{len(self.pods) + self.remaining}"
        return f"more than {len(self.pods)}"


def fetch_pods(
    kube: Kube,
    namespace: str | None,
    selector: str | None = None,
    *,
    limit: int = FETCH_LIMIT,
    field_selector: str | None = None,
) -> FetchedPods:
    """Pods with the STATUS the server's Table gives them (what kubectl prints), one request."""
    try:
        table = kube.table("pods", namespace, label_selector=selector, field_selector=field_selector, limit=limit)
    except (errors.BadRequest, errors.NotFound, errors.ServerError) as e:
        if isinstance(e, errors.BadRequest) and "selector" in str(e).lower():
            raise
        # Some API proxies refuse Table output; compute STATUS from each pod as kubectl's printer would.
        listed = kube.list("pods", namespace, label_selector=selector, field_selector=field_selector, limit=limit)
        return FetchedPods([(pod, None) for pod in listed.items], listed.truncated, "computed", listed.remaining)
    rows = table.get("rows") or []
    if table.get("kind") != "Table" or any(not isinstance(row.get("object"), dict) for row in rows):
        listed = kube.list("pods", namespace, label_selector=selector, field_selector=field_selector, limit=limit)
        return FetchedPods([(pod, None) for pod in listed.items], listed.truncated, "computed", listed.remaining)
    columns = [str(c.get("name", "")).lower() for c in table.get("columnDefinitions") or []]
    status_index = columns.index("status") if "status" in columns else None
    pods: list[tuple[dict[str, Any], str | None]] = []
    for row in rows:
        cells = row.get("cells") or []
        cell = cells[status_index] if status_index is not None and status_index < len(cells) else None
        pods.append((row["object"], str(cell) if cell is not None else None))
    meta = table.get("metadata") or {}
    remaining = meta.get("remainingItemCount")
    return FetchedPods(pods, bool(meta.get("continue")), "table", remaining if isinstance(remaining, int) else None)


def rows_of(fetched: FetchedPods, now: datetime) -> list[PodRow]:
    return [pod_row(pod, now, status=status) for pod, status in fetched.pods]


class PodList(ToolResult):
    namespace: str
    selector: str | None
    pods: list[PodRow]
    status_counts: dict[str, int] = Field(description="Every listed pod counted by STATUS, including those not shown.")
    problem_count: int
    truncation: Truncation
    status_source: str = Field(description="'table': the API server's own STATUS column; 'computed': from the pod.")


def list_pods(
    deps: Deps,
    namespace: Annotated[str, Field(description="Namespace to list.")],
    selector: Selector = None,
    problems_only: Annotated[bool, Field(description="Only pods not Running with all containers ready.")] = False,
    limit: Annotated[int, Field(description="Most pods to return (problems first).", ge=1, le=500)] = 100,
) -> PodList:
    """List pods with STATUS exactly as `kubectl get pods` prints it, READY, RESTARTS, age, node and the last
    termination reason and exit code. Use it to see what is broken right now."""
    fetched = fetch_pods(deps.kube, namespace, selector)
    now = datetime.now(UTC)
    rows = rows_of(fetched, now)
    counts = Counter(row.status for row in rows)
    problems = [row for row in rows if row.problem]
    candidates = problems if problems_only else sorted(rows, key=lambda r: (not r.problem, r.name))
    shown = candidates[:limit]
    total: int | None = len(candidates)
    if fetched.truncated:
        # Pods past the read cap are unknown: their count is known only without problems_only, when the API says.
        known = not problems_only and fetched.remaining is not None
        total = len(rows) + (fetched.remaining or 0) if known else None
    if fetched.truncated:
        summary = f"read {len(rows)} of {fetched.total_text()} pods in {namespace}"
    else:
        summary = f"{len(rows)} pods in {namespace}"
    summary += f" matching {selector}" if selector else ""
    if problems:
        summary += f"; {len(problems)} with problems"
    else:
        summary += "; all of those read Running and ready" if fetched.truncated else "; all Running and ready"
    if problems:
        by_status = Counter(row.status for row in problems)
        summary += " (" + ", ".join(f"{n} {status}" for status, n in by_status.most_common()) + ")"
    if fetched.truncated:
        summary += f" (a call reads at most {FETCH_LIMIT} pods: narrow the selector to see the rest)"
    return PodList(
        summary=summary,
        namespace=namespace,
        selector=selector,
        pods=shown,
        status_counts=dict(counts),
        problem_count=len(problems),
        truncation=Truncation.of(len(shown), total, fetched.truncated or len(candidates) > len(shown)),
        status_source=fetched.status_source,
    )

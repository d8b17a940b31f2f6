"""list_pods: what `kubectl get pods` shows, plus restarts and the last crash, bounded.

Layer: tools.assess.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Annotated, Any

from pydantic import Field

from incident_response.tools.core import errors
from incident_response.tools.core.collection import collection_held
from incident_response.tools.core.models import ToolResult, Truncation
from incident_response.tools.engine.deps import Deps
from incident_response.tools.k8s.args import SelectorText
from incident_response.tools.k8s.podslim import Sharing, slim_pod
from incident_response.tools.k8s.podstatus import PodRow, pod_row
from incident_response.tools.kube.client import Kube
from incident_response.tools.kube.paging import MAX_OBJECTS_READ, list_pages
from incident_response.tools.kube.table_pages import table_pages

# A stop for runaway reads only (a cluster holds at most 150,000 pods); every pod of a namespace is read up to it.
FETCH_LIMIT = MAX_OBJECTS_READ

# Pods per page: a page of full pods is decoded whole, and one more is read ahead; 250 real pods (managed fields,
# volumes, env) are about 2 MB of JSON and ten times that decoded.
PAGE_SIZE = 250

Selector = Annotated[SelectorText | None, Field(description="Label selector as kubectl takes it: app=web,version!=v2")]


PageHook = Callable[[list[dict[str, Any]], list[PodRow]], None]


@dataclass
class FetchedPods:
    pods: list[tuple[dict[str, Any], str | None]]  # (slim pod, Table STATUS cell or None when computed)
    truncated: bool
    status_source: str  # "table" or "computed"
    remaining: int | None = None  # pods not read, when the API says (remainingItemCount)
    pages: int = 1  # list requests it took
    rows: list[PodRow] = field(default_factory=list)  # each pod's row, when fetch_pods was given `now`

    def total_text(self) -> str:
        """How many pods exist, as far as we know: exact, or a lower bound when the API did not say."""
        if not self.truncated:
            return str(len(self.pods))
        if self.remaining is not None:
            return f"{len(self.pods) + self.remaining}"
        return f"more than {len(self.pods)}"

    def handed(self, start: int, on_page: PageHook | None) -> None:
        """The pods kept from `start` on (one page) handed to `on_page`."""
        if on_page is not None:
            on_page([pod for pod, _ in self.pods[start:]], self.rows[start:])

    def add(self, pods: list[tuple[dict[str, Any], str | None]], now: datetime | None) -> None:
        """One page's pods (and their rows, made while the next page is read, when `now` is given)."""
        self.pods.extend(pods)
        if now is not None:
            self.rows.extend(pod_row(pod, now, status=status) for pod, status in pods)


def fetch_pods(
    kube: Kube,
    namespace: str | None,
    selector: str | None = None,
    *,
    limit: int | None = None,
    field_selector: str | None = None,
    now: datetime | None = None,
    on_page: PageHook | None = None,
) -> FetchedPods:
    """Every pod (up to `limit`) with the STATUS the server's Table gives it (what kubectl prints), page by page;
    each kept slim (tools.k8s.podslim). Without `limit`, up to FETCH_LIMIT. With `now`, each pod's row as of then
    is made page by page too (`rows`); `on_page(pods, rows)` is called with each page's kept pods and rows while
    the next page is read (rows only with `now`)."""
    with collection_held():  # the pages decode into acyclic objects (tools.core.collection)
        fetched = read_pods(kube, namespace, selector, limit, field_selector, now, on_page)
    return fetched


def read_pods(
    kube: Kube,
    namespace: str | None,
    selector: str | None,
    limit: int | None,
    field_selector: str | None,
    now: datetime | None,
    on_page: PageHook | None = None,
) -> FetchedPods:
    limit = FETCH_LIMIT if limit is None else limit
    size = min(PAGE_SIZE, limit)
    pages = table_pages(kube, "pods", namespace, label_selector=selector, field_selector=field_selector, page_size=size)
    try:
        first = next(pages).table()
    except (errors.BadRequest, errors.NotFound, errors.ServerError) as e:
        pages.close()
        if isinstance(e, errors.BadRequest) and "selector" in str(e).lower():
            raise
        # Some API proxies refuse Table output; compute STATUS from each pod as kubectl's printer would.
        return listed_pods(kube, namespace, selector, field_selector, limit, now, on_page)
    if not is_object_table(first):
        pages.close()
        return listed_pods(kube, namespace, selector, field_selector, limit, now, on_page)
    # A Table without a STATUS column (a proxy's own printer) still carries the pods: STATUS is computed from them.
    fetched = FetchedPods([], False, "table" if status_column(first) is not None else "computed", pages=0)
    sharing = Sharing()
    try:
        table: dict[str, Any] | None = first
        while table is not None:
            fetched.pages += 1
            start = len(fetched.pods)
            fetched.add(table_rows(table, sharing), now)
            meta = table.get("metadata") or {}
            cut = bool(meta.get("continue")) and len(fetched.pods) >= limit
            if cut:
                remaining = meta.get("remainingItemCount")
                cut_at(fetched, limit, remaining if isinstance(remaining, int) else None)
            fetched.handed(start, on_page)
            if cut:
                break
            page = next(pages, None)
            table = page.table() if page is not None else None
    finally:
        pages.close()
    return fetched


def is_object_table(table: dict[str, Any]) -> bool:
    """A Table whose rows carry their pods (includeObject=Object was honoured)."""
    rows = table.get("rows") or []
    return table.get("kind") == "Table" and all(isinstance(row.get("object"), dict) for row in rows)


def status_column(table: dict[str, Any]) -> int | None:
    columns = [str(c.get("name", "")).lower() for c in table.get("columnDefinitions") or []]
    return columns.index("status") if "status" in columns else None


def table_rows(table: dict[str, Any], sharing: Sharing) -> list[tuple[dict[str, Any], str | None]]:
    status_index = status_column(table)
    out: list[tuple[dict[str, Any], str | None]] = []
    for row in table.get("rows") or []:
        if not isinstance(row.get("object"), dict):
            raise errors.ServerError(
                "the API server's pod Table left a pod out of a later page; run the tool again",
                code=200,
                reason="BadResponse",
            )
        cells = row.get("cells") or []
        cell = cells[status_index] if status_index is not None and status_index < len(cells) else None
        out.append((slim_pod(row["object"], sharing), str(cell) if cell is not None else None))
    return out


def listed_pods(
    kube: Kube,
    namespace: str | None,
    selector: str | None,
    field_selector: str | None,
    limit: int,
    now: datetime | None = None,
    on_page: PageHook | None = None,
) -> FetchedPods:
    fetched = FetchedPods([], False, "computed", pages=0)
    sharing = Sharing()
    pages = list_pages(
        kube,
        "pods",
        namespace,
        label_selector=selector,
        field_selector=field_selector,
        page_size=min(PAGE_SIZE, limit),
    )
    try:
        for page in pages:
            fetched.pages += 1
            start = len(fetched.pods)
            fetched.add([(slim_pod(pod, sharing), None) for pod in page.items], now)
            cut = page.truncated and len(fetched.pods) >= limit
            if cut:
                cut_at(fetched, limit, page.remaining)
            fetched.handed(start, on_page)
            if cut:
                break
    finally:
        pages.close()
    return fetched


def cut_at(fetched: FetchedPods, limit: int, remaining: int | None) -> None:
    """Stop at `limit` pods: more exist (`remaining` of them past the last page, when the server said)."""
    over = max(0, len(fetched.pods) - limit)
    del fetched.pods[limit:]
    del fetched.rows[limit:]
    fetched.truncated = True
    fetched.remaining = remaining + over if remaining is not None else None


def rows_of(fetched: FetchedPods, now: datetime) -> list[PodRow]:
    return [pod_row(pod, now, status=status) for pod, status in fetched.pods]


def worst_first(rows: list[PodRow]) -> list[PodRow]:
    """Pods with problems first, the most restarted first among them (a crash loop before a pod still starting)."""
    return sorted(rows, key=lambda r: (not r.problem, -r.restarts, r.name))


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
    with collection_held():  # until the read's pods are freed with the call (tools.core.collection)
        return pod_list(
            fetch_pods(deps.kube, namespace, selector, now=datetime.now(UTC)), namespace, selector, problems_only, limit
        )


# The kubelet's CreateContainerConfigError messages that name the cause (a missing Secret, ConfigMap or key), said
# once beside the count; only these exact shapes with Kubernetes names: pod status is anyone's to write.
STATED = "CreateContainerConfigError"
KUBELET_SAYS = re.compile(
    r'(?:secret|configmap) "[a-z0-9][a-z0-9.-]{0,252}" not found'
    r"|couldn't find key [-._a-zA-Z0-9]{1,253} in (?:Secret|ConfigMap) "
    r"[a-z0-9][a-z0-9-]{0,62}/[a-z0-9][a-z0-9.-]{0,252}"
)


def stated_causes(fetched: FetchedPods, problems: set[str]) -> dict[str, str]:
    """STATUS -> ": <the kubelet's message>" of the first problem pod waiting with a missing Secret/ConfigMap/key."""
    for pod, _ in fetched.pods:
        if (pod.get("metadata") or {}).get("name") not in problems:
            continue
        for container in (pod.get("status") or {}).get("containerStatuses") or []:
            waiting = (container.get("state") or {}).get("waiting") or {}
            message = str(waiting.get("message") or "")
            if waiting.get("reason") == STATED and KUBELET_SAYS.fullmatch(message):
                return {STATED: ": " + message}
    return {}


def pod_list(fetched: FetchedPods, namespace: str, selector: str | None, problems_only: bool, limit: int) -> PodList:
    rows = fetched.rows
    counts = Counter(row.status for row in rows)
    problems = [row for row in rows if row.problem]
    candidates = worst_first(problems) if problems_only else worst_first(problems) + [r for r in rows if not r.problem]
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
        by_status = Counter(row.status for row in problems)
        said = stated_causes(fetched, {row.name for row in problems})
        summary += (
            f"; {len(problems)} with problems ("
            + ", ".join(f"{n} {status}{said.get(status, '')}" for status, n in by_status.most_common())
            + ")"
        )
        if len(problems) > limit:
            summary += f"; the {limit} worst are listed, {len(problems) - limit} more are counted only"
    else:
        summary += "; all of those read Running and ready" if fetched.truncated else "; all Running and ready"
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

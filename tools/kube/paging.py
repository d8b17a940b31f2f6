"""Whole lists, page by page (limit and continue), the next page fetched while the caller handles the current one.

A namespace of 10,000 pods is 20 pages of 500: reading them one after another, with the decoding and shaping of page
n overlapping the server's work on page n+1, keeps the caller's memory at a page (plus what it keeps) and its time
close to the server's.

Layer: tools.kube.
"""

from __future__ import annotations

from collections.abc import Callable, Generator
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

from incident_response.tools.core import errors
from incident_response.tools.core.concurrency import submit
from incident_response.tools.kube.client import Kube, ListResult

PAGE_SIZE = 500  # what kubectl asks for
MAX_OBJECTS_READ = 100_000  # a stop for runaway lists only: a whole cluster holds at most 150,000 pods

Page = TypeVar("Page")


def prefetched(fetch: Callable[[str | None], Page], next_token: Callable[[Page], str | None]) -> Generator[Page]:
    """Pages from `fetch(None)` on, each next one requested (with the token the last one gave) before the last one is
    handed over. An error reading a page is raised where that page would have been handed over."""
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="list-pages") as pool:
        page = fetch(None)
        given: set[str] = set()
        while True:
            token = next_token(page)
            if token in given:  # a server (or proxy) that ignores `continue` would be read forever
                raise errors.ServerError(
                    "the API server answered a continued list with a page it had already sent (the same continue "
                    "token twice), so the list cannot be read whole; check the API server or proxy in front of it",
                    code=200,
                    reason="BadResponse",
                )
            if token:
                given.add(token)
            ahead = submit(pool, fetch, token) if token else None
            yield page
            if ahead is None:
                return
            page = ahead.result()


def list_pages(
    kube: Kube,
    resource: str,
    namespace: str | None = None,
    *,
    label_selector: str | None = None,
    field_selector: str | None = None,
    page_size: int = PAGE_SIZE,
) -> Generator[ListResult]:
    """Every page of a list, in order."""

    def fetch(token: str | None) -> ListResult:
        options: dict[str, Any] = {"label_selector": label_selector, "field_selector": field_selector}
        if token:  # only then: stand-ins of the seam that never page need not know the argument
            options["continue_token"] = token
        return kube.list(resource, namespace, limit=page_size, **options)

    return prefetched(fetch, lambda page: page.continue_token)


def without_managed_fields(item: dict[str, Any]) -> dict[str, Any]:
    """The object without its metadata's managedFields (what the server's field manager needs, never what a tool
    reads; often the largest part of a small object); the argument is left as it was. A `keep` for list_all."""
    metadata = item.get("metadata")
    if not isinstance(metadata, dict) or "managedFields" not in metadata:
        return item
    return {**item, "metadata": {k: v for k, v in metadata.items() if k != "managedFields"}}


def list_all(
    kube: Kube,
    resource: str,
    namespace: str | None = None,
    *,
    label_selector: str | None = None,
    field_selector: str | None = None,
    cap: int = MAX_OBJECTS_READ,
    keep: Callable[[dict[str, Any]], dict[str, Any] | None] | None = None,
) -> ListResult:
    """Every object of a list (up to `cap`, then `truncated` says more exist and `remaining` how many, when the
    server said). `keep` shapes each object as its page arrives (the part the caller reads; None drops it), so
    what is held is the kept part of every object, not the whole objects: `cap` counts the objects read."""
    items: list[dict[str, Any]] = []
    read = over = 0
    last = ListResult(items=[])
    pages = list_pages(
        kube,
        resource,
        namespace,
        label_selector=label_selector,
        field_selector=field_selector,
        page_size=min(PAGE_SIZE, cap),
    )
    try:
        for last in pages:
            page = last.items[: cap - read]
            read += len(page)
            over = len(last.items) - len(page)
            items.extend(page if keep is None else [k for item in page if (k := keep(item)) is not None])
            if read >= cap:
                break
    finally:
        pages.close()
    more = over > 0 or last.truncated
    # Past the last page read: the ones cut from it, plus what the server counted after it (known when it said,
    # or none when that page was the list's last).
    after = last.remaining if last.truncated else 0
    remaining = over + after if more and after is not None else None
    return ListResult(items=items, truncated=more, remaining=remaining, resource_version=last.resource_version)

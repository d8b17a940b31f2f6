"""Every page of a Table list (includeObject=Object), the next page asked for before this one is decoded.

A page of 250 pods is about 650 KB of JSON. Paged the plain way, the token for page n+1 is known only once page n is
decoded, so the decoding of every page lies on the read's critical path. Read from the real seam, a page's continue
token is taken from the head of its body (tools.kube.body), the next request goes out, and the caller decodes this
page while the API server prepares the next. Stand-ins of the seam that only decode (tests) are paged the plain way.

Layer: tools.kube.
"""

from __future__ import annotations

from collections.abc import Generator
from dataclasses import dataclass
from typing import Any

from incident_response.tools.core import errors
from incident_response.tools.kube.body import leading_metadata
from incident_response.tools.kube.client import Kube, RealKube, decoded_object
from incident_response.tools.kube.paging import prefetched
from incident_response.tools.kube.resources import resource_info


@dataclass
class TablePage:
    """One page: its body still encoded (`raw`) or already decoded, and the continue token it gave."""

    what: str  # the request, for error messages: GET /api/v1/namespaces/shop/pods
    raw: bytes | None
    decoded: dict[str, Any] | None
    continue_token: str | None

    def table(self) -> dict[str, Any]:
        """The Table (decoded here on first use). A body whose metadata reads otherwise decoded than from its head
        is refused: the next page was asked for with the head's token."""
        if self.decoded is None:
            decoded = decoded_object(self.raw or b"", *request_of(self.what))
            if token_of(decoded) != self.continue_token:
                raise errors.ServerError(
                    f"the API server's answer to {self.what} names two different continue tokens (its metadata is "
                    "given twice), so the list cannot be paged reliably; check the API server or proxy in front of it",
                    code=200,
                    reason="BadResponse",
                )
            self.decoded, self.raw = decoded, None
        return self.decoded


def request_of(what: str) -> tuple[str, str]:
    method, path = what.split(" ", 1)
    return method, path


def token_of(table: dict[str, Any]) -> str | None:
    return str((table.get("metadata") or {}).get("continue") or "") or None


def table_pages(
    kube: Kube,
    resource: str,
    namespace: str | None,
    *,
    label_selector: str | None = None,
    field_selector: str | None = None,
    page_size: int,
) -> Generator[TablePage]:
    """Every page in order; a failed read of a page raises where that page would have been handed over."""
    what = f"GET {resource_info(resource).path(resource, namespace)}"

    def fetch(token: str | None) -> TablePage:
        options: dict[str, Any] = {"label_selector": label_selector, "field_selector": field_selector}
        options["limit"] = page_size
        if token:  # only then: stand-ins of the seam that never page need not know the argument
            options["continue_token"] = token
        if isinstance(kube, RealKube):
            raw = kube.table_body(resource, namespace, **options)
            head = leading_metadata(raw)
            if head is not None:
                return TablePage(what, raw, None, str(head.get("continue") or "") or None)
            table = decoded_object(raw, *request_of(what))  # the token lies deeper: decode it here
        else:
            table = kube.table(resource, namespace, **options)
        return TablePage(what, None, table, token_of(table))

    return prefetched(fetch, lambda page: page.continue_token)

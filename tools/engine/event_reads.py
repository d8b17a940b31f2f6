"""Events read whole, in pages: every Warning of a namespace, however many.

Events sort by name (the object's name, then a suffix), so a read that stops at its first N leaves out whole objects'
events: a crash-looping deployment whose pods sort last was invisible past the 5,000th event. Each event is kept
without its managedFields (what the server's field manager needs, never what a tool reads), page by page.

Layer: tools.engine.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from incident_response.tools.kube.paging import list_all, without_managed_fields

if TYPE_CHECKING:
    from incident_response.tools.kube.client import Kube, ListResult

WARNINGS = "type=Warning"
# A stop for runaway reads only (events live an hour by default: 100,000 Warnings in a namespace is 28 a second);
# a read that reaches it says so (ListResult.truncated) and every caller says what it did not see.
MAX_EVENTS_READ = 100_000


slim_event = without_managed_fields


def read_events(kube: Kube, namespace: str | None, field_selector: str | None = None) -> ListResult:
    """Every event of the namespace matching `field_selector`, up to MAX_EVENTS_READ (then `truncated`)."""
    return list_all(kube, "events", namespace, field_selector=field_selector, cap=MAX_EVENTS_READ, keep=slim_event)


def read_warnings(kube: Kube, namespace: str) -> ListResult:
    """Every Warning event of the namespace (see read_events)."""
    return read_events(kube, namespace, WARNINGS)

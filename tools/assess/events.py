"""list_events: recent events newest first, repeats grouped, bounded.

Layer: tools.assess.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated

from pydantic import Field

from incident_response.tools.core import errors
from incident_response.tools.core.models import ToolResult, Truncation
from incident_response.tools.engine.deps import Deps, check_name
from incident_response.tools.engine.event_reads import read_events
from incident_response.tools.k8s.events import EventGroup, group_events

KINDS = {
    "pod": "Pod",
    "po": "Pod",
    "deployment": "Deployment",
    "deploy": "Deployment",
    "replicaset": "ReplicaSet",
    "rs": "ReplicaSet",
    "service": "Service",
    "svc": "Service",
    "node": "Node",
    "no": "Node",
    "horizontalpodautoscaler": "HorizontalPodAutoscaler",
    "hpa": "HorizontalPodAutoscaler",
}


def parse_object(value: str) -> tuple[str | None, str]:
    """'pod/web-1' -> ('Pod', 'web-1'); 'web-1' -> (None, 'web-1')."""
    kind, _, name = value.rpartition("/")
    if kind and kind.lower() not in KINDS:
        raise errors.InvalidArgument(
            f"unknown kind {kind!r} in {value!r}; use one of {', '.join(sorted(set(KINDS)))}, or give just a name"
        )
    check_name(name, "object name")
    return (KINDS[kind.lower()] if kind else None), name


class EventList(ToolResult):
    namespace: str
    events: list[EventGroup]
    warning_count: int = Field(description="Warning occurrences among the listed events (summed counts).")
    truncation: Truncation


def list_events(
    deps: Deps,
    namespace: Annotated[str, Field(description="Namespace.")],
    object: Annotated[
        str | None, Field(description="Only events about this object: pod/web-1, deployment/web, or a name.")
    ] = None,
    warnings_only: Annotated[bool, Field(description="Only Warning events.")] = False,
    since_minutes: Annotated[
        int | None, Field(description="Only events seen in the last N minutes.", ge=1, le=10080)
    ] = None,
    limit: Annotated[int, Field(description="Most event groups to return.", ge=1, le=200)] = 30,
) -> EventList:
    """List events newest first with repeats grouped, optionally for one object, Warnings only, or recent only.
    Use it to learn why pods fail (BackOff, OOMKilling, FailedScheduling, Unhealthy) and whether errors stopped."""
    selectors = []
    if object:
        kind, name = parse_object(object)
        selectors.append(f"involvedObject.name={name}")
        if kind:
            selectors.append(f"involvedObject.kind={kind}")
    if warnings_only:
        selectors.append("type=Warning")
    listed = read_events(deps.kube, namespace, ",".join(selectors) or None)
    now = datetime.now(UTC)
    groups = group_events(listed.items, now, timedelta(minutes=since_minutes) if since_minutes else None)
    shown = groups[:limit]
    warnings = sum(g.count for g in groups if g.type == "Warning")
    scope = f" about {object}" if object else ""
    # The groups themselves (newest first) are the result: the summary does not restate them.
    summary = f"{len(groups)} event groups in {namespace}{scope}; {warnings} Warning occurrences"
    return EventList(
        summary=summary,
        namespace=namespace,
        events=shown,
        warning_count=warnings,
        truncation=Truncation.of(len(shown), len(groups), listed.truncated or len(groups) > len(shown)),
    )

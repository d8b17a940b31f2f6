"""Pure facts about Event objects: when one happened, and repeats grouped into one line, masked and bounded.

Layer: tools.k8s.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from pydantic import BaseModel, Field

from incident_response.tools.core.masking import mask_text
from incident_response.tools.k8s.quantity import age_seconds, human_age, parse_time
from incident_response.tools.k8s.views import meta

MAX_MESSAGE = 300


class EventGroup(BaseModel):
    type: str
    reason: str
    object: str = Field(description="kind/name the events are about.")
    message: str
    count: int = Field(description="Occurrences, summed over repeats.")
    last_seen: str = Field(description="Age of the newest occurrence: 2m.")
    last_seen_seconds: int | None


def event_time(event: dict[str, Any]) -> datetime | None:
    for key in ("lastTimestamp", "eventTime"):
        when = parse_time(event.get(key))
        if when is not None:
            return when
    series = event.get("series") or {}
    return parse_time(series.get("lastObservedTime")) or parse_time(meta(event).creation_timestamp)


def group_events(events: list[dict[str, Any]], now: datetime, since: timedelta | None = None) -> list[EventGroup]:
    """Newest first; events with the same type, reason, object and message are one group."""
    groups: dict[tuple[str, str, str, str], tuple[EventGroup, datetime]] = {}
    oldest = now - since if since is not None else None
    for event in events:
        when = event_time(event) or now
        if oldest is not None and when < oldest:
            continue
        involved = event.get("involvedObject") or event.get("regarding") or {}
        obj = f"{str(involved.get('kind', '')).lower()}/{involved.get('name')}"
        # Masked before it is cut, so a cut cannot leave half a credential unrecognised. Probe URLs and failed
        # pulls quote credentials in event messages as often as logs do.
        message = mask_text(str(event.get("message") or event.get("note") or "").strip())[:MAX_MESSAGE]
        key = (str(event.get("type") or "Normal"), str(event.get("reason") or ""), obj, message)
        count = int(event.get("count") or (event.get("series") or {}).get("count") or 1)
        if key in groups:
            group, latest = groups[key]
            group.count += count
            if when > latest:
                groups[key] = (group, when)
            continue
        groups[key] = (
            EventGroup(
                type=key[0],
                reason=key[1],
                object=obj,
                message=message,
                count=count,
                last_seen="",
                last_seen_seconds=None,
            ),
            when,
        )
    result = []
    for group, latest in sorted(groups.values(), key=lambda pair: pair[1], reverse=True):
        seconds = age_seconds(latest.isoformat(), now)
        group.last_seen_seconds = seconds
        group.last_seen = human_age(seconds)
        result.append(group)
    return result

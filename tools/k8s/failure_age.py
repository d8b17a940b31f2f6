"""How long a component's pods have been failing, as far as the cluster's Warning events show.

A Warning series that is still recurring (BackOff, Unhealthy, Failed...) keeps its firstTimestamp while the kubelet
repeats it; its count grows and lastTimestamp moves. The oldest such series about a component's pods is a lower bound
on how long that component has been failing. It lets the decision framework rule out, as the cause of a failure, a
deploy made after the failure had already begun (a red herring an experienced on-call engineer dismisses at once).

Layer: tools.k8s.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from incident_response.tools.k8s.events import event_time
from incident_response.tools.k8s.quantity import parse_time

# A series counts as ongoing when it recurred this recently: a crash loop's back-off caps at 5 minutes.
ONGOING = timedelta(minutes=10)


def failing_for_minutes(
    events: list[dict[str, Any]], component_of_pod: dict[str, str], failing: set[str], now: datetime
) -> dict[str, int]:
    """For each failing component: minutes since the oldest still-recurring Warning series about one of its pods
    began. Components without such a series are left out (how long they have failed is unknown)."""
    oldest = failing_since(events, component_of_pod, failing, now)
    return {c: max(0, int((now - first).total_seconds() // 60)) for c, first in oldest.items()}


def failing_since(
    events: list[dict[str, Any]], component_of_pod: dict[str, str], failing: set[str], now: datetime
) -> dict[str, datetime]:
    """For each failing component: when the oldest still-recurring Warning series about one of its pods began (a
    change made after that moment did not start the failure)."""
    oldest: dict[str, datetime] = {}
    for event in events:
        if event.get("type") != "Warning":
            continue
        involved = event.get("involvedObject") or event.get("regarding") or {}
        if involved.get("kind") != "Pod":
            continue
        component = component_of_pod.get(str(involved.get("name")))
        if component is None or component not in failing:
            continue
        last = event_time(event)
        # A series made by the events.k8s.io API carries its first occurrence as eventTime.
        first = parse_time(event.get("firstTimestamp")) or parse_time(event.get("eventTime"))
        if last is None or first is None or now - last > ONGOING or first > last:
            continue
        if component not in oldest or first < oldest[component]:
            oldest[component] = first
    return oldest

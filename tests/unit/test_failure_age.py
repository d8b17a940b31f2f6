"""How long a component has been failing, from its pods' recurring Warning series."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from incident_response.tools.k8s.failure_age import failing_for_minutes

NOW = datetime(2026, 12, 5, 0, 0, tzinfo=UTC)


def warning(pod: str, first_minutes_ago: float, last_minutes_ago: float, **extra: Any) -> dict[str, Any]:
    stamp = lambda m: (NOW - timedelta(minutes=m)).isoformat().replace("+00:00", "Z")  # noqa: E731
    event: dict[str, Any] = {
        "type": "Warning",
        "reason": "BackOff",
        "involvedObject": {"kind": "Pod", "name": pod},
        "firstTimestamp": stamp(first_minutes_ago),
        "lastTimestamp": stamp(last_minutes_ago),
    }
    event.update(extra)
    return event


def test_the_oldest_ongoing_series_of_a_failing_components_pods_dates_its_failure() -> None:
    events = [warning("batch-1", 2880, 1), warning("batch-2", 30, 0), warning("web-1", 600, 2)]
    components = {"batch-1": "batch", "batch-2": "batch", "web-1": "web"}
    assert failing_for_minutes(events, components, {"batch", "web"}, NOW) == {"batch": 2880, "web": 600}


def test_a_series_that_stopped_recurring_or_a_healthy_component_says_nothing() -> None:
    events = [warning("batch-1", 2880, 45), warning("web-1", 600, 0), warning("batch-1", 5, 0, type="Normal")]
    assert failing_for_minutes(events, {"batch-1": "batch", "web-1": "web"}, {"batch"}, NOW) == {}


def test_an_events_api_series_without_first_timestamp_starts_at_its_event_time() -> None:
    event = warning("batch-1", 0, 0)
    event.pop("firstTimestamp")
    event["eventTime"] = (NOW - timedelta(minutes=90)).isoformat()
    assert failing_for_minutes([event], {"batch-1": "batch"}, {"batch"}, NOW) == {"batch": 90}

"""Hand scales read from ScalingReplicaSet events: the count before, who wrote it, and what is not a change."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from incident_response.tools.k8s.changes import scale_changes

NOW = datetime(2026, 12, 5, 2, 0, tzinfo=UTC)


def stamp(minutes_ago: float) -> str:
    return (NOW - timedelta(minutes=minutes_ago)).strftime("%Y-%m-%dT%H:%M:%SZ")


def deployment(replicas: int, writer: tuple[str, float] | None) -> dict[str, Any]:
    fields = []
    if writer is not None:
        fields.append({"manager": writer[0], "operation": "Update", "subresource": "scale", "time": stamp(writer[1])})
    return {
        "metadata": {"name": "web", "uid": "u1", "creationTimestamp": stamp(9000), "managedFields": fields},
        "spec": {"replicas": replicas},
    }


REPLICASETS = [
    {"metadata": {"name": "web-5d9", "ownerReferences": [{"controller": True, "kind": "Deployment", "name": "web"}]}}
]


def event(message: str, minutes_ago: float) -> dict[str, Any]:
    return {"reason": "ScalingReplicaSet", "message": message, "lastTimestamp": stamp(minutes_ago)}


def test_a_kubectl_scale_is_a_change_with_the_count_before_and_its_writer() -> None:
    (found,) = scale_changes(
        [deployment(0, ("kubectl", 3))],
        REPLICASETS,
        [event("Scaled down replica set web-5d9 from 4 to 0", 3)],
        set(),
        NOW,
    )
    assert (found.what, found.before, found.manager, found.subresource) == ("scaled 4 -> 0", 4, "kubectl", "scale")


def test_an_hpa_resize_is_not_a_change() -> None:
    """The HPA's write is no managedFields entry of that time (an old apply owns the field): the HPA at work."""
    events = [event("Scaled up replica set web-5d9 to 6 from 4", 2)]
    assert (
        scale_changes(
            [deployment(6, ("kubectl-client-side-apply", 600))], REPLICASETS, events, set(), NOW, frozenset({"web"})
        )
        == []
    )
    # Without an HPA on it, the same resize is someone's, writer unknown.
    (found,) = scale_changes([deployment(6, ("kubectl-client-side-apply", 600))], REPLICASETS, events, set(), NOW)
    assert (found.what, found.manager) == ("scaled 4 -> 6", None)


def test_a_rollouts_own_scaling_is_the_rollout() -> None:
    events = [event("Scaled up replica set web-5d9 to 2 from 1", 1)]
    assert scale_changes([deployment(2, None)], REPLICASETS, events, {"web"}, NOW) == []


@pytest.mark.parametrize("forged_minutes_ago", [2.9, 3.1], ids=["after", "before"])
def test_a_forged_scale_event_does_not_set_the_count_before(forged_minutes_ago: float) -> None:
    """review-assist6 G3/G4: a workload with events create adds 'from 60 to 0' beside the real 'from 4 to 0'; dated
    first, it was the first count the events showed, and the dark-service rule scales back to the count before."""
    events = [
        event("Scaled down replica set web-5d9 from 4 to 0", 3),
        event("Scaled down replica set web-5d9 from 60 to 0", forged_minutes_ago),
    ]
    (found,) = scale_changes([deployment(0, ("kubectl", 3))], REPLICASETS, events, set(), NOW)
    assert (found.what, found.before) == ("scaled 4 -> 0", 4)

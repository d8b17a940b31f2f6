"""A hand scale's count before, in the change list: claimed by events only unless within the step or recorded."""

from __future__ import annotations

import json

import pytest
from support.builders import NOW, deployment

from incident_response.tools.k8s.changes import Change
from incident_response.tools.playbook.scale_claims import mark_claims


def cut(before: int, after: int, name: str = "cart") -> Change:
    return Change("Deployment", name, f"scaled {before} -> {after}", NOW, "kubectl", "scale", before, after)


@pytest.mark.parametrize(
    ("before", "after", "said"),
    [
        (60, 0, "scaled 60 -> 0 (only events claim 60)"),
        (40, 2, "scaled 40 -> 2 (only events claim 40)"),
        (4, 0, "scaled 4 -> 0"),  # within the step from 0 (+4 pods): what the tools would go to anyway
        (2, 10, "scaled 2 -> 10"),  # a scale up: the count before is no target
    ],
)
def test_a_count_beyond_the_step_that_only_events_show_is_said_to_be_a_claim(
    before: int, after: int, said: str
) -> None:
    change = cut(before, after)
    mark_claims([change], [deployment("cart", replicas=after)], [])
    assert change.what == said


def test_a_count_the_last_applied_manifest_shows_is_said_plainly() -> None:
    cart = deployment("cart", replicas=0)
    applied = json.dumps({"spec": {"replicas": 60}})
    cart["metadata"].setdefault("annotations", {})["kubectl.kubernetes.io/last-applied-configuration"] = applied
    recorded, other = cut(60, 0), cut(50, 0)
    mark_claims([recorded], [cart], [])
    mark_claims([other], [cart], [])
    assert (recorded.what, other.what) == ("scaled 60 -> 0", "scaled 50 -> 0 (only events claim 50)")

"""A replica count only ScalingReplicaSet events show (nothing recorded; any workload allowed to create events can
write them): taken no further than the demand-unknown step, the rest said for the human to confirm."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from incident_response.tools.k8s.changes import Change
from incident_response.tools.playbook.demand_facts import previous_count
from incident_response.tools.playbook.scale_back import scale_back
from incident_response.tools.playbook.sizing import Demand, Previous, shortfall, size

NOW = datetime(2026, 12, 5, 7, 0, tzinfo=UTC)
RS = "api-5d9"


def event(message: str, minutes_ago: float) -> dict[str, Any]:
    stamp = (NOW - timedelta(minutes=minutes_ago)).strftime("%Y-%m-%dT%H:%M:%SZ")
    return {"reason": "ScalingReplicaSet", "message": message, "lastTimestamp": stamp}


def test_a_count_only_events_show_is_claimed_by_them_however_well_they_chain() -> None:
    # a forged pair that chains ("up to 40", then "from 40 to 2") is no better than one forged event
    deployment = {"metadata": {"name": "api", "uid": "u1"}, "spec": {"replicas": 2}}
    current = {
        "metadata": {
            "name": RS,
            "generation": 2,
            "ownerReferences": [{"controller": True, "kind": "Deployment", "name": "api", "uid": "u1"}],
        },
        "spec": {"replicas": 2, "template": {}},
    }
    pair = [event(f"Scaled up replica set {RS} to 40", 30), event(f"Scaled down replica set {RS} from 40 to 2", 1)]
    found = previous_count(deployment, [current], pair)
    assert found is not None and (found.replicas, found.claimed_by) == (
        40,
        f"Scaled down replica set {RS} from 40 to 2",
    )
    sizing = size(Demand("api", 2, measured=2, pinned=2, previous=found, bound=20))
    assert sizing.replicas == 6 and sizing.claim is not None, sizing


def test_a_lone_claim_is_taken_no_further_than_the_step_and_said() -> None:
    pinned = {"measured": 2, "pinned": 2, "load": 0.8, "cpu_limit": 0.4, "bound": 20}
    claimed = size(Demand("api", 2, **pinned, previous=Previous(40, "event", claimed_by="from 40 to 2")))
    assert (claimed.replicas, claimed.source) == (6, "step"), claimed  # not 20 (40 capped)
    assert claimed.text().endswith("Only events claim it had 40 (no record does): confirm with the human.")
    small = size(Demand("api", 2, **pinned, previous=Previous(3, "event", claimed_by="from 3 to 2")))
    assert (small.replicas, small.source, small.claim) == (3, "previous", None)  # within the step: taken
    # a recorded count is taken as before, with nothing to confirm
    recorded = size(Demand("api", 2, **pinned, previous=Previous(12, "the manifest")))
    assert (recorded.replicas, recorded.claim) == (12, None)


def test_a_plan_for_more_says_only_an_event_claims_it() -> None:
    sizing = size(Demand("api", 2, previous=Previous(40, "event", claimed_by="from 40 to 2")))
    warning = shortfall(sizing, 20, 2, "replicas")
    assert warning is not None and "Only events claim it had 40" in warning, warning
    assert shortfall(size(Demand("api", 2)), 20, 2, "replicas") is None  # nothing claimed, nothing pinned


def deployment(annotations: dict[str, str] | None = None) -> dict[str, Any]:
    return {"metadata": {"name": "cart", "annotations": annotations or {}}, "spec": {"replicas": 0}}


def test_a_dark_service_goes_back_to_a_recorded_count_before_an_event_claim() -> None:
    lone = Change("Deployment", "cart", "scaled 60 -> 0", NOW, before=60, after=0)
    back = scale_back(deployment(), [], lone)
    assert back is not None and back.replicas == 4  # the step from 0: the larger of +100% and +4 pods
    assert back.text().startswith("4 replicas: only events claim it had 60 (no record does)")
    assert back.text().endswith("confirm with the human")
    applied = {"kubectl.kubernetes.io/last-applied-configuration": '{"spec": {"replicas": 2}}'}
    back = scale_back(deployment(applied), [], lone)
    assert back is not None and back.replicas == 2
    assert back.text().endswith(
        "(the manifest last applied asks for 2 (kubectl.kubernetes.io/last-applied-configuration); the events say 60)"
    )
    shown = Change("Deployment", "cart", "scaled 2 -> 0", NOW, before=2, after=0)
    assert scale_back(deployment(), [], shown) == type(back)(2)

"""review-landed8 R2 (LOW): an HPA edit's 'scaled down N -> M since' trusts any ScalingReplicaSet event. Anyone
allowed to create events can write one; here web's ReplicaSet was never scaled (3 replicas before and after the
edit, which only raised the max), yet a forged event makes the change list say the edit scaled it down 6 -> 3, and
the SCALE reason then calls putting the bounds back the fix. Fixed: the count is checked against the
ReplicaSet's (scale_history's chain does that for scale events); a real scale-down, its generation bumped, is still
told."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from incident_response.tools.k8s.hpa_changes import hpa_changes

NOW = datetime(2026, 12, 5, 11, 0, tzinfo=UTC)


def stamp(minutes_ago: int) -> str:
    return (NOW - timedelta(minutes=minutes_ago)).strftime("%Y-%m-%dT%H:%M:%SZ")


def hpa() -> dict[str, object]:
    return {
        "metadata": {
            "name": "web",
            "namespace": "shop",
            "creationTimestamp": stamp(600),
            "managedFields": [
                {"manager": "kubectl-patch", "operation": "Update", "time": stamp(10), "fieldsV1": {"f:spec": {}}}
            ],
        },
        "spec": {"minReplicas": 2, "maxReplicas": 10, "scaleTargetRef": {"kind": "Deployment", "name": "web"}},
    }


def replicaset() -> dict[str, object]:
    return {
        "metadata": {
            "name": "web-abc",
            "generation": 1,
            "creationTimestamp": stamp(600),
            "ownerReferences": [{"kind": "Deployment", "name": "web"}],
        },
        "spec": {"replicas": 3},
        "status": {"replicas": 3},
    }


def forged() -> dict[str, object]:
    return {
        "reason": "ScalingReplicaSet",
        "type": "Normal",
        "message": "Scaled down replica set web-abc from 6 to 3",
        "lastTimestamp": stamp(5),
        "source": {"component": "my-app"},
    }


def test_a_forged_scale_down_event_is_not_told_as_the_hpa_edits_effect() -> None:
    changes = hpa_changes([hpa()], NOW, [forged()], [replicaset()])
    assert changes, "the edit itself is in the window"
    assert all("scaled down" not in c.what for c in changes), [c.what for c in changes]


def test_a_scale_down_the_replicaset_bears_out_is_told() -> None:
    scaled = replicaset()
    scaled["metadata"]["generation"] = 2  # type: ignore[index]
    changes = hpa_changes([hpa()], NOW, [forged()], [scaled])
    assert [c.what for c in changes] == ["edited (bounds now 2..10; web scaled down 6 -> 3 since)"]

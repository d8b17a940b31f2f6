"""When the current revision rolled out: the newest ReplicaSet's creation, or for a rollback the Progressing update."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from incident_response.tools.k8s.workloads import REVISION, rolling_back, rollout_time


def deployment(revision: int, progressing: dict[str, Any] | None = None) -> dict[str, Any]:
    conditions = [{"type": "Progressing", "status": "True", **progressing}] if progressing else []
    return {
        "metadata": {"name": "web", "uid": "d1", "annotations": {REVISION: str(revision)}},
        "status": {"conditions": conditions},
    }


def replicaset(name: str, revision: int, created: str) -> dict[str, Any]:
    return {
        "metadata": {
            "name": name,
            "creationTimestamp": created,
            "annotations": {REVISION: str(revision)},
            "ownerReferences": [{"uid": "d1", "controller": True}],
        }
    }


def at(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC)


def test_a_new_revision_rolled_out_when_its_replicaset_was_created() -> None:
    # The condition may be older (a controller that wrote it once, as the simulated one does at start).
    deploy = deployment(3, {"reason": "NewReplicaSetAvailable", "lastUpdateTime": "2026-11-27T01:00:00Z"})
    owned = [replicaset("web-a", 2, "2026-11-20T00:00:00Z"), replicaset("web-b", 3, "2026-11-27T02:50:00Z")]
    assert rollout_time(deploy, owned) == at("2026-11-27T02:50:00Z")


def test_a_rollback_reusing_an_old_replicaset_is_dated_by_the_progressing_update() -> None:
    """After `rollout undo` completes, the reason is NewReplicaSetAvailable; lastTransitionTime stayed at the day the
    condition first turned True, lastUpdateTime moved with the rollback."""
    progressing = {
        "reason": "NewReplicaSetAvailable",
        "lastTransitionTime": "2026-11-20T00:00:30Z",
        "lastUpdateTime": "2026-11-27T03:05:00Z",
    }
    owned = [replicaset("web-a", 4, "2026-11-20T00:00:00Z"), replicaset("web-b", 3, "2026-11-27T02:50:00Z")]
    assert rollout_time(deployment(4, progressing), owned) == at("2026-11-27T03:05:00Z")


def test_without_a_current_replicaset_the_time_is_unknown() -> None:
    assert rollout_time(deployment(5), [replicaset("web-a", 4, "2026-11-20T00:00:00Z")]) is None


def test_a_rollback_is_in_progress_while_only_the_undone_revisions_pods_fail() -> None:
    """web-a (revision 4 now) was brought back over web-b: its pods only starting, web-b's crash-looping."""
    owned = [replicaset("web-a", 4, "2026-11-20T00:00:00Z"), replicaset("web-b", 3, "2026-11-27T02:50:00Z")]
    crashing = "web-b-x1 CrashLoopBackOff (0/1 ready, 6 restarts)"
    assert rolling_back(deployment(4), owned, [crashing, "web-a-y1 ContainerCreating (0/1 ready, 0 restarts)"])
    assert rolling_back(deployment(4), owned, [])  # nothing failing, replicas still unavailable: still rolling
    # The revision brought back fails on its own: a rollback to it is as suspect as any deploy.
    assert not rolling_back(deployment(4), owned, [crashing, "web-a-y1 CrashLoopBackOff (0/1 ready, 3 restarts)"])
    # The newest ReplicaSet is current: a deploy, not a rollback.
    assert not rolling_back(deployment(3), owned, [crashing])

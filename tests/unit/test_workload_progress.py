"""A StatefulSet's and a DaemonSet's rollout facts for verify_recovery, on plain dicts."""

from __future__ import annotations

from typing import Any

from incident_response.tools.k8s.workload_progress import recovery_progress, waiting


def revision(name: str, number: int, image: str) -> dict[str, Any]:
    template = {"spec": {"containers": [{"name": "c", "image": image}]}}
    return {
        "metadata": {"name": name, "ownerReferences": [{"uid": "u", "controller": True}]},
        "revision": number,
        "data": {"spec": {"template": {"$patch": "replace", **template}}},
    }


OWNED = [revision("s-1", 1, "a:1"), revision("s-2", 2, "a:2")]


def sts(image: str = "a:2", **status: Any) -> dict[str, Any]:
    return {
        "metadata": {"name": "s", "uid": "u", "generation": 2},
        "spec": {
            "replicas": 3,
            "template": {"spec": {"containers": [{"name": "c", "image": image}]}},
            "updateStrategy": {"type": "RollingUpdate", "rollingUpdate": {"partition": 0}},
        },
        "status": {"observedGeneration": 2, "readyReplicas": 3, "currentRevision": "s-2", "updateRevision": "s-2"}
        | status,
    }


def test_a_statefulset_is_done_only_when_update_and_current_revision_meet_with_every_replica_ready() -> None:
    done = recovery_progress("statefulset", sts(updatedReplicas=3, currentReplicas=3), OWNED)
    assert done.done and done.revision == 2 and done.desired == 3
    halfway = recovery_progress("statefulset", sts(currentRevision="s-1", updatedReplicas=1, currentReplicas=2), OWNED)
    assert not halfway.done
    assert "updateRevision s-2 (revision 2) on 1 pods, currentRevision s-1 (revision 1) on 2" in halfway.message
    unready = recovery_progress("statefulset", sts(readyReplicas=2), OWNED)
    assert not unready.done
    unobserved = recovery_progress("statefulset", sts(observedGeneration=1), OWNED)
    assert not unobserved.done and unobserved.message.startswith("waiting for the statefulset spec update")


def test_a_partition_is_done_when_the_ordinals_above_it_are_updated() -> None:
    partitioned = sts(currentRevision="s-1", updatedReplicas=1)
    partitioned["spec"]["updateStrategy"]["rollingUpdate"]["partition"] = 2
    assert recovery_progress("statefulset", partitioned, OWNED).done


def daemonset(**status: int) -> dict[str, Any]:
    base = {
        "desiredNumberScheduled": 3,
        "currentNumberScheduled": 3,
        "updatedNumberScheduled": 3,
        "numberReady": 3,
        "numberAvailable": 3,
        "numberMisscheduled": 0,
        "observedGeneration": 2,
    }
    return {
        "metadata": {"name": "d", "uid": "u", "generation": 2},
        "spec": {"template": {"spec": {"containers": [{"name": "c", "image": "a:2"}]}}},
        "status": base | status,
    }


def test_a_daemonset_is_done_when_every_node_runs_the_newest_revision_available() -> None:
    assert recovery_progress("daemonset", daemonset(), OWNED).done
    for short in ({"updatedNumberScheduled": 2}, {"numberAvailable": 2}, {"currentNumberScheduled": 2}):
        assert not recovery_progress("daemonset", daemonset(**short), OWNED).done, short
    misscheduled = recovery_progress("daemonset", daemonset(numberMisscheduled=1), OWNED)
    assert not misscheduled.done and "1 misscheduled" in misscheduled.message


def test_ondelete_with_pods_left_waits_on_a_human() -> None:
    on_delete = sts(currentRevision="s-1", updatedReplicas=1)
    on_delete["spec"]["updateStrategy"] = {"type": "OnDelete"}
    progress = recovery_progress("statefulset", on_delete, OWNED)
    assert "OnDelete: 2 pods keep their old revision until deleted" in progress.message
    reason = waiting("statefulset", on_delete, progress)
    assert reason is not None and "highest ordinal first (delete_pod)" in reason
    rolling = sts(currentRevision="s-1", updatedReplicas=1)
    assert waiting("statefulset", rolling, recovery_progress("statefulset", rolling, OWNED)) is None

"""unfinished_rollout: a Deployment whose current revision has fewer Ready pods than desired while an earlier
revision's pods serve (review-assist F27), and only_new_fail: whether only that revision's pods fail."""

from __future__ import annotations

from typing import Any

from incident_response.tools.k8s.unfinished import only_new_fail, unfinished_rollout

REV = "deployment.kubernetes.io/revision"


def rs(name: str, revision: int, ready: int, image: str) -> dict[str, Any]:
    return {
        "metadata": {"name": name, "annotations": {REV: str(revision)}},
        "spec": {"template": {"spec": {"containers": [{"name": "app", "image": image}]}}},
        "status": {"readyReplicas": ready},
    }


def deploy(replicas: int, revision: int, image: str) -> dict[str, Any]:
    return {
        "metadata": {"name": "payments", "annotations": {REV: str(revision)}},
        "spec": {"replicas": replicas, "template": {"spec": {"containers": [{"name": "app", "image": image}]}}},
    }


def test_a_stuck_rollout_over_serving_pods_is_unfinished_and_only_its_new_pods_fail() -> None:
    owned = [rs("payments-old", 1, 2, "pay:5.0.2"), rs("payments-new", 2, 0, "pay:5.1.0")]
    found = unfinished_rollout(deploy(2, 2, "pay:5.1.0"), owned)
    assert found is not None
    assert (found.revision, found.ready, found.serving_revision, found.serving_ready) == (2, 0, 1, 2)
    assert found.serving_images == ["pay:5.0.2"] and found.replicaset == "payments-new"
    assert only_new_fail(found, ["payments-new-x1 CrashLoopBackOff (0/1 ready, 64 restarts)"])
    assert not only_new_fail(found, ["payments-new-x1 CrashLoopBackOff", "payments-old-y2 Error"])
    assert not only_new_fail(found, [])  # nothing failing: a rollout merely in progress


def test_a_finished_rollout_or_one_with_nothing_serving_is_not() -> None:
    done = [rs("payments-old", 1, 0, "pay:5.0.2"), rs("payments-new", 2, 2, "pay:5.1.0")]
    assert unfinished_rollout(deploy(2, 2, "pay:5.1.0"), done) is None
    nothing_serves = [rs("payments-old", 1, 0, "pay:5.0.2"), rs("payments-new", 2, 0, "pay:5.1.0")]
    assert unfinished_rollout(deploy(2, 2, "pay:5.1.0"), nothing_serves) is None
    assert unfinished_rollout(deploy(0, 2, "pay:5.1.0"), [rs("payments-old", 1, 1, "pay:5.0.2")]) is None

"""A deployment a ResourceQuota keeps short of pods: the quota is named as the cause, a rollout it refuses is rolled
back, and a scale-up needs a human to raise the quota (the patch is computed from the refusal's numbers)."""

from __future__ import annotations

from typing import Any

from incident_response.tools.k8s.quotas import parse_refusal, quota_room
from incident_response.tools.playbook.decision import Facts, RecentRollout
from incident_response.tools.playbook.quota_blocks import quota_blocks
from incident_response.tools.playbook.rules import decide

REFUSAL = (
    'pods "api-6b9c-" is forbidden: exceeded quota: compute, requested: limits.memory=512Mi,requests.cpu=200m, '
    "used: limits.memory=3840Mi,requests.cpu=5100m, limited: limits.memory=4Gi,requests.cpu=5200m"
)


def deployment(replicas: int, created: int, message: str = REFUSAL) -> dict[str, Any]:
    return {
        "metadata": {"name": "api", "namespace": "shop"},
        "spec": {"replicas": replicas},
        "status": {
            "replicas": created,
            "unavailableReplicas": replicas - created,
            "conditions": [{"type": "ReplicaFailure", "status": "True", "reason": "FailedCreate", "message": message}],
        },
    }


def test_the_refusal_is_read_with_its_numbers_and_the_raise_that_holds_the_missing_pods() -> None:
    refusal = parse_refusal(REFUSAL)
    assert refusal is not None and refusal.quota == "compute"
    assert refusal.requested == {"limits.memory": "512Mi", "requests.cpu": "200m"}
    assert refusal.needed(3) == {"limits.memory": "5376Mi", "requests.cpu": "5700m"}
    assert parse_refusal('pods "x-" is forbidden: failed quota: compute: must specify limits.cpu for: x') is not None
    assert parse_refusal("admission webhook denied the request") is None


def test_a_scale_up_the_quota_refuses_names_the_quota_and_no_tool() -> None:
    facts = Facts(namespace="shop", unavailable={"api": 2}, quota_blocked=quota_blocks([deployment(12, 10)]))
    decision = decide(facts)
    assert (decision.rule, decision.primary_action, decision.next_tool) == ("exceeded quota", "INVESTIGATE", None)
    assert "ResourceQuota compute refuses the rest" in decision.reason
    assert '{"spec":{"hard":{"limits.memory":"4864Mi","requests.cpu":"5500m"}}}' in decision.reason


def test_a_rollout_the_quota_refuses_is_rolled_back_naming_the_quota() -> None:
    rollout = RecentRollout(
        deployment="api",
        revision=4,
        minutes_ago=6,
        images=["api:2"],
        previous_images=["api:1"],
        failing_pods=0,
        unavailable_replicas=1,
    )
    facts = Facts(
        namespace="shop",
        unavailable={"api": 1},
        recent_rollouts=[rollout],
        quota_blocked=quota_blocks([deployment(4, 4)]),
    )
    decision = decide(facts)
    assert (decision.rule, decision.next_tool) == ("exceeded quota", "rollback_deployment")
    assert decision.reason.startswith(
        "the rollout of revision 4 (6 minutes ago) of deployment api cannot create its pods: ResourceQuota compute "
        "refuses them (exceeded quota: limits.memory=512Mi (used 3840Mi of 4Gi), requests.cpu=200m (used 5100m of "
        "5200m)). Roll back"
    ), decision.reason


def test_quota_room_counts_what_one_pod_of_the_template_charges() -> None:
    quota = {
        "metadata": {"name": "compute"},
        "spec": {"hard": {"pods": "10", "limits.memory": "4Gi"}},
        "status": {"hard": {"pods": "10", "limits.memory": "4Gi"}, "used": {"pods": "4", "limits.memory": "3Gi"}},
    }
    spec = {"containers": [{"name": "a", "resources": {"limits": {"memory": "256Mi"}}}]}
    room = quota_room(quota, spec)
    assert room is not None and (room.fits, room.key) == (4, "limits.memory")
    unset = quota_room(quota, {"containers": [{"name": "a"}]})
    assert unset is not None and unset.fits == 0  # the quota limits memory and the pod leaves it unset

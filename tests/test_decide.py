from __future__ import annotations

from incident_response.tools.decide import Facts, RecentRollout, decide, find_poisonings


def rollout(name: str = "web", minutes: int = 10, unavailable: int = 0) -> RecentRollout:
    return RecentRollout(
        deployment=name,
        revision=2,
        minutes_ago=minutes,
        images=["web:2"],
        previous_images=["web:1"],
        failing_pods=0,
        unavailable_replicas=unavailable,
    )


def test_recent_deploy_with_its_own_pods_failing_is_a_rollback() -> None:
    decision = decide(Facts("shop", failing={"web": ["web-1 CrashLoopBackOff"]}, recent_rollouts=[rollout()]))
    assert decision.primary_action == "ROLLBACK"
    assert decision.next_tool == "rollback_deployment"
    assert decision.next_arguments == {"namespace": "shop", "deployment": "web"}
    assert any("web:1" in line for line in decision.evidence)


def test_recent_deploy_of_a_healthy_component_does_not_trigger_the_rollback_rule() -> None:
    facts = Facts(
        "shop",
        failing={"api": ["api-1 Running"]},
        recent_rollouts=[rollout("web")],
        near_limit={"api": ["api-1 cpu 99%"]},
    )
    decision = decide(facts)
    assert (decision.primary_action, decision.rule) == ("SCALE", "overloaded: CPU near limits")


def test_saturated_hpa_is_a_scale_through_the_hpa() -> None:
    decision = decide(Facts("shop", saturated_hpas=[("web", "deployment/web", "5/5 replicas, cpu: 180%/70%")]))
    assert (decision.primary_action, decision.next_tool) == ("SCALE", "override_hpa")


def test_oomkilled_pods_are_vertical_scaling() -> None:
    decision = decide(Facts("shop", failing={"api": ["api-1 OOMKilled"]}, oom_killed={"api": ["api-1"]}))
    assert (decision.primary_action, decision.next_tool) == ("SCALE", "set_memory_limit")


def test_unknown_cause_rolls_back_a_recent_deploy_else_scales() -> None:
    with_deploy = decide(Facts("shop", failing={"api": ["api-1 Pending"]}, recent_rollouts=[rollout("web")]))
    assert (with_deploy.primary_action, with_deploy.rule) == ("ROLLBACK", "unknown cause, recent deploy exists")
    without = decide(Facts("shop", failing={"api": ["api-1 Pending"]}))
    assert (without.primary_action, without.rule) == ("SCALE", "unknown cause, no recent deploy")


def test_unknown_cause_does_not_roll_back_a_deploy_that_keeps_no_earlier_revision() -> None:
    no_history = rollout("ledger").model_copy(update={"previous_images": []})
    decision = decide(Facts("shop", failing={"api": ["api-1 Pending"]}, recent_rollouts=[no_history]))
    assert (decision.primary_action, decision.rule) == ("SCALE", "unknown cause, no recent deploy to roll back")
    assert "ledger" in decision.reason and "nothing was deployed" not in decision.reason


def test_a_new_deployment_failing_is_no_rollback_but_is_named() -> None:
    new = rollout("web-canary").model_copy(update={"revision": 1, "previous_images": []})
    decision = decide(Facts("shop", failing={"web-canary": ["web-canary-1 CrashLoopBackOff"]}, recent_rollouts=[new]))
    assert (decision.primary_action, decision.rule) == ("SCALE", "unknown cause, no recent deploy to roll back")
    assert any("web-canary rolled out revision 1" in line for line in decision.evidence)


def test_nothing_failing_is_none() -> None:
    decision = decide(Facts("shop"))
    assert decision.primary_action == "NONE"
    assert decision.next_tool is None


def test_nothing_failing_in_a_partial_read_does_not_claim_every_pod_is_fine() -> None:
    decision = decide(Facts("scale", unread="1000 more pods"))
    assert (decision.primary_action, decision.rule) == ("NONE", "healthy as far as read")
    assert "1000 more pods were not read" in decision.reason and "every pod" not in decision.reason
    assert "list_pods" in decision.reason


def test_events_naming_another_components_pod_are_isolation_evidence() -> None:
    components = {"checkout-1": "checkout", "checkout-2": "checkout", "recs-7": "recs"}
    labels = {"recs-7": {"app": "recs", "version": "bad", "pod-template-hash": "x"}}
    messages = [
        ("checkout-1", "Readiness probe failed: upstream poisoned by recs-7"),
        ("checkout-2", "Readiness probe failed: bad data from 10.0.0.9"),
        ("recs-7", "recs-7 is fine"),
    ]
    found = find_poisonings(messages, components, {"10.0.0.9": "recs"}, {"10.0.0.9": "recs-7"}, {"checkout"}, labels)
    assert len(found) == 1
    assert (found[0].victim, found[0].culprit, found[0].culprit_pods) == ("checkout", "recs", ["recs-7"])
    assert found[0].selector == "app=recs,version=bad"
    decision = decide(Facts("shop", failing={"checkout": ["checkout-1 Running"]}, poisonings=found))
    assert decision.primary_action == "ISOLATE"
    assert decision.next_arguments == {"namespace": "shop", "selector": "app=recs,version=bad"}


def test_a_component_naming_itself_is_not_poisoning() -> None:
    found = find_poisonings([("web-1", "web-2 timed out")], {"web-1": "web", "web-2": "web"}, {}, {}, {"web"}, {})
    assert found == []

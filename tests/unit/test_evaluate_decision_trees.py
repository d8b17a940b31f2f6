"""The three decision trees on built facts: every branch the playbook draws, and who answered each question."""

from __future__ import annotations

import pytest
from support.builders import hpa

from incident_response.tools.assess.hpas import hpa_wanted
from incident_response.tools.playbook.decision import Facts
from incident_response.tools.playbook.poisoning import Poisoning
from incident_response.tools.playbook.rules import decide
from incident_response.tools.playbook.sizing import Demand
from incident_response.tools.playbook.trees import Answers, Elsewhere, Walk
from incident_response.tools.playbook.trees_isolate import IsolateFacts, isolate_tree
from incident_response.tools.playbook.trees_rollback import RollbackFacts, SafetyCheck, rollback_tree
from incident_response.tools.playbook.trees_scale import Hpa, ScaleFacts, scale_tree

NS = "shop"
QUIET = Elsewhere(NS)


def outcome(walk: Walk) -> tuple[str, str | None, str | None]:
    assert walk.outcome is not None
    return walk.outcome.verdict, walk.outcome.alternative, walk.outcome.next_tool


def trail(walk: Walk) -> list[tuple[str, str]]:
    return [(step.answer, step.source) for step in walk.steps]


# --- rollback ---------------------------------------------------------------------------------------------------


def clear_safety(**overrides: SafetyCheck) -> dict[str, SafetyCheck]:
    checks = {
        "previous_revision": SafetyCheck("ok", "revision 2 is kept"),
        "known_good": SafetyCheck("ok", "revision 2 served 3d"),
        "image_available": SafetyCheck("ok", "a pod runs it now"),
        "migrations": SafetyCheck("not_visible", "no migration signs"),
        "stateful": SafetyCheck("ok", "no PVC"),
    }
    return checks | overrides


def rollback(minutes: int | None = 7, **overrides: SafetyCheck) -> RollbackFacts:
    question = "Did revision 3 run a forward-only migration?"
    return RollbackFacts(
        "checkout",
        minutes,
        ["revision 3 rolled out 7m ago"],
        safety=clear_safety(**overrides),
        target_revision=2,
        questions_for_human=[question],
    )


def test_rollback_with_every_check_clear_proceeds_and_keeps_the_open_questions() -> None:
    walk = rollback_tree(rollback(), Answers(), QUIET)
    assert outcome(walk) == ("PROCEED", None, "rollback_deployment")
    assert walk.outcome is not None and walk.outcome.next_arguments == {"namespace": NS, "deployment": "checkout"}
    # Migrations are never provably absent: that step stays unanswered, and the question reaches the human.
    assert trail(walk) == [("yes", "cluster"), ("yes", "cluster"), ("unknown", "unanswered"), ("no", "cluster")]
    assert "Did revision 3 run a forward-only migration?" in walk.cautions


def test_a_config_warning_is_the_first_caution_of_a_rollback_that_proceeds() -> None:
    shared = "revision 2's pods read key PAYMENTS_URL of ConfigMap checkout-config too, which pods fail on now"
    walk = rollback_tree(rollback(config=SafetyCheck("warning", shared)), Answers(), QUIET)
    assert outcome(walk) == ("PROCEED", None, "rollback_deployment")
    assert walk.cautions[0] == f"Config: {shared}.", walk.cautions


@pytest.mark.parametrize(
    ("where", "alternative"),
    [(QUIET, "SCALE"), (Elsewhere(NS, poisoning=True), "ISOLATE")],
)
def test_no_recent_deploy_tries_isolate_or_scale(where: Elsewhere, alternative: str) -> None:
    walk = rollback_tree(rollback(minutes=3 * 24 * 60), Answers(), where)
    assert outcome(walk) == ("TRY_INSTEAD", alternative, "evaluate_decision")
    assert walk.outcome is not None and walk.outcome.next_arguments["action"] == alternative
    assert trail(walk) == [("no", "cluster")]


def test_nothing_to_return_to_tries_something_else_with_the_safety_checks_reason() -> None:
    facts = rollback(previous_revision=SafetyCheck("blocking", "deployment checkout keeps no earlier revision"))
    facts.target_revision = None
    walk = rollback_tree(facts, Answers(), QUIET)
    assert outcome(walk) == ("TRY_INSTEAD", "SCALE", "evaluate_decision")
    assert walk.outcome is not None and "keeps no earlier revision" in walk.outcome.reason


def test_the_revision_running_now_sends_to_another_revision_not_to_another_action() -> None:
    facts = rollback(
        previous_revision=SafetyCheck(
            "blocking", "deployment checkout already runs revision 3's pod template: rolling back to it changes nothing"
        )
    )
    facts.target_revision = facts.to_revision = 3
    walk = rollback_tree(facts, Answers(), QUIET)
    assert outcome(walk) == ("CHECK_OLDER", None, "rollout_history")
    assert walk.outcome is not None and "to_revision" in walk.outcome.reason
    assert walk.outcome.next_arguments == {"namespace": NS, "deployment": "checkout"}


def test_a_paused_deployment_is_resumed_first_not_abandoned_for_another_action() -> None:
    facts = rollback(previous_revision=SafetyCheck("blocking", "deployment checkout is paused"))
    facts.paused = True
    walk = rollback_tree(facts, Answers(), QUIET)
    assert outcome(walk) == ("FIX_FIRST", None, None)
    assert walk.outcome is not None
    assert "kubectl rollout resume deployment/checkout -n shop" in walk.outcome.reason
    assert trail(walk) == [("yes", "cluster"), ("no", "cluster")]
    facts.target_revision = None  # nothing to return to even once resumed: another action
    assert outcome(rollback_tree(facts, Answers(), QUIET))[0] == "TRY_INSTEAD"


@pytest.mark.parametrize("check", ["known_good", "image_available"])
def test_a_previous_revision_not_known_good_sends_to_older_revisions(check: str) -> None:
    doubt = SafetyCheck("warning" if check == "known_good" else "blocking", f"{check} doubt", ["pod/x ErrImagePull"])
    walk = rollback_tree(rollback(**{check: doubt}), Answers(), QUIET)
    assert outcome(walk) == ("CHECK_OLDER", None, "rollout_history")
    assert "pod/x ErrImagePull" in walk.steps[-1].evidence


def test_migration_signs_need_the_humans_answer_and_forward_only_forbids_the_rollback() -> None:
    signs = SafetyCheck("warning", "job/checkout-schema-3 ran since the rollout.", ["job/checkout-schema-3 created 5m"])
    facts = rollback(migrations=signs)
    asked = rollback_tree(facts, Answers(), QUIET)
    assert outcome(asked) == ("NEEDS_ANSWER", None, None)
    assert asked.outcome is not None and asked.outcome.answer_with == "migrations_forward_only"
    assert "job/checkout-schema-3" in (asked.outcome.question or "")
    refused = rollback_tree(facts, Answers(migrations_forward_only=True), QUIET)
    assert outcome(refused) == ("DO_NOT", None, None)
    assert trail(refused)[-1] == ("yes", "caller")
    allowed = rollback_tree(facts, Answers(migrations_forward_only=False), QUIET)
    assert outcome(allowed) == ("PROCEED", None, "rollback_deployment")


def test_a_human_can_forbid_the_rollback_even_without_migration_signs() -> None:
    walk = rollback_tree(rollback(), Answers(migrations_forward_only=True), QUIET)
    assert outcome(walk)[0] == "DO_NOT"


def test_state_in_the_cluster_asks_about_data_formats() -> None:
    facts = rollback(stateful=SafetyCheck("warning", "PVC checkout-sessions is mounted.", ["pvc/checkout-sessions"]))
    asked = rollback_tree(facts, Answers(), QUIET)
    assert asked.outcome is not None and asked.outcome.answer_with == "stateful_changes_uncertain"
    assert outcome(rollback_tree(facts, Answers(stateful_changes_uncertain=True), QUIET))[0] == "DO_NOT"
    assert outcome(rollback_tree(facts, Answers(stateful_changes_uncertain=False), QUIET))[0] == "PROCEED"


def test_the_chosen_revision_is_passed_to_the_rollback() -> None:
    facts = rollback()
    facts.to_revision = 1
    walk = rollback_tree(facts, Answers(), QUIET)
    assert walk.outcome is not None and walk.outcome.next_arguments["to_revision"] == 1


# --- scale ------------------------------------------------------------------------------------------------------


def scale(**fields: object) -> ScaleFacts:
    facts = ScaleFacts(
        "web",
        replicas=4,
        metrics_available=True,
        fits=20,
        per_pod="cpu 250m, memory 256Mi",
        container="web",
        memory_limit="256Mi",
        suggested_memory_limit="512Mi",
    )
    for key, value in fields.items():
        setattr(facts, key, value)
    return facts


HOT = ["web-1 uses cpu 500m of limit 500m"]


def test_load_with_healthy_pods_and_room_scales_the_deployment() -> None:
    # 4 pods pinned at their 500m limit, nothing else known: the HPA's default step, +4 pods (more than +100%).
    demand = Demand("web", 4, measured=4, pinned=4, load=2.0, cpu_limit=0.5)
    walk = scale_tree(scale(load_evidence=HOT, demand=demand), Answers(), QUIET)
    assert outcome(walk) == ("PROCEED", None, "scale_deployment")
    assert walk.outcome is not None
    assert walk.outcome.next_arguments == {"namespace": NS, "deployment": "web", "replicas": 8}
    assert "hides the real demand" in walk.outcome.reason and "default scale-up step" in walk.outcome.reason
    assert any("pinned at its limit on 4 of 4" in c for c in walk.cautions)
    assert trail(walk) == [("yes", "cluster")] * 3


def test_an_hpa_at_max_is_overridden_within_what_fits() -> None:
    saturated = Hpa("web", 3, 6, True, "6/6 replicas, cpu: 200%/70%")
    walk = scale_tree(scale(replicas=6, hpa=saturated, wanted=18, fits=15), Answers(), QUIET)
    assert outcome(walk) == ("PROCEED", None, "override_hpa")
    assert walk.outcome is not None
    # What the HPA's formula asks for (18), within what fits (15): no arbitrary cap at double.
    assert walk.outcome.next_arguments == {"namespace": NS, "hpa": "web", "min_replicas": 15, "max_replicas": 15}
    assert "capped at the 15 that fit" in walk.outcome.reason


def test_no_load_tries_a_rollback_when_something_was_deployed_else_advises_against_acting() -> None:
    recent = Elsewhere(NS, recent_rollout="checkout")
    walk = scale_tree(scale(), Answers(), recent)
    assert outcome(walk) == ("TRY_INSTEAD", "ROLLBACK", "evaluate_decision")
    assert walk.outcome is not None and walk.outcome.next_arguments["deployment"] == "checkout"
    assert outcome(scale_tree(scale(), Answers(), QUIET)) == ("DO_NOT", None, None)


def test_without_metrics_or_hpa_the_human_says_whether_it_is_load() -> None:
    blind = scale(metrics_available=False)
    asked = scale_tree(blind, Answers(), QUIET)
    assert asked.outcome is not None and asked.outcome.answer_with == "load_related"
    answered = scale_tree(blind, Answers(load_related=True), QUIET)
    assert outcome(answered)[0] == "PROCEED" and trail(answered)[0] == ("yes", "caller")


def test_oomkilled_pods_are_fixed_first_with_a_larger_memory_limit() -> None:
    walk = scale_tree(scale(oom_pods=["web-1"]), Answers(), QUIET)
    assert outcome(walk) == ("PROCEED", "VERTICAL_SCALING", "set_memory_limit")
    assert walk.outcome is not None
    assert walk.outcome.next_arguments == {"namespace": NS, "deployment": "web", "container": "web", "limit": "512Mi"}


def test_crashing_pods_are_fixed_first_by_a_rollback_when_recently_deployed_else_by_reading_logs() -> None:
    crashing = ["web-1 (CrashLoopBackOff)"]
    recent = scale_tree(scale(load_evidence=HOT, broken_pods=crashing, recently_rolled_out=True), Answers(), QUIET)
    assert outcome(recent) == ("FIX_FIRST", "ROLLBACK", "evaluate_decision")
    old = scale_tree(scale(load_evidence=HOT, broken_pods=crashing), Answers(), QUIET)
    assert outcome(old) == ("FIX_FIRST", None, "get_logs")
    assert old.outcome is not None and old.outcome.next_arguments["pod_or_deployment"] == "deployment/web"


def test_no_room_on_the_nodes_points_to_vertical_scaling_of_what_runs_short() -> None:
    """CPU-bound pods get no memory limit proposed (review-assist8 I9: set_memory_limit 1Gi for pods at 200% CPU)."""
    walk = scale_tree(scale(load_evidence=HOT, fits=4), Answers(), QUIET)
    assert outcome(walk) == ("TRY_INSTEAD", "VERTICAL_SCALING", None)
    assert walk.outcome is not None and "--limits=cpu=" in walk.outcome.reason
    assert trail(walk)[-1] == ("no", "cluster")


def test_no_room_but_cordoned_ready_nodes_asks_to_uncordon_first() -> None:
    held = [("node-2", 10, "since 2026-12-05 10:02 UTC by kubectl-cordon"), ("node-1", 9, "")]
    walk = scale_tree(scale(load_evidence=HOT, fits=4, cordoned=held), Answers(), QUIET)
    assert outcome(walk) == ("FIX_FIRST", None, "uncordon_node")
    assert walk.outcome is not None and walk.outcome.next_arguments == {"node": "node-2"}
    assert "node-2 (~10 more; cordoned since 2026-12-05 10:02 UTC by kubectl-cordon), node-1 (~9 more)" in (
        walk.outcome.reason
    )


def test_unknown_node_room_still_proceeds_with_a_caution() -> None:
    walk = scale_tree(scale(load_evidence=HOT, fits=None), Answers(), QUIET)
    assert outcome(walk)[0] == "PROCEED" and trail(walk)[-1] == ("unknown", "cluster")
    assert any("Pending" in c for c in walk.cautions)


def test_hpa_wanted_is_the_hpas_own_formula() -> None:
    assert hpa_wanted(hpa("web", current=6, desired=6, max_replicas=6, cpu_now=200, cpu_target=70)) == 18
    assert hpa_wanted(hpa("web", current=0, desired=0)) is None


# --- isolate ----------------------------------------------------------------------------------------------------


def poisoned(**fields: object) -> IsolateFacts:
    facts = IsolateFacts(
        "api-bad",
        victims=["web"],
        selector="app=api,version=bad",
        culprit_pods=["api-bad-1"],
        evidence=["web-1: 500 from api-bad-1"],
        service="api",
        service_left=["api-1", "api-2"],
    )
    for key, value in fields.items():
        setattr(facts, key, value)
    return facts


def test_no_poisoning_tries_rollback_or_scale() -> None:
    walk = isolate_tree(IsolateFacts(None), Answers(), Elsewhere(NS, recent_rollout="checkout"))
    assert outcome(walk) == ("TRY_INSTEAD", "ROLLBACK", "evaluate_decision")
    assert outcome(isolate_tree(IsolateFacts(None), Answers(), QUIET)) == ("TRY_INSTEAD", "SCALE", "evaluate_decision")


def test_data_at_risk_isolates_fully_at_once() -> None:
    walk = isolate_tree(poisoned(), Answers(data_integrity_at_risk=True, can_go_offline=False), QUIET)
    assert outcome(walk) == ("PROCEED", None, "isolate_network")
    assert walk.outcome is not None and walk.outcome.next_arguments == {
        "namespace": NS,
        "selector": "app=api,version=bad",
    }
    assert trail(walk) == [("yes", "cluster"), ("yes", "caller")]


def test_whether_it_may_go_offline_is_the_humans_call() -> None:
    asked = isolate_tree(poisoned(), Answers(data_integrity_at_risk=False), QUIET)
    assert outcome(asked)[0] == "NEEDS_ANSWER"
    assert asked.outcome is not None and asked.outcome.answer_with == "can_go_offline"
    full = isolate_tree(poisoned(), Answers(can_go_offline=True), QUIET)
    assert outcome(full) == ("PROCEED", None, "isolate_network")


def test_partial_isolation_takes_the_culprit_out_of_its_service() -> None:
    walk = isolate_tree(poisoned(), Answers(can_go_offline=False), QUIET)
    assert outcome(walk) == ("PROCEED", None, "remove_pods_from_service")
    assert walk.outcome is not None
    assert walk.outcome.next_arguments == {"namespace": NS, "service": "api", "selector": "app=api,version=bad"}
    assert trail(walk) == [("yes", "cluster"), ("unknown", "unanswered"), ("no", "caller")]
    assert any("data_integrity_at_risk" in c for c in walk.cautions)


def test_partial_isolation_that_would_empty_the_service_is_refused() -> None:
    walk = isolate_tree(poisoned(service_left=[]), Answers(can_go_offline=False), QUIET)
    assert outcome(walk) == ("DO_NOT", None, None)


def test_partial_isolation_without_a_service_is_a_policy_on_the_culprit_alone() -> None:
    walk = isolate_tree(poisoned(service=None, service_left=None), Answers(can_go_offline=False), QUIET)
    assert outcome(walk) == ("PROCEED", None, "isolate_network")


def test_assessments_isolate_decision_names_the_service_to_take_the_culprit_out_of() -> None:
    poisoning = Poisoning("web", "api-bad", ["api-bad-1"], "app=api,version=bad", ["web-1: 500"], services=["api"])
    decision = decide(Facts(NS, failing={"web": ["web-1 Running"]}, poisonings=[poisoning]))
    assert decision.next_arguments == {"namespace": NS, "selector": "app=api,version=bad", "service": "api"}

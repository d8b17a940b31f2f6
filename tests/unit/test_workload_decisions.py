"""The playbook's rules and ROLLBACK tree for StatefulSets and DaemonSets (pure: Facts in, Decision/Walk out)."""

from __future__ import annotations

from incident_response.tools.playbook.decision import Facts, RecentRollout
from incident_response.tools.playbook.rules import decide
from incident_response.tools.playbook.suspects import Placement
from incident_response.tools.playbook.trees import Answers, Elsewhere
from incident_response.tools.playbook.trees_workload import WorkloadRollbackFacts, workload_rollback_tree


def sts_rollout(minutes: int = 15) -> RecentRollout:
    return RecentRollout(
        deployment="sessions",
        kind="statefulset",
        revision=2,
        minutes_ago=minutes,
        images=["sessions:7.4"],
        previous_images=["sessions:7.2"],
        failing_pods=1,
        unavailable_replicas=1,
    )


def test_a_recent_statefulset_rollout_with_failing_pods_is_rolled_back_with_rollback_workload() -> None:
    facts = Facts(
        "shop",
        failing={"sessions": ["sessions-2 CrashLoopBackOff"]},
        recent_rollouts=[sts_rollout()],
        workloads={"sessions": "statefulset"},
    )
    decision = decide(facts)
    assert (decision.primary_action, decision.target) == ("ROLLBACK", "statefulset/sessions")
    assert decision.next_tool == "rollback_workload"
    assert decision.next_arguments == {"namespace": "shop", "kind": "statefulset", "workload": "sessions"}
    assert decision.evidence[0].startswith("statefulset sessions rolled out revision 2 15 minutes ago")


def test_a_failing_daemonset_without_a_recent_rollout_is_investigated_not_sent_to_scale_deployment() -> None:
    facts = Facts(
        "shop",
        failing={"db-proxy": ["db-proxy-x2k9p CrashLoopBackOff", "db-proxy-7fq2d CrashLoopBackOff"]},
        workloads={"db-proxy": "daemonset"},
        placements=[
            Placement("db-proxy-7fq2d", "db-proxy", "node-1", "CrashLoopBackOff", True, "0/1", 4),
            Placement("db-proxy-x2k9p", "db-proxy", "node-2", "CrashLoopBackOff", True, "0/1", 9),
        ],
    )
    decision = decide(facts)
    assert (decision.primary_action, decision.target) == ("INVESTIGATE", "daemonset/db-proxy")
    # The crashed instance of the pod that restarted most: its previous log says why it exits.
    assert (decision.next_tool, decision.next_arguments) == (
        "get_logs",
        {"namespace": "shop", "pod_or_deployment": "db-proxy-x2k9p", "previous": True},
    )
    assert "delete_pod" in decision.reason


def test_a_daemonset_pod_that_never_started_is_investigated_through_its_events() -> None:
    facts = Facts(
        "shop",
        failing={"db-proxy": ["db-proxy-x2k9p ImagePullBackOff"]},
        workloads={"db-proxy": "daemonset"},
        placements=[Placement("db-proxy-x2k9p", "db-proxy", "node-2", "ImagePullBackOff", True, "0/1", 0)],
    )
    decision = decide(facts)
    assert (decision.next_tool, decision.next_arguments) == (
        "list_events",
        {"namespace": "shop", "object": "pod/db-proxy-x2k9p", "warnings_only": True},
    )


def facts(**changes: object) -> WorkloadRollbackFacts:
    base = WorkloadRollbackFacts(
        kind="statefulset",
        name="sessions",
        current_revision=2,
        minutes_since_rollout=15,
        rollout_evidence=["revision 2 of sessions rolled out 15m ago"],
        target_revision=1,
        target_evidence=["revision 1 served 29d before the next", "2 pods still run revision 1 and are Ready"],
        target_still_serving=2,
        claims=["data-sessions-0"],
        stuck=["sessions-2"],
    )
    for key, value in changes.items():
        setattr(base, key, value)
    return base


def test_the_statefulset_tree_asks_about_its_data_then_proceeds() -> None:
    where = Elsewhere(namespace="shop")
    asked = workload_rollback_tree(facts(), Answers(), where)
    assert asked.outcome is not None and asked.outcome.verdict == "NEEDS_ANSWER"
    assert asked.outcome.answer_with == "migrations_forward_only"
    refused = workload_rollback_tree(facts(), Answers(migrations_forward_only=True), where)
    assert refused.outcome is not None and refused.outcome.verdict == "DO_NOT"
    walk = workload_rollback_tree(facts(), Answers(migrations_forward_only=False), where)
    assert walk.outcome is not None and walk.outcome.verdict == "PROCEED"
    assert walk.outcome.next_arguments == {
        "namespace": "shop",
        "kind": "statefulset",
        "workload": "sessions",
        "to_revision": 1,
    }
    assert any("sessions-2 never got Ready" in c for c in walk.cautions)


def test_no_recent_rollout_or_no_earlier_revision_stops_the_tree() -> None:
    where = Elsewhere(namespace="shop")
    old = workload_rollback_tree(facts(minutes_since_rollout=600), Answers(), where)
    assert old.outcome is not None and old.outcome.verdict == "DO_NOT"
    alone = workload_rollback_tree(facts(kind="daemonset", target_revision=None, claims=[]), Answers(), where)
    assert alone.outcome is not None and alone.outcome.verdict == "DO_NOT"
    assert "keeps no earlier revision" in alone.outcome.reason


def test_a_pod_that_exited_without_restarting_is_read_from_its_current_log() -> None:
    # restartPolicy Never (a Job's pod): no previous log, and its events say little; the simulated kubelet always
    # restarts, so this is checked on built facts.
    facts = Facts(
        "shop",
        failing={"tax-report": ["tax-report Error"]},
        placements=[Placement("tax-report", "tax-report", "node-1", "Error", True, "0/1", 0)],
        deployments=set(),
    )
    decision = decide(facts)
    assert (decision.primary_action, decision.target) == ("INVESTIGATE", "pods of tax-report")
    assert (decision.next_tool, decision.next_arguments) == (
        "get_logs",
        {"namespace": "shop", "pod_or_deployment": "tax-report"},
    )

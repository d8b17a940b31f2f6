from __future__ import annotations

import pytest

from incident_response.tools.k8s.scheduling import refusal_of
from incident_response.tools.playbook.decision import RULED_OUT_RULE, Facts, RecentRollout, RuledOut
from incident_response.tools.playbook.poisoning import Peers, find_poisonings
from incident_response.tools.playbook.ranking import RULE_ORDER, rule_rank
from incident_response.tools.playbook.rules import decide
from incident_response.tools.playbook.suspects import CanaryPair, NodeState, Placement


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


def test_a_rollback_still_replacing_the_failing_pods_is_waited_on_and_verified_not_rolled_back() -> None:
    back = rollout(unavailable=3).model_copy(update={"revision": 3, "rolling_back": True})
    decision = decide(Facts("shop", failing={"web": ["web-b-1 CrashLoopBackOff"]}, recent_rollouts=[back]))
    assert (decision.primary_action, decision.rule, decision.next_tool) == (
        "INVESTIGATE",
        "rollback in progress",
        "verify_recovery",
    )
    assert decision.next_arguments == {"namespace": "shop", "deployment": "web"}
    assert "rolling back to revision 3 (web:2; was web:1)" in decision.reason


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


def test_unknown_cause_rolls_back_a_recent_deploy_else_investigates() -> None:
    with_deploy = decide(Facts("shop", failing={"api": ["api-1 Pending"]}, recent_rollouts=[rollout("web")]))
    assert (with_deploy.primary_action, with_deploy.rule) == ("ROLLBACK", "unknown cause, recent deploy exists")
    placed = [Placement("api-1", "api", None, "Pending", True, "0/1")]
    without = decide(Facts("shop", failing={"api": ["api-1 Pending"]}, placements=placed))
    assert (without.primary_action, without.rule) == ("INVESTIGATE", "unknown cause, no recent deploy")
    # A pod that never ran has no previous log: its events say why (FailedScheduling, an image pull...).
    assert (without.next_tool, without.next_arguments) == (
        "list_events",
        {"namespace": "shop", "object": "pod/api-1", "warnings_only": True},
    )
    assert "scale_deployment" not in without.reason


def test_unknown_cause_does_not_roll_back_a_deploy_that_keeps_no_earlier_revision() -> None:
    no_history = rollout("ledger").model_copy(update={"previous_images": []})
    decision = decide(Facts("shop", failing={"api": ["api-1 Pending"]}, recent_rollouts=[no_history]))
    assert (decision.primary_action, decision.rule) == ("INVESTIGATE", "unknown cause, no recent deploy to roll back")
    assert "ledger" in decision.reason and "nothing was deployed" not in decision.reason


def test_a_new_deployment_failing_is_no_rollback_but_is_named() -> None:
    new = rollout("web-canary").model_copy(update={"revision": 1, "previous_images": []})
    placed = [Placement("web-canary-1", "web-canary", "node-1", "CrashLoopBackOff", True, "0/1", 6)]
    decision = decide(
        Facts(
            "shop",
            failing={"web-canary": ["web-canary-1 CrashLoopBackOff"]},
            recent_rollouts=[new],
            placements=placed,
        )
    )
    assert (decision.primary_action, decision.rule) == ("INVESTIGATE", "unknown cause, no recent deploy to roll back")
    assert (decision.next_tool, decision.next_arguments) == (
        "get_logs",
        {"namespace": "shop", "pod_or_deployment": "web-canary-1", "previous": True},
    )
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
    peers = Peers(components, {"10.0.0.9": "recs"}, {"10.0.0.9": "recs-7"}, labels)
    suspects = {"recs": "rolled out revision 4 12 minutes ago"}
    found = find_poisonings(messages, peers, {"checkout"}, crashing=set(), suspects=suspects)
    assert len(found) == 1
    assert (found[0].victim, found[0].culprit, found[0].culprit_pods) == ("checkout", "recs", ["recs-7"])
    assert found[0].selector == "app=recs,version=bad"
    decision = decide(Facts("shop", failing={"checkout": ["checkout-1 Running"]}, poisonings=found))
    assert decision.primary_action == "ISOLATE"
    assert decision.next_arguments == {"namespace": "shop", "selector": "app=recs,version=bad"}


def test_a_component_naming_itself_is_not_poisoning() -> None:
    peers = Peers({"web-1": "web", "web-2": "web"}, {}, {}, {})
    found = find_poisonings(
        [("web-1", "request to web-2 timed out")], peers, {"web"}, crashing=set(), suspects={"web": "x"}
    )
    assert found == []


# --- a failing node ------------------------------------------------------------------------------------------------

DOWN = NodeState(["Ready=Unknown, NodeStatusUnknown: Kubelet stopped posting node status."])


def spread(failing_on: dict[str, str]) -> tuple[list[Placement], dict[str, list[str]]]:
    """web and api with one pod on each of node-1..3; the pods named in `failing_on` (pod -> STATUS) fail."""
    placements = [
        Placement(
            f"{app}-{n}",
            app,
            f"node-{n}",
            failing_on.get(f"{app}-{n}", "Running"),
            f"{app}-{n}" in failing_on,
            "0/1" if f"{app}-{n}" in failing_on else "1/1",
        )
        for app in ("web", "api")
        for n in (1, 2, 3)
    ]
    failing: dict[str, list[str]] = {}
    for place in placements:
        if place.failing:
            failing.setdefault(place.component, []).append(f"{place.pod} {place.status}")
    return placements, failing


def test_pods_failing_only_on_a_notready_node_isolate_the_node_before_any_rollback() -> None:
    placements, failing = spread({"web-2": "Running", "api-2": "Running"})
    # web was also rolled out 10 minutes ago: its pods elsewhere running fine clear the code, not the node.
    facts = Facts(
        "shop", failing=failing, recent_rollouts=[rollout("web")], placements=placements, nodes={"node-2": DOWN}
    )
    decision = decide(facts)
    assert (decision.primary_action, decision.rule, decision.target) == ("ISOLATE", "failing node", "node/node-2")
    assert (decision.next_tool, decision.next_arguments) == ("cordon_node", {"node": "node-2"})
    assert "Ready=Unknown" in decision.evidence[0]
    assert "api-2 Running 0/1 ready" in decision.evidence[1] and "web-2" in decision.evidence[1]
    assert "web on node-1, node-3" in decision.evidence[2]
    assert "drain_node" in decision.reason


def test_a_cordoned_failing_node_is_drained() -> None:
    placements, failing = spread({"web-2": "Running"})
    cordoned = NodeState(DOWN.problems, cordoned=True)
    decision = decide(Facts("shop", failing=failing, placements=placements, nodes={"node-2": cordoned}))
    assert (decision.next_tool, decision.next_arguments) == ("drain_node", {"node": "node-2"})
    assert "cordoned already" in decision.reason


def test_a_drained_node_whose_pods_are_being_deleted_is_not_sent_to_the_drain_again() -> None:
    placements, failing = spread({"web-2": "Terminating", "api-2": "Unknown"})
    drained = decide(
        Facts("shop", failing=failing, placements=placements, nodes={"node-2": NodeState(DOWN.problems, cordoned=True)})
    )
    assert drained.rule != "failing node" and drained.next_tool not in ("cordon_node", "drain_node")
    # Not cordoned yet (the pods were evicted by the node's taints): the cordon is still to do.
    evicted = decide(Facts("shop", failing=failing, placements=placements, nodes={"node-2": DOWN}))
    assert (evicted.rule, evicted.next_tool) == ("failing node", "cordon_node")


def test_pods_showing_their_node_lost_blame_a_node_that_could_not_be_read() -> None:
    placements, failing = spread({"web-2": "Unknown", "api-2": "Unknown"})
    decision = decide(Facts("shop", failing=failing, placements=placements, nodes={"node-2": NodeState(read=False)}))
    assert (decision.target, decision.next_tool) == ("node/node-2", "cordon_node")
    assert "STATUS Unknown/NodeLost" in decision.evidence[0]


@pytest.mark.parametrize(
    ("nodes", "failing_on"),
    [
        # Every node is Ready and the pods fail everywhere: no node to blame.
        ({"node-1": NodeState(), "node-2": NodeState(), "node-3": NodeState()},
         {f"web-{n}": "CrashLoopBackOff" for n in (1, 2, 3)}),
        # node-2 is down, but web fails on the healthy nodes as well: the node is not the explanation.
        ({"node-2": DOWN}, {f"web-{n}": "CrashLoopBackOff" for n in (1, 2, 3)}),
        # node-2 is down and holds one failing pod, but most failures are elsewhere.
        ({"node-2": DOWN}, {"api-2": "Running", "web-1": "CrashLoopBackOff", "web-3": "CrashLoopBackOff"}),
    ],
)  # fmt: skip
def test_failures_not_concentrated_on_a_failing_node_do_not_blame_a_node(
    nodes: dict[str, NodeState], failing_on: dict[str, str]
) -> None:
    placements, failing = spread(failing_on)
    decision = decide(Facts("shop", failing=failing, placements=placements, nodes=nodes))
    assert decision.primary_action == "INVESTIGATE" and decision.rule.startswith("unknown cause")
    assert decision.next_tool != "cordon_node" and not (decision.target or "").startswith("node/")


# --- a failing canary ----------------------------------------------------------------------------------------------


def pair(services: list[str] | None = None, stable_ready: int = 4) -> CanaryPair:
    return CanaryPair(
        app="web",
        canary="web-canary",
        stable="web-stable",
        services=["web"] if services is None else services,
        stable_ready=stable_ready,
        stable_replicas=4,
        canary_replicas=1,
    )


CRASHING_CANARY = {"web-canary": ["web-canary-1 CrashLoopBackOff"]}


@pytest.mark.parametrize("history", [[], ["web:1.9"]], ids=["new canary", "canary with an earlier revision"])
def test_a_failing_canary_beside_a_healthy_stable_is_pulled_not_scaled_or_undone(history: list[str]) -> None:
    new = rollout("web-canary").model_copy(update={"revision": 2 if history else 1, "previous_images": history})
    decision = decide(Facts("shop", failing=CRASHING_CANARY, recent_rollouts=[new], canaries=[pair()]))
    assert (decision.primary_action, decision.rule, decision.target) == (
        "ROLLBACK",
        "failing canary",
        "deployment/web-canary",
    )
    assert (decision.next_tool, decision.next_arguments) == ("rollback_canary", {"namespace": "shop", "app": "web"})
    assert "web-canary-1 CrashLoopBackOff" in decision.evidence[0]
    assert "4/4 replicas ready" in decision.evidence[1] and "service web" in decision.evidence[2]


def test_a_canary_whose_replicas_were_never_created_is_pulled_too() -> None:
    decision = decide(Facts("shop", unavailable={"web-canary": 1}, canaries=[pair()]))
    assert decision.next_tool == "rollback_canary" and "1 replicas unavailable" in decision.evidence[0]


@pytest.mark.parametrize(
    ("failing", "canary"),
    [
        (CRASHING_CANARY | {"web-stable": ["web-stable-1 CrashLoopBackOff"]}, pair()),  # stable fails too
        (CRASHING_CANARY, pair(stable_ready=0)),  # nothing of stable is ready to take the traffic
        (CRASHING_CANARY, pair(services=[])),  # no Service sends traffic to both
        ({"web-stable": ["web-stable-1 CrashLoopBackOff"]}, pair()),  # the canary is fine
    ],
    ids=["stable fails too", "stable not ready", "no shared service", "canary fine"],
)
def test_a_canary_pair_is_no_canary_rollback_unless_only_the_canary_fails(
    failing: dict[str, list[str]], canary: CanaryPair
) -> None:
    decision = decide(Facts("shop", failing=failing, canaries=[canary]))
    assert decision.rule != "failing canary" and decision.next_tool != "rollback_canary"


def test_a_kinds_variant_of_a_rule_ranks_in_its_rules_place() -> None:
    cpu = RULE_ORDER.index("overloaded: CPU near limits")
    assert rule_rank("overloaded: CPU near limits (daemonset)") == cpu
    assert rule_rank("overloaded: CPU near limits (statefulset)") < RULE_ORDER.index("unknown cause, no recent deploy")
    assert rule_rank("a rule nobody wrote") == len(RULE_ORDER)


def test_pods_pending_on_the_pod_limit_are_not_told_as_requests() -> None:
    """review-assist6 G5: "Too many pods" (every node at its max pods) was worded "no node has room for their
    requests" and sent to top_nodes' requests, which show room."""
    why = "0/3 nodes are available: 3 Too many pods. preemption: 0/3 nodes are available: 3 No preemption victims found"
    facts = Facts(
        namespace="many",
        failing={"svc-1": ["svc-1-a Pending (0/1 ready, 0 restarts)"]},
        unschedulable={"svc-1": ["svc-1-a"]},
        refusals={"svc-1": refusal_of(why)},
        placements=[
            Placement("svc-1-a", "svc-1", None, "Pending", True),
            Placement("svc-1-b", "svc-1", "node-1", "Running", False),
        ],
    )
    decision = decide(facts)
    assert decision.next_tool == "top_nodes", decision
    assert (
        "1 pods of 1 deployments (svc-1) are Pending: 0/3 nodes are available: 3 Too many pods: the nodes hold as many"
        in (decision.reason)
    ), decision.reason
    assert decision.target is None, decision  # the nodes' limit: one problem for every deployment it holds
    assert "requests" not in decision.reason and "preemption" not in decision.reason, decision.reason


def test_a_statefulsets_pods_pending_on_the_pod_limit_are_not_told_as_requests_either() -> None:
    """A StatefulSet's member waits for a node on the pod limit: no rule scales it, and the investigation names the
    pod count, not the requests."""
    facts = Facts(
        namespace="shop",
        failing={"db": ["db-2 Pending (0/1 ready, 0 restarts)"]},
        unschedulable={"db": ["db-2"]},
        refusals={"db": refusal_of("0/3 nodes are available: 3 Too many pods.")},
        workloads={"db": "statefulset"},
        placements=[Placement("db-2", "db", None, "Pending", True)],
    )
    decision = decide(facts)
    assert decision.primary_action == "INVESTIGATE" and decision.next_tool == "top_nodes", decision
    assert "3 Too many pods" in decision.reason and "max-pods" in decision.reason, decision.reason
    assert "lower what they request" not in decision.reason, decision.reason


RULED = RuledOut(
    said="at 04:30 UTC the human answered (migrations_forward_only=true) that revision 2 of deployment web ran "
    "database migrations that only go forward",
    answers={"migrations_forward_only": True},
    undo="evaluate_decision(namespace=shop, action=ROLLBACK, deployment=web, migrations_forward_only=false)",
    revision=2,
)


def test_a_rollback_the_human_ruled_out_is_fixed_forward_with_the_read() -> None:
    crashing = Placement("web-1", "web", "node-1", "CrashLoopBackOff", True, "0/1", 5)
    facts = Facts(
        "shop",
        failing={"web": ["web-1 CrashLoopBackOff"]},
        recent_rollouts=[rollout()],
        placements=[crashing],
        ruled_out={"deployment/web": RULED},
    )
    decision = decide(facts)
    assert (decision.primary_action, decision.rule) == ("INVESTIGATE", RULED_OUT_RULE)
    assert decision.next_tool == "get_logs" and decision.next_arguments["previous"] is True
    assert RULED.said in decision.reason and RULED.undo in decision.reason and "Fix forward" in decision.reason


def test_another_components_deploy_the_human_ruled_out_is_not_rolled_back_for_it() -> None:
    """api fails without a cause of its own; web's deploy could explain it, but may not be rolled back."""
    facts = Facts(
        "shop",
        failing={"api": ["api-1 Running"]},
        recent_rollouts=[rollout("web")],
        placements=[Placement("api-1", "api", "node-1", "Running", True, "0/1", 0)],
        ruled_out={"deployment/web": RULED},
    )
    decision = decide(facts)
    assert (decision.primary_action, decision.rule, decision.target) == (
        "INVESTIGATE",
        RULED_OUT_RULE,
        "deployment/api",
    )
    assert "deployment web rolled out revision 2" in decision.reason


def test_a_new_deployment_whose_pods_are_still_starting_is_not_said_to_fail() -> None:
    """`kubectl create deployment pay` a second ago: no pod Ready yet, none failed (ContainerCreating, 0 restarts).
    The reason said 'its first revision fails ... a scale to 0 would stop the restarts' (there were none)."""
    first = rollout("pay", minutes=0, unavailable=2).model_copy(
        update={"revision": 1, "images": ["pay:1"], "previous_images": []}
    )
    starting = {"pay": ["pay-1 ContainerCreating (0/1 ready, 0 restarts)", "pay-2 Pending (0/1 ready, 0 restarts)"]}
    for facts in (
        Facts("shop", unavailable={"pay": 2}, recent_rollouts=[first]),
        Facts("shop", failing=starting, recent_rollouts=[first]),
    ):
        decision = decide(facts)
        assert decision.primary_action == "INVESTIGATE"
        assert "first revision fails" not in decision.reason and "restarts" not in decision.reason, decision.reason
        assert "still starting" in decision.reason, decision.reason
    crashing = Facts(
        "shop", failing={"pay": ["pay-1 CrashLoopBackOff (0/1 ready, 3 restarts)"]}, recent_rollouts=[first]
    )
    assert "first revision fails" in decide(crashing).reason  # the F10 wording stays for a release that fails
    decision = decide(Facts("shop", unavailable={"pay": 2}, recent_rollouts=[first]))
    assert decision.primary_action == "INVESTIGATE"
    assert "first revision fails" not in decision.reason and "restarts" not in decision.reason, decision.reason
    assert "still starting" in decision.reason, decision.reason

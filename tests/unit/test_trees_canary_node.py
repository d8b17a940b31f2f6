"""The canary rollback and node isolation trees on built facts: every branch, and where each one sends the caller."""

from __future__ import annotations

from typing import Any

import pytest

from incident_response.tools.playbook.trees import Elsewhere, Walk, try_instead
from incident_response.tools.playbook.trees_canary_node import CanaryFacts, NodeFacts, canary_tree, node_tree
from incident_response.tools.playbook.trees_scale import Hpa

NS = "shop"
QUIET = Elsewhere(NS)


def outcome(walk: Walk) -> tuple[str, str | None, dict[str, Any]]:
    assert walk.outcome is not None
    return walk.outcome.verdict, walk.outcome.next_tool, walk.outcome.next_arguments


def trail(walk: Walk) -> list[tuple[str, str]]:
    return [(step.answer, step.source) for step in walk.steps]


# --- canary ------------------------------------------------------------------------------------------------------


def canary(**overrides: Any) -> CanaryFacts:
    facts = CanaryFacts(
        app="web",
        canary="web-canary",
        stable="web-stable",
        services=["web"],
        canary_failing=["web-canary-1 CrashLoopBackOff"],
        canary_replicas=1,
        stable_replicas=4,
        stable_ready=4,
        fits=5,
        per_pod="cpu 250m, memory 256Mi",
    )
    for key, value in overrides.items():
        setattr(facts, key, value)
    return facts


def test_a_failing_canary_with_a_healthy_stable_and_room_is_pulled_at_full_capacity() -> None:
    walk = canary_tree(canary(), QUIET)
    assert outcome(walk) == ("PROCEED", "rollback_canary", {"namespace": NS, "app": "web"})
    assert trail(walk) == [("yes", "cluster")] * 4
    assert walk.outcome is not None and "web-stable from 4 to 5 replicas" in walk.outcome.reason
    assert any("get_endpoints(web)" in caution for caution in walk.cautions)


def test_an_hpa_capping_stable_below_full_capacity_sets_the_stable_replicas_it_allows() -> None:
    facts = canary(stable_replicas=5, canary_replicas=2, fits=7, hpa=Hpa("web", 3, 6, False, "5/6 replicas"))
    walk = canary_tree(facts, QUIET)
    assert outcome(walk) == ("PROCEED", "rollback_canary", {"namespace": NS, "app": "web", "stable_replicas": 6})
    assert any("caps web-stable at 6" in caution and "override_hpa" in caution for caution in walk.cautions)


def test_no_room_for_more_stable_pods_still_pulls_the_canary_without_growing_stable() -> None:
    walk = canary_tree(canary(fits=4), QUIET)
    assert outcome(walk) == ("PROCEED", "rollback_canary", {"namespace": NS, "app": "web", "stable_replicas": 4})
    assert trail(walk)[-1] == ("no", "cluster")
    assert walk.outcome is not None and "web-stable keeps its 4 replicas" in walk.outcome.reason
    assert any("Only 4 replicas of web-stable fit" in caution for caution in walk.cautions)


def test_unknown_room_or_no_shared_service_proceeds_with_a_caution() -> None:
    walk = canary_tree(canary(fits=None, services=[]), QUIET)
    assert outcome(walk)[:2] == ("PROCEED", "rollback_canary")
    assert trail(walk)[2:] == [("unknown", "cluster"), ("unknown", "cluster")]
    assert any("ingress or a mesh" in caution for caution in walk.cautions)
    assert any("Node room is unknown" in caution for caution in walk.cautions)


@pytest.mark.parametrize(
    "overrides",
    [{"stable_failing": ["web-stable-1 CrashLoopBackOff"]}, {"stable_ready": 0}],
    ids=["stable fails too", "stable not ready"],
)
def test_a_stable_half_that_cannot_take_the_traffic_is_no_canary_rollback(overrides: dict[str, Any]) -> None:
    # The failing canary is this namespace's rollback candidate: the alternative must not send the caller back here.
    walk = canary_tree(canary(**overrides), Elsewhere(NS, recent_rollout="web-canary"))
    verdict, tool, arguments = outcome(walk)
    assert verdict != "PROCEED" and tool != "rollback_canary"
    assert arguments.get("deployment") != "web-canary"
    assert trail(walk) == [("yes", "cluster"), ("no", "cluster")]


def test_a_canary_that_is_not_failing_is_not_pulled() -> None:
    walk = canary_tree(canary(canary_failing=[]), QUIET)
    assert outcome(walk)[0] == "DO_NOT" and trail(walk) == [("no", "cluster")]


# --- node --------------------------------------------------------------------------------------------------------


def failing_node(**overrides: Any) -> NodeFacts:
    facts = NodeFacts(
        node="node-2",
        problems=["Ready=Unknown, NodeStatusUnknown"],
        cordoned=False,
        failing_here=["web-2 Running 0/1 ready"],
        fine_elsewhere=["web on node-1, node-3"],
        movers=4,
    )
    for key, value in overrides.items():
        setattr(facts, key, value)
    return facts


def test_a_notready_node_holding_the_failing_pods_is_cordoned_with_the_drain_as_follow_up() -> None:
    walk = node_tree(failing_node(), QUIET)
    assert outcome(walk) == ("PROCEED", "cordon_node", {"node": "node-2"})
    assert trail(walk) == [("yes", "cluster")] * 3
    assert walk.outcome is not None and "drain_node(node=node-2)" in walk.outcome.reason
    assert walk.cautions[0].startswith("Follow-up:") and "drain_node(node=node-2)" in walk.cautions[0]


def test_a_cordoned_failing_node_is_drained() -> None:
    assert outcome(node_tree(failing_node(cordoned=True), QUIET)) == ("PROCEED", "drain_node", {"node": "node-2"})


def test_a_cordoned_node_with_nothing_left_to_evict_needs_nothing_more() -> None:
    walk = node_tree(failing_node(cordoned=True, movers=0), QUIET)
    assert outcome(walk) == ("NOTHING_TO_DO", None, {})


def test_no_room_elsewhere_still_cordons_but_holds_the_drain_back() -> None:
    walk = node_tree(failing_node(no_room=["shop/web-2"]), QUIET)
    assert outcome(walk)[:2] == ("PROCEED", "cordon_node") and trail(walk)[-1] == ("no", "cluster")
    assert any("1 replacement pods Pending" in caution for caution in walk.cautions)


def test_a_cordoned_node_running_unmanaged_pods_is_fixed_before_the_drain() -> None:
    walk = node_tree(failing_node(cordoned=True, unmanaged=["shop/debug"]), QUIET)
    assert outcome(walk)[:2] == ("FIX_FIRST", None)
    assert walk.outcome is not None and "shop/debug" in walk.outcome.reason


def test_unknown_room_cordons_with_a_caution() -> None:
    walk = node_tree(failing_node(movers=None), QUIET)
    assert outcome(walk)[:2] == ("PROCEED", "cordon_node") and trail(walk)[-1] == ("unknown", "cluster")


@pytest.mark.parametrize(
    ("overrides", "stopped_at"),
    [
        ({"problems": []}, 1),  # the node is Ready
        ({"failing_here": []}, 2),  # none of the failing pods is there
        ({"failing_elsewhere": ["web-1 CrashLoopBackOff on node-1"]}, 2),  # they fail on healthy nodes as well
    ],
    ids=["node ready", "nothing failing there", "failing everywhere"],
)
def test_a_node_is_not_cordoned_unless_it_fails_and_holds_the_failures(
    overrides: dict[str, Any], stopped_at: int
) -> None:
    walk = node_tree(failing_node(**overrides), Elsewhere(NS, failing_node="node-2"))
    verdict, tool, arguments = outcome(walk)
    assert tool not in ("cordon_node", "drain_node") and "node" not in arguments
    assert len(walk.steps) == stopped_at and walk.steps[-1].answer == "no"


def test_other_trees_send_a_failing_node_to_the_node_tree() -> None:
    sent = try_instead(Elsewhere(NS, failing_node="node-2"), ("ROLLBACK", "ISOLATE"), "web", "web shows no load")
    assert (sent.verdict, sent.alternative, sent.next_tool) == ("TRY_INSTEAD", "ISOLATE", "evaluate_decision")
    assert sent.next_arguments == {"namespace": NS, "action": "ISOLATE", "node": "node-2"}

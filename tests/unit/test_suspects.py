"""Finding a failing node's signs and the canary pairs rollback_canary accepts, on built objects. The decisions made
from them are in test_decide.py."""

from __future__ import annotations

from typing import Any

import pytest
from support.builders import deployment, node, service
from support.fakekube import FakeKube

from incident_response.tools.core import errors
from incident_response.tools.mitigate.canary import find_pair
from incident_response.tools.playbook.suspects import NodeState, Placement, canary_pairs, node_problems, suspect_nodes


def test_a_node_whose_kubelet_stopped_reporting_shows_its_condition_and_taints_once() -> None:
    down = node("node-2")
    down["status"]["conditions"] = [
        {"type": "Ready", "status": "Unknown", "reason": "NodeStatusUnknown", "message": "Kubelet stopped posting."}
    ]
    unreachable = {"key": "node.kubernetes.io/unreachable", "effect": "NoSchedule"}
    down["spec"]["taints"] = [unreachable, unreachable, {"key": "dedicated", "effect": "NoSchedule"}]
    assert node_problems(down) == [
        "Ready=Unknown, NodeStatusUnknown: Kubelet stopped posting.",
        "tainted node.kubernetes.io/unreachable",
    ]


def test_a_ready_node_with_other_taints_or_a_cordon_shows_no_problem() -> None:
    assert node_problems(node("node-1", unschedulable=True, taints=[{"key": "gpu", "effect": "NoSchedule"}])) == []


def test_pods_showing_their_node_lost_make_it_suspect_even_unread() -> None:
    placements = [
        Placement("web-1", "web", "node-2", "Unknown", True),
        Placement("web-2", "web", "node-1", "Running", False),
    ]
    found = suspect_nodes(placements, {"node-1": NodeState(), "node-2": NodeState(read=False)})
    assert list(found) == ["node-2"] and "Unknown/NodeLost" in found["node-2"][0]


def template(name: str, **tags: str) -> dict[str, Any]:
    deploy = deployment(name)
    deploy["spec"]["template"]["metadata"]["labels"] = tags
    return deploy


BY_NAME = [template("web-canary", app="web", version="canary"), template("web-stable", app="web", version="stable")]
BY_LABEL = [template("web-next", app="web", version="canary"), template("web", app="web", version="stable")]


@pytest.mark.parametrize(
    ("deployments", "expected"),
    [
        (BY_NAME, [("web", "web-canary", "web-stable")]),
        (BY_LABEL, [("web", "web-next", "web")]),
        # Two version=canary templates of app web: rollback_canary cannot tell which one to pull.
        ([*BY_LABEL, template("web-rc", app="web", version="canary")], []),
        ([template("api-canary", app="api")], []),  # no stable half
    ],
    ids=["by name", "by label", "ambiguous", "no stable"],
)
def test_canary_pairs_are_the_ones_rollback_canary_finds(
    deployments: list[dict[str, Any]], expected: list[tuple[str, str, str]]
) -> None:
    pairs = canary_pairs(deployments, [service("web", {"app": "web"})])
    assert [(p.app, p.canary, p.stable) for p in pairs] == expected
    kube = FakeKube(*(("deployments", d) for d in deployments))
    for found in pairs:
        canary, stable = find_pair(kube, "shop", found.app)
        assert (canary["metadata"]["name"], stable["metadata"]["name"]) == (found.canary, found.stable)
    if not expected and deployments[0]["metadata"]["name"].startswith("web"):
        with pytest.raises(errors.InvalidArgument):
            find_pair(kube, "shop", "web")


def test_only_services_selecting_both_halves_front_the_pair() -> None:
    services = [service("web", {"app": "web"}), service("web-canary", {"app": "web", "version": "canary"})]
    (found,) = canary_pairs(BY_NAME, services)
    assert found.services == ["web"]
    assert (found.stable_replicas, found.canary_replicas, found.stable_ready) == (3, 3, 3)

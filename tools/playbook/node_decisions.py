"""Decisions on a failing node: cordon or drain it, delete the pods a PodDisruptionBudget keeps a drain from
evicting, force-delete a StatefulSet's members stuck Terminating on it, and the healthy verdict's words for pods
left Terminating on a node that is down.

Layer: tools.playbook.
"""

from __future__ import annotations

from incident_response.tools.playbook.decision import (
    MAX_NAMED,
    Decision,
    Facts,
    group_by,
)
from incident_response.tools.playbook.suspects import (
    DELETING,
    NodeFailure,
    NodeState,
)


def node_decision(failure: NodeFailure, facts: Facts | None = None) -> Decision:
    node = failure.node
    if failure.cordoned and facts is not None and (stuck := budget_stuck(facts, node)):
        return stuck_pods_decision(failure, facts, stuck)
    elsewhere = [f"{app} on {', '.join(where[:3])}" for app, where in sorted(failure.fine_elsewhere.items())]
    alone = [c for c in failure.components if c not in failure.fine_elsewhere]
    evidence = [
        f"node {node}: {'; '.join(failure.problems)}",
        f"{len(failure.failing_pods)} failing pods on it: {', '.join(failure.failing_pods[:MAX_NAMED])}",
        f"the same apps run fine on other nodes: {'; '.join(elsewhere[:MAX_NAMED])}"
        if elsewhere
        else f"no other pod of {', '.join(alone[:MAX_NAMED])} runs elsewhere",
    ]
    if failure.other_nodes:
        evidence.append(f"other suspect nodes: {', '.join(failure.other_nodes[:MAX_NAMED])}")
    # A cordoned node takes no new pods already: what is left is moving the ones it holds.
    if failure.cordoned:
        tool, step = "drain_node", "it is cordoned already: drain it to move its pods to healthy nodes"
    else:
        tool, step = "cordon_node", "cordon it so no new pod lands there, then drain it (drain_node) to move its pods"
    return Decision(
        primary_action="ISOLATE",
        rule="failing node",
        target=f"node/{node}",
        reason=f"the failing pods ({', '.join(failure.components[:MAX_NAMED])}) run on node {node}, which is failing "
        f"({failure.problems[0]})"
        + (", while the same apps' pods on other nodes are fine" if elsewhere else "")
        + f": {step}"
        + (
            f"; {', '.join(alone[:MAX_NAMED])} has no pod on another node: it is down until a replacement runs "
            "elsewhere (a drain starts one; a ReadWriteOnce volume it mounts must first detach from the dead node)"
            if alone
            else ""
        ),
        evidence=evidence,
        next_tool=tool,
        next_arguments={"node": node},
    )


def budget_stuck(facts: Facts, node: str) -> list[str]:
    """The namespace's failing pods on `node` whose eviction a PodDisruptionBudget refuses now, by name."""
    return sorted(p.pod for p in facts.placements if p.node == node and p.failing and p.pod in facts.evictions_refused)


def stuck_pods_decision(failure: NodeFailure, facts: Facts, stuck: list[str]) -> Decision:
    """A cordoned failed node whose own unready pods a budget will not let a drain evict: drain_node would stop at
    them again (429), and their replacements are only created once they are gone. Deleting is not limited by
    budgets: delete_pod each, then drain the rest."""
    node = failure.node
    budgets = sorted({facts.evictions_refused[p] for p in stuck})
    return Decision(
        primary_action="ISOLATE",
        rule="failing node",
        target=f"node/{node}",
        reason=f"node {node} is cordoned, and a drain cannot evict {', '.join(stuck[:MAX_NAMED])}: PodDisruptionBudget "
        f"{', '.join(budgets)} allows no disruption while they are not Ready, and they will not be on a failed node. "
        "Deletion is not limited by budgets: delete_pod each of them (their controller recreates them on a healthy "
        "node; a StatefulSet's pod only once the node confirms the deletion or is removed), then "
        f"drain_node({node}) for the rest",
        evidence=[
            f"node {node}: {'; '.join(failure.problems)}",
            *[f"{p}: eviction refused by PodDisruptionBudget {facts.evictions_refused[p]}" for p in stuck[:MAX_NAMED]],
        ][:5],
        next_tool="delete_pod",
        next_arguments={"namespace": facts.namespace, "pod": stuck[0]},
    )


def stuck_members(facts: Facts) -> tuple[str, str, list[str]] | None:
    """(node, StatefulSet, its pods) stuck being deleted on a node that is not ready: its kubelet never confirms, so
    the StatefulSet never recreates them elsewhere (at most one pod per identity) until they are force-deleted."""
    for place in sorted(facts.placements, key=lambda p: p.pod):
        state = facts.nodes.get(place.node or "")
        if place.status not in DELETING or facts.workloads.get(place.component) != "statefulset":
            continue
        if state is None or not state.problems:
            continue
        pods = sorted(
            p.pod
            for p in facts.placements
            if p.node == place.node and p.component == place.component and p.status in DELETING
        )
        return str(place.node), place.component, pods
    return None


def stuck_members_decision(facts: Facts, node: str, statefulset: str, pods: list[str]) -> Decision:
    problems = facts.nodes[node].problems
    return Decision(
        primary_action="ISOLATE",
        rule="failing node",
        target=f"node/{node}",
        reason=f"{', '.join(pods[:MAX_NAMED])} of statefulset {statefulset} are stuck Terminating on node {node}, "
        f"which is not ready ({problems[0]}): its kubelet cannot confirm their deletion, so the StatefulSet does not "
        "recreate them elsewhere. Once the human confirms the node is fenced or powered off (else two copies of one "
        "identity run), force-delete each: delete_pod with force=true",
        evidence=[f"node {node}: {'; '.join(problems)}", *[f"{p} Terminating on {node}" for p in pods[:MAX_NAMED]]][:5],
        next_tool="delete_pod",
        next_arguments={"namespace": facts.namespace, "pod": pods[0], "force": True},
    )


def left_on_dead_nodes(facts: Facts) -> str:
    """The healthy verdict's words when pods stay Terminating on a node that is down (a drain or the taint manager's
    eviction left them; their replacements serve): nothing fails, but they go only with the node (review-assist7)."""
    stuck = group_by(
        [
            (str(p.node), p.pod)
            for p in facts.placements
            if p.status in DELETING and p.node and facts.nodes.get(p.node, NodeState()).problems
        ]
    )
    if not stuck:
        return ""
    node, pods = max(sorted(stuck.items()), key=lambda item: len(item[1]))
    return (
        f"no deployment is unavailable and nothing is near its limits, but {len(pods)} pods stay Terminating on node "
        f"{node}, which is down ({facts.nodes[node].problems[0]}): their replacements run elsewhere, and they go only "
        "when the node comes back or, once the human confirms it is fenced or powered off, with delete_pod(force=true)"
        " (a ReadWriteOnce volume any of them mounts stays attached to the node until then). Find out why the node "
        "failed"
    )

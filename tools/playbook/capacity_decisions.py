"""Decisions on capacity limits: a ResourceQuota refusing a deployment's pods, pods Pending with no node to take
them (no room, a request larger than any node, nodes at max-pods, taints, a selector no node matches).

Layer: tools.playbook.
"""

from __future__ import annotations

from incident_response.tools.k8s.scheduling import Refusal
from incident_response.tools.playbook.decision import (
    NO_ROOM,
    OVERSIZED,
    Decision,
    Facts,
    roll_back,
)
from incident_response.tools.playbook.quota_blocks import RULE as QUOTA_RULE


def quota_refused(facts: Facts) -> Decision | None:
    """A deployment a ResourceQuota keeps short of pods, the one missing most first: the quota is the cause (its pods
    do not fail, more replicas are refused too). A rollout the quota refuses is rolled back to the revision that
    fit; a scale-up needs a human to raise the quota or free room in it (no tool changes a quota)."""
    blocks = [b for b in facts.quota_blocked.values() if b.deployment not in facts.failing]
    if not blocks:
        return None
    block = max(blocks, key=lambda b: (b.missing, b.deployment))
    ns = facts.namespace
    rollout = next((r for r in facts.recent_rollouts if r.deployment == block.deployment and r.previous_images), None)
    evidence = block.evidence()
    if rollout is not None:
        what = f"rollout of revision {rollout.revision} ({rollout.minutes_ago} minutes ago)"
        return roll_back(
            rollout,
            QUOTA_RULE,
            ns,
            block.reason(ns, what),
            [
                *evidence,
                f"deployment {rollout.deployment} rolled out revision {rollout.revision} "
                f"{rollout.minutes_ago} minutes ago ({', '.join(rollout.images)})",
            ],
            facts.rollback_targets.get(f"deployment/{rollout.deployment}"),
        )
    return Decision(
        primary_action="INVESTIGATE",
        rule=QUOTA_RULE,
        target=f"deployment/{block.deployment}",
        reason=block.reason(ns, None),
        evidence=evidence,
        next_tool=None,
        next_arguments={},
    )


def no_room(facts: Facts) -> Decision | None:
    """Every failing pod of a deployment is Pending with no node to take it: not a failure more replicas fix (each
    one more would wait too). Worded by the scheduler's reason (tools/k8s/scheduling.py): requests no node has room
    for (named with the hand scale that asked for them when there is one), a request larger than any node, nodes at
    their pod limit (one problem for every deployment it holds), taints, a selector no node matches."""
    for component, pods in sorted(facts.unschedulable.items()):
        failing = facts.failing.get(component, [])
        if not pods or len(pods) < len(failing) or component in facts.workloads:
            continue
        refusal = facts.refusals.get(component) or Refusal("")
        if refusal.kind == "pods":
            return pod_limit(facts)
        placed = sum(1 for p in facts.placements if p.component == component and p.node)
        if refusal.oversized:
            return unschedulable(
                facts,
                component,
                pods,
                OVERSIZED,
                f"each requests {refusal.oversized}, so they cannot run on these nodes at any scale "
                f"({refusal.message}). Lower the request in its manifest (kubectl set resources deployment/"
                f"{component} --requests=...) or add larger nodes; no tool here plans either",
                None,
            )
        if refusal.kind != "resources" and refusal.reasons:
            return unschedulable(facts, component, pods, NO_ROOM, f"{refusal.message}: {ADVICE[refusal.kind]}", None)
        if not placed and not refusal.reasons:
            continue  # nothing runs and the scheduler's word is unknown: the unknown-cause rule reads the events
        scaled = next((c for c in facts.changes if (c.kind, c.name) == ("Deployment", component) and c.after), None)
        cause = ""
        extra: list[str] = []
        if scaled is not None and facts.now is not None:
            cause = f"; it was {scaled.what} {scaled.ago(facts.now)} ago" + (
                f" by {scaled.manager}" if scaled.manager else ""
            )
            extra.append(f"change: {scaled.text(facts.now)}")
        step = f"scale back to what fits ({placed} run now: scale_deployment)" if placed else "free room"
        return unschedulable(
            facts,
            component,
            pods,
            NO_ROOM,
            f"no node has room for their requests{cause}. That is a capacity limit, not a failure more replicas fix: "
            f"{step} or add nodes; top_nodes shows each node's requests against what it can allocate",
            "top_nodes",
            extra,
        )
    return None


ADVICE = {
    "taints": "no node takes them (taints they do not tolerate, or cordons): add the toleration to the pod template, "
    "or remove the taint (kubectl taint nodes NODE KEY-) or uncordon if it was not meant",
    "placement": "their nodeSelector or affinity matches no node with room: fix it in the pod template, or label a "
    "node to match",
    "other": "the scheduler's reason above says what to change",
}


def unschedulable(
    facts: Facts,
    component: str,
    pods: list[str],
    rule: str,
    why: str,
    next_tool: str | None,
    extra: list[str] | None = None,
) -> Decision:
    refusal = facts.refusals.get(component)
    return Decision(
        primary_action="INVESTIGATE",
        rule=rule,
        target=f"deployment/{component}",
        reason=f"{len(pods)} pods of {component} are Pending: {why}",
        evidence=[f"{p} Pending, unschedulable" for p in pods[:3]]
        + ([f"scheduler: {refusal.text()}"] if refusal is not None and refusal.message else [])
        + (extra or []),
        next_tool=next_tool,
        next_arguments={},
    )


def pod_limit(facts: Facts) -> Decision:
    """Nodes at their pod limit hold pods of many deployments Pending at once: one capacity problem, said the same
    for each of them (so the ranking merges them into one), whatever CPU and memory the nodes have free."""
    limited = {c: r for c, r in sorted(facts.refusals.items()) if r.kind == "pods" and c not in facts.workloads}
    total = sum(r.pods for r in limited.values())
    names = list(limited)
    listed = ", ".join(names[:3]) + (f" and {len(names) - 3} more" if len(names) > 3 else "")
    message = next(iter(limited.values())).message
    return Decision(
        primary_action="INVESTIGATE",
        rule=NO_ROOM,
        target=None,
        reason=f"{total} pods of {len(names)} deployments ({listed}) are Pending: {message}: the nodes hold as many "
        "pods as they allow (max-pods), whatever CPU and memory is free. That is a capacity limit, not a failure more "
        "replicas fix: add nodes (or raise the kubelet's max-pods), or scale down what can wait; top_nodes shows each "
        "node's pods against its limit",
        evidence=[f"{c}: {r.pods} pods Pending" for c, r in list(limited.items())[:4]] + [f"scheduler: {message}"],
        next_tool="top_nodes",
        next_arguments={},
    )


def pending_evidence(facts: Facts, component: str) -> list[str]:
    """Why a component's Pending pods wait, as the scheduler says (empty when none does)."""
    refusal = facts.refusals.get(component)
    return [f"its pods are Pending: {refusal.text()}"] if refusal is not None and refusal.message else []

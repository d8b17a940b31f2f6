"""The playbook's decision framework as a pure function: one primary action from the assessment's facts.

Order of the rules (first match wins):
1. ISOLATE   a node: failing pods concentrated on a node that is NotReady/unreachable (or whose pods show it lost),
             while the same apps' pods on other nodes are fine -> cordon it (then drain);
2. ROLLBACK  a canary: the canary half of a canary/stable pair fails while the stable half, behind the same Service,
             is healthy -> rollback_canary (canary to zero, stable to full capacity);
3. ROLLBACK  a deployment rolled out in the last 2 hours and its own pods are failing;
4. ISOLATE   failing pods of one component have Warning events (or logs) naming another component's pods;
5. SCALE     load: CPU near the limit, an HPA pinned at max with metrics above target, or OOMKilled containers;
5b. INVESTIGATE a capacity limit: every failing pod of a deployment is Pending with no node to take it while others
   run (a hand scale past the nodes' room): scale back to what fits or add nodes, never one replica more;
6. unknown cause with something failing (or a deployment short of replicas with no pod to show for it): ROLLBACK
   if a recent deploy exists that came before the failure began (one made after it cannot have caused it),
   otherwise INVESTIGATE: the next call reads why the pods fail (the playbook's "otherwise SCALE" assumed the
   load; with no sign of load, more replicas of a pod that fails on its own fail too);
7. NONE      nothing is failing (as far as the pods read show).
The node rule comes first because a dead node makes every app with pods on it look broken, a fresh deploy included:
the same apps running fine on other nodes is what clears the code. The canary rule comes before the rollout rule
because a canary is built to be pulled: scaling it to zero sends its traffic to the known-good stable at once, while
undoing its revision keeps it in traffic (and a new canary has no revision to go back to). ISOLATE is checked before
SCALE because a poisoned component looks overloaded, and adding replicas of it does not remove the poison. A
ROLLBACK rule counts only deploys that keep an earlier revision to go back to.

This module keeps the order; each rule's decision is built in node_decisions (1), rollout_decisions (2, 3, 6),
load_decisions (5), capacity_decisions (the quota and 5b) and investigate_decisions (INVESTIGATE); Facts and
Decision are in decision.

Layer: tools.playbook.
"""

from __future__ import annotations

from incident_response.tools.playbook.capacity_decisions import no_room, quota_refused
from incident_response.tools.playbook.config_edit_decisions import edit_decision, fix_note
from incident_response.tools.playbook.decision import (
    Decision,
    Facts,
    RecentRollout,
    roll_back,
    ruled,
)
from incident_response.tools.playbook.investigate_decisions import (
    config_cause,
    config_edited_after,
    investigate,
    still_failing,
)
from incident_response.tools.playbook.limit_decisions import limit_refused
from incident_response.tools.playbook.load_decisions import load_decision
from incident_response.tools.playbook.node_decisions import (
    left_on_dead_nodes,
    node_decision,
    stuck_members,
    stuck_members_decision,
)
from incident_response.tools.playbook.rollout_decisions import (
    canary_decision,
    could_explain,
    fix_forward,
    predating,
    recent_rollout_decision,
)
from incident_response.tools.playbook.suspects import (
    find_failing_canary,
    find_node_failure,
)


def decide(facts: Facts) -> Decision:
    """The framework's decision, with what only a human can do first (resume a paused rollout) said."""
    return paused_first(framework(facts), facts)


def paused_first(decision: Decision, facts: Facts) -> Decision:
    """kubectl refuses to roll back a paused deployment, and so does rollback_deployment: a ROLLBACK of one names
    no tool to call yet, and its reason gives the human the resume to run first (evaluate_decision: FIX_FIRST)."""
    name = (decision.target or "").removeprefix("deployment/")
    if decision.next_tool != "rollback_deployment" or name not in facts.paused:
        return decision
    arguments = ", ".join(f"{k}={v}" for k, v in decision.next_arguments.items())
    return decision.model_copy(
        update={
            "reason": f"{decision.reason}. Deployment {name} is paused and kubectl refuses to roll back a paused "
            f"deployment: the human runs `kubectl rollout resume deployment/{name} -n {facts.namespace}` first "
            "(restore_measure plans it for a pause_rollout measure; the paused rollout then continues until the "
            f"rollback replaces it), then rollback_deployment({arguments})",
            "evidence": [*decision.evidence[:4], f"deployment {name} has spec.paused: true"],
            "next_tool": None,
            "next_arguments": {},
        }
    )


def framework(facts: Facts) -> Decision:
    ns = facts.namespace
    failed_node = find_node_failure(facts.placements, facts.nodes)
    if failed_node is not None:
        return node_decision(failed_node, facts)
    if (members := stuck_members(facts)) is not None:
        return stuck_members_decision(facts, *members)
    canary = find_failing_canary(facts.canaries, facts.failing, facts.unavailable)
    if canary is not None:
        return canary_decision(facts, canary)
    if (refused := quota_refused(facts)) is not None:
        return refused
    if (refused := limit_refused(facts)) is not None:
        return refused
    # Only a deploy that keeps an earlier revision can be rolled back (a new deployment, or one whose history is
    # pruned, cannot): the others would point rollback_deployment at nothing and send the trees round.
    undoable = [r for r in facts.recent_rollouts if r.previous_images]
    if (rolled := recent_rollout_decision(facts, undoable)) is not None:
        return rolled
    if facts.poisonings:
        poison = facts.poisonings[0]
        return Decision(
            primary_action="ISOLATE",
            rule="one component poisons others",
            target=poison.selector or f"pods {', '.join(poison.culprit_pods)}",
            reason=f"failing {poison.victim} pods get their errors from {poison.culprit} pods "
            f"({', '.join(poison.culprit_pods[:5])}), which {poison.why}: take the culprit out of traffic to contain "
            "the blast radius",
            evidence=poison.evidence,
            next_tool="remove_pods_from_service",
            next_arguments={"namespace": ns, "selector": poison.selector}
            | ({"service": poison.services[0]} if poison.services else {}),
        )
    if (loaded := load_decision(facts)) is not None:
        return loaded
    stuck = no_room(facts)
    if stuck is not None:
        return stuck
    if facts.failing or facts.unavailable:
        return unknown_cause(facts, undoable)
    reason = "every pod is Running and ready, no deployment is unavailable, nothing is near its limits"
    if left := left_on_dead_nodes(facts):
        reason = left  # "every pod is Running" would deny the Terminating pods the summary counts
    if facts.unread:
        # Nothing failing among the pods read proves nothing about those not read.
        reason = (
            f"nothing failing among the pods read, but {facts.unread} were not read (the namespace is larger than "
            "one read): check the rest with list_pods(selector=...) per app before concluding nothing is wrong"
        )
    return Decision(
        primary_action="NONE",
        rule="healthy" if not facts.unread else "healthy as far as read",
        target=None,
        reason=reason,
        evidence=[],
        next_tool=None,
        next_arguments={},
    )


def unknown_cause(facts: Facts, undoable: list[RecentRollout]) -> Decision:
    """Rule 6: something fails (or a deployment is short of replicas) and no rule above explains it: roll back a
    recent deploy that came before the failure began, otherwise INVESTIGATE (`undoable`: the recent rollouts that keep
    an earlier revision)."""
    ns = facts.namespace
    failing_evidence = [f"{c}: {', '.join(p[:3])}" for c, p in sorted(facts.failing.items())]
    failing_evidence = [
        *[
            f"deployment {d}: {n} replicas unavailable and no pod of it failing (its events say why: FailedCreate "
            "from a quota or an admission webhook?)"
            for d, n in sorted(facts.unavailable.items())
        ],
        *failing_evidence,
    ][:5]
    suspects = [r for r in undoable if could_explain(r, facts)]
    barred = [r for r in suspects if ruled(facts, r)]
    suspects = [r for r in suspects if not ruled(facts, r)]
    if suspects:
        rollout = min(suspects, key=lambda r: r.minutes_ago)
        return roll_back(
            rollout,
            "unknown cause, recent deploy exists",
            ns,
            "pods are failing without a clear cause, and a deploy happened in the last 2 hours: roll it back first",
            [
                f"{rollout.kind} {rollout.deployment} rolled out {rollout.minutes_ago} minutes ago",
                *failing_evidence,
            ],
            facts.rollback_targets.get(f"{rollout.kind}/{rollout.deployment}"),
        )
    if facts.failing:
        component = max(facts.failing.items(), key=lambda item: len(item[1]))[0]
    else:
        component = max(facts.unavailable.items(), key=lambda item: item[1])[0]
    if barred:
        return fix_forward(facts, component, min(barred, key=lambda r: r.minutes_ago), failing_evidence)
    kind = facts.workloads.get(component)
    if kind is not None:
        return investigate(
            facts,
            component,
            "unknown cause, a StatefulSet or DaemonSet with no recent rollout",
            f"pods of {kind} {component} fail without a clear cause and it has no rollout of the last 2 hours to undo",
            failing_evidence,
            after="a single stuck pod can then be restarted with delete_pod",
        )
    if undoable:
        return predating(facts, component, undoable, failing_evidence)
    if facts.recent_rollouts:
        names = ", ".join(sorted(r.deployment for r in facts.recent_rollouts)[:5])
        deploys = [
            f"deployment {r.deployment} rolled out revision {r.revision} {r.minutes_ago} minutes ago (no "
            "earlier revision kept)"
            for r in sorted(facts.recent_rollouts, key=lambda r: r.minutes_ago)
        ]
        why = (
            f"pods of {component} fail without a clear cause, and no deploy of the last 2 hours ({names}) keeps an "
            "earlier revision to roll back to"
        )
        if any(r.deployment == component and r.revision == 1 for r in facts.recent_rollouts):
            # A first release: no rollback exists, and pulling it (scale to 0) would delete the evidence.
            why = (
                f"deployment {component} is new and its first revision fails: there is no earlier one to roll "
                "back to. If nothing used it before, nothing is lost while it fails: find out why first (a scale "
                "to 0 would stop the restarts but delete the crashed pods and their logs)"
            )
            if not still_failing(facts, component):  # its pods are on their way up, none failed
                why = (
                    f"deployment {component} is new and none of its pods is ready yet, but none has failed, so "
                    "they may be still starting (rollout_status follows them); if they stay unready, find out why"
                )
        return investigate(
            facts, component, "unknown cause, no recent deploy to roll back", why, [*deploys[:2], *failing_evidence]
        )
    if (edited := config_cause(facts, component)) is not None:
        return edit_decision(facts, component, edited, failing_evidence)
    fixed = config_edited_after(facts, component)
    return investigate(
        facts,
        component,
        "unknown cause, no recent deploy",
        f"pods of {component} fail without a clear cause and nothing was deployed in the last 2 hours",
        failing_evidence,
        after=fix_note(facts, fixed) if fixed is not None else "",
    )

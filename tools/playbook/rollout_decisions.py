"""ROLLBACK decisions on recent rollouts (rules 2, 3 and 6): a failing canary, a rollout whose own pods fail, a
rollback still in progress, a rollback the human ruled out (fix forward), and which deploys could explain a
failure of unknown cause.

Layer: tools.playbook.
"""

from __future__ import annotations

from incident_response.tools.k8s.nginx_canary import split_text
from incident_response.tools.playbook.capacity_decisions import pending_evidence
from incident_response.tools.playbook.config_edit_decisions import edit_after_rollout, edit_decision
from incident_response.tools.playbook.decision import (
    ATTACH_RULE,
    DEPLOY_MARGIN_MINUTES,
    MAX_NAMED,
    RULED_OUT_RULE,
    SHARED_CONFIG_RULE,
    Decision,
    Facts,
    RecentRollout,
    age_text,
    roll_back,
    ruled,
)
from incident_response.tools.playbook.investigate_decisions import config_caveat, investigate
from incident_response.tools.playbook.suspects import (
    CanaryPair,
)


def canary_decision(facts: Facts, pair: CanaryPair) -> Decision:
    failing = facts.failing.get(pair.canary, [])
    evidence = [
        f"deployment {pair.canary} is the canary of {pair.app}: "
        + (
            f"{len(failing)} of its pods are failing: {', '.join(failing[:MAX_NAMED])}"
            if failing
            else f"{facts.unavailable.get(pair.canary, 0)} replicas unavailable"
        ),
        f"deployment {pair.stable}, the stable half, has {pair.stable_ready}/{pair.stable_replicas} replicas ready and "
        "no failing pod",
        f"service {', '.join(pair.services[:3])} sends traffic to both"
        if pair.services or pair.split is None
        else split_text(*pair.split),
    ]
    evidence += [
        f"deployment {r.deployment} rolled out revision {r.revision} {r.minutes_ago} minutes ago "
        f"({', '.join(r.images)})"
        for r in facts.recent_rollouts
        if r.deployment == pair.canary
    ]
    behind, weight = "behind the same Service", ""
    if not pair.services and pair.split is not None:
        split = pair.split[0]
        behind = "behind the same host"
        weight = f"set Ingress {split.ingress}'s canary weight {split.raw} -> 0, " if split.weight > 0 else ""
    return Decision(
        primary_action="ROLLBACK",
        rule="failing canary",
        target=f"deployment/{pair.canary}",
        reason=f"the canary {pair.canary} fails while {pair.stable} {behind} is healthy: {weight}scale the "
        f"canary to zero and give {pair.stable} full capacity ({pair.stable_replicas} + {pair.canary_replicas} "
        "replicas)",
        evidence=evidence,
        next_tool="rollback_canary",
        next_arguments={"namespace": facts.namespace, "app": pair.app},
    )


def rollback_in_progress(rollout: RecentRollout, ns: str, failing: list[str]) -> Decision:
    """A rollback someone made (here or with kubectl) still replacing the pods of the revision it undid: undoing it
    would go back to that revision. What is left is to let it finish and verify."""
    images = ", ".join(rollout.images)
    before = f"; was {', '.join(rollout.previous_images)}" if rollout.previous_images else ""
    return Decision(
        primary_action="INVESTIGATE",
        rule="rollback in progress",
        target=f"{rollout.kind}/{rollout.deployment}",
        reason=f"{rollout.kind} {rollout.deployment} is rolling back to revision {rollout.revision} "
        f"({images}{before}), still replacing the pods of the revision it undid: no deploy to undo (rolling back "
        "again would go back to that revision). Let it finish, then verify_recovery says whether it fixed the service",
        evidence=[
            f"{rollout.kind} {rollout.deployment} brought back an earlier revision as revision {rollout.revision} "
            f"{rollout.minutes_ago} minutes ago ({images}{before})",
            f"failing pods (revision {rollout.revision}'s own are only starting): {', '.join(failing[:5])}"
            if failing
            else f"{rollout.unavailable_replicas} replicas unavailable while it rolls out",
        ],
        next_tool="verify_recovery",
        next_arguments={"namespace": ns, "deployment": rollout.deployment},
    )


def fix_forward(facts: Facts, component: str, rollout: RecentRollout, failing_evidence: list[str]) -> Decision:
    """The deploy that explains the failure may not be rolled back (the human said it ran forward-only migrations):
    what is left is a fix rolled forward, and first the read that says what to fix."""
    answer = facts.ruled_out[f"{rollout.kind}/{rollout.deployment}"]
    return investigate(
        facts,
        component,
        RULED_OUT_RULE,
        f"{rollout.kind} {rollout.deployment} rolled out revision {rollout.revision} {age_text(rollout.minutes_ago)} "
        f"ago and pods of {component} fail since, but {answer.said}: no rollback past it. Fix forward (a corrected "
        f"image or config rolled out as a new revision); if that answer was wrong, the human takes it back with "
        f"{answer.undo}",
        [f"the human's answer: {answer.said}", *failing_evidence],
    )


def could_explain(rollout: RecentRollout, facts: Facts) -> bool:
    """A deploy is a suspect for an unexplained failure unless every failing component is known to have been failing
    since before it (with a margin for the clocks and the kubelet's first back-off)."""
    troubled = set(facts.failing) | set(facts.unavailable)
    return any(
        c not in facts.failing_for or rollout.minutes_ago + DEPLOY_MARGIN_MINUTES >= facts.failing_for[c]
        for c in troubled
    )


def predating(facts: Facts, component: str, later: list[RecentRollout], failing_evidence: list[str]) -> Decision:
    """Every recent deploy came after the failure began: none is rolled back for it, and no capacity is proposed
    either (more replicas of a pod that fails on its own fail too); the evidence says why."""
    minutes = facts.failing_for.get(component, 0)
    newest = min(later, key=lambda r: r.minutes_ago)
    deploys = ", ".join(f"{r.kind} {r.deployment} {r.minutes_ago} minutes ago" for r in later[:3])
    return investigate(
        facts,
        component,
        "unknown cause, failing since before the recent deploys",
        f"pods of {component} have been failing for at least {age_text(minutes)}, since before every deploy of the "
        f"last 2 hours ({deploys}): rolling one back would not explain it",
        [
            f"{component}: Warning events about its pods recur since {age_text(minutes)} ago",
            f"{newest.kind} {newest.deployment} rolled out {newest.minutes_ago} minutes ago, after that: not a suspect",
            *failing_evidence,
        ],
    )


def recent_rollout_decision(facts: Facts, undoable: list[RecentRollout]) -> Decision | None:
    """Rule 3: the newest rollout (of those keeping an earlier revision) whose own pods fail or are unavailable:
    a rollback in progress is left to finish, one the human ruled out is skipped, one failing on config it does not
    restore is investigated, the others are rolled back. None when no rollout has failing pods."""
    ns = facts.namespace
    for rollout in sorted(undoable, key=lambda r: r.minutes_ago):
        own_failing = facts.failing.get(rollout.deployment, [])
        if rollout.rolling_back and (own_failing or rollout.unavailable_replicas):
            return rollback_in_progress(rollout, ns, own_failing)
        if ruled(facts, rollout):
            continue  # the human said it cannot go back: judged on what its pods show (fix_forward below)
        if own_failing and rollout.deployment in facts.shared_config:
            return investigate(facts, rollout.deployment, SHARED_CONFIG_RULE, "", [])
        waiting = facts.attach_waits.get(rollout.deployment)
        if own_failing and waiting is not None and waiting.held_by == "other_template":
            # Its new pod waits for the volume the old pod holds (Multi-Attach): the rollout's surge, not the release.
            return investigate(facts, rollout.deployment, ATTACH_RULE, "", [])
        if own_failing and (edit := edit_after_rollout(facts, rollout)) is not None:
            # Its pods ran until a ConfigMap they read was edited: the edit, not the rollout, is the likely cause.
            failing = f"{len(own_failing)} of its pods are failing: {', '.join(own_failing[:5])}"
            return edit_decision(facts, rollout.deployment, edit, [failing], rollout)
        if rollout.unfinished and own_failing:
            return roll_back(
                rollout,
                "unfinished rollout with failing pods",
                ns,
                f"{rollout.kind} {rollout.deployment}'s rollout of revision {rollout.revision} "
                f"({', '.join(rollout.images)}) has not finished in {age_text(rollout.minutes_ago)}: only its new pods "
                "fail while the earlier revision's serve. Roll back to the serving revision (raising a limit or "
                "scaling would push the unproven revision over the pods that serve)",
                [
                    f"revision {rollout.revision} began rolling out {age_text(rollout.minutes_ago)} ago and has not "
                    f"finished; before: {', '.join(rollout.previous_images)}",
                    f"{len(own_failing)} of its new pods fail: {', '.join(own_failing[:5])}",
                    *pending_evidence(facts, rollout.deployment),
                ],
                facts.rollback_targets.get(f"{rollout.kind}/{rollout.deployment}"),
            )
        if own_failing or rollout.unavailable_replicas:
            evidence = [
                f"{rollout.kind} {rollout.deployment} rolled out revision {rollout.revision} {rollout.minutes_ago} "
                f"minutes ago ({', '.join(rollout.images)}"
                + (f"; before: {', '.join(rollout.previous_images)})" if rollout.previous_images else ")"),
                f"{len(own_failing)} of its pods are failing: {', '.join(own_failing[:5])}"
                if own_failing
                else f"{rollout.unavailable_replicas} replicas unavailable",
                *pending_evidence(facts, rollout.deployment),
            ]
            changed = facts.rollout_changes.get(rollout.deployment, [])
            if changed:
                evidence.append(f"revision {rollout.revision} changed: {'; '.join(changed[:3])}")
            return roll_back(
                rollout,
                "recent deployment with failing pods",
                ns,
                f"{rollout.kind} {rollout.deployment} changed in the last 2 hours and its pods fail since: rolling "
                "back is the fastest way to a known-good state" + config_caveat(facts, rollout.deployment, changed),
                evidence,
                facts.rollback_targets.get(f"{rollout.kind}/{rollout.deployment}"),
            )
    return None

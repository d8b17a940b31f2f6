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

Layer: tools.playbook.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field

from incident_response.tools.k8s.changes import Change
from incident_response.tools.k8s.oom_runs import OomRun, shape
from incident_response.tools.k8s.scheduling import Refusal
from incident_response.tools.playbook.investigate import investigation
from incident_response.tools.playbook.poisoning import Poisoning
from incident_response.tools.playbook.quota_blocks import RULE as QUOTA_RULE
from incident_response.tools.playbook.quota_blocks import QuotaBlock
from incident_response.tools.playbook.suspects import (
    DELETING,
    CanaryPair,
    NodeFailure,
    NodeState,
    Placement,
    find_failing_canary,
    find_node_failure,
)

# INVESTIGATE: pods fail and nothing seen explains it; the next call reads why (tools/playbook/investigate.py).
Action = Literal["ROLLBACK", "SCALE", "ISOLATE", "INVESTIGATE", "NONE"]
MAX_NAMED = 5
# A deploy this much younger than a failure's oldest warning may still have caused it (clocks, first back-off).
DEPLOY_MARGIN_MINUTES = 5
NO_ROOM = "unschedulable: no node has room"
OVERSIZED = "unschedulable: request larger than any node"


class RecentRollout(BaseModel):
    deployment: str = Field(description="The workload's name (a Deployment's unless `kind` says otherwise).")
    kind: Literal["deployment", "statefulset", "daemonset"] = "deployment"
    revision: int
    minutes_ago: int
    images: list[str]
    previous_images: list[str] = Field(description="Images of the revision before, when it is still kept.")
    failing_pods: int = Field(description="Pods of this deployment with problems now.")
    unavailable_replicas: int
    rolling_back: bool = Field(
        default=False,
        description="This revision is an older one a rollback brought back, still replacing the failing pods of the "
        "revision it undid (none of its own fails): not a deploy to undo.",
    )
    unfinished: bool = Field(
        default=False,
        description="Unfinished: only its new pods fail, an earlier revision's serve.",
    )


class Decision(BaseModel):
    primary_action: Action
    rule: str = Field(description="Which rule of the decision framework chose the action.")
    target: str | None = Field(description="What to act on: deployment/web, hpa/web, or a pod selector.")
    reason: str
    evidence: list[str]
    next_tool: str | None
    next_arguments: dict[str, Any]


@dataclass(frozen=True)
class RuledOut:
    """The human's answer that rules a workload's rollback out (tools/engine/rollback_answers.py keeps it)."""

    said: str  # "at 04:31 UTC the human answered (migrations_forward_only=true) that revision 3 of ... ran ..."
    answers: dict[str, bool]  # evaluate_decision's arguments as answered
    undo: str  # the evaluate_decision call that takes the answer back
    revision: int | None = None  # the answered revision's number now: a rollback below it goes past it


RULED_OUT_RULE = "recent deployment, rollback ruled out by the human"
SHARED_CONFIG_RULE = "pods fail on config a rollback does not restore"
# How an INVESTIGATE of an unknown cause says so; one that found the cause (a kubelet's or scheduler's message) keeps
# its "unknown cause, ..." rule (its rank) but not these words: cause_named() tells them apart.
CAUSE_UNKNOWN = "No mitigation fits before the cause is known"


@dataclass
class Facts:
    """What the assessment observed, already shaped; every field is plain data."""

    namespace: str
    failing: dict[str, list[str]] = field(default_factory=dict)  # component -> failing pod names with status
    recent_rollouts: list[RecentRollout] = field(default_factory=list)
    near_limit: dict[str, list[str]] = field(default_factory=dict)  # component -> "pod cpu 98% of limit"
    saturated_hpas: list[tuple[str, str, str]] = field(default_factory=list)  # (hpa, target deployment, detail)
    oom_killed: dict[str, list[str]] = field(default_factory=dict)  # component -> pod names
    oom_runs: dict[str, OomRun] = field(default_factory=dict)  # pod -> when its last OOM kill was, after how long
    poisonings: list[Poisoning] = field(default_factory=list)
    unread: str | None = None  # the pods a truncated read left out ("1000 more pods"); None: every pod was read
    unavailable: dict[str, int] = field(default_factory=dict)  # deployment -> replicas unavailable, no pod failing
    placements: list[Placement] = field(default_factory=list)  # every pod read: where it runs, whether it fails
    nodes: dict[str, NodeState] = field(default_factory=dict)  # nodes hosting failing pods, as read
    canaries: list[CanaryPair] = field(default_factory=list)  # canary/stable pairs rollback_canary accepts
    # components that are StatefulSets or DaemonSets (name -> kind): no scale_deployment, set_memory_limit... for them
    workloads: dict[str, str] = field(default_factory=dict)
    # failing component -> minutes its pods have been failing at least (oldest Warning series still recurring)
    failing_for: dict[str, int] = field(default_factory=dict)
    # non-rollout changes of the last 2 hours, newest first (tools/k8s/changes.py), and when they were read
    changes: list[Change] = field(default_factory=list)
    now: datetime | None = None
    # deployment rolled out recently -> what the rollout changed in its pod template ("pod annotation checksum/...")
    rollout_changes: dict[str, list[str]] = field(default_factory=dict)
    # component -> its Pending pods the scheduler found no node for (PodScheduled False, Unschedulable)
    unschedulable: dict[str, list[str]] = field(default_factory=dict)
    # component -> why (the first pod's PodScheduled message): namespace-wide, a per-component view keeps them all
    refusals: dict[str, Refusal] = field(default_factory=dict)
    # component -> "pod crashed with: LINE", from the previous log of a pod that crashes on its own
    crash_lines: dict[str, str] = field(default_factory=dict)
    # "kind/name" -> (revision, why): roll back there, not to kubectl's default (which ran briefly or fails now)
    rollback_targets: dict[str, tuple[int, str]] = field(default_factory=dict)
    # pod -> the PodDisruptionBudget that refuses its eviction now (read when pods fail on some node)
    evictions_refused: dict[str, str] = field(default_factory=dict)
    paused: set[str] = field(default_factory=set)  # deployments whose rollout a human paused (spec.paused)
    # component -> (evicted pod count, "POD: MESSAGE") of its pods the kubelet evicted (phase Failed, reason Evicted)
    evicted: dict[str, tuple[int, str]] = field(default_factory=dict)
    # component -> "POD: MESSAGE" of a pod whose container cannot be created (CreateContainerConfigError: a missing
    # ConfigMap or Secret key; CreateContainerError): the cause is named, not unknown
    config_errors: dict[str, str] = field(default_factory=dict)
    # deployment rolled out recently -> check_rollback_safety's config warning: its pods fail on a key its rollback
    # target reads the same way (tools/playbook/shared_config.py): restore it, do not roll back
    shared_config: dict[str, str] = field(default_factory=dict)
    # deployment -> the PersistentVolumeClaims its pod template mounts (every replica shares them)
    shared_claims: dict[str, list[str]] = field(default_factory=dict)
    # "kind/name" -> the human's answer that rules rolling back its current revision out (forward-only migrations)
    ruled_out: dict[str, RuledOut] = field(default_factory=dict)
    deployments: set[str] | None = None  # the Deployments read (None: not known, every other component is taken as one)
    # deployment -> the ResourceQuota refusing its pod creates (its ReplicaFailure condition)
    quota_blocked: dict[str, QuotaBlock] = field(default_factory=dict)


def on_deployment(
    action: Action, rule: str, namespace: str, deployment: str, next_tool: str, reason: str, evidence: list[str]
) -> Decision:
    """A decision to act on one deployment, with the tool call that starts it."""
    return Decision(
        primary_action=action,
        rule=rule,
        target=f"deployment/{deployment}",
        reason=reason,
        evidence=evidence,
        next_tool=next_tool,
        next_arguments={"namespace": namespace, "deployment": deployment},
    )


def roll_back(
    rollout: RecentRollout,
    rule: str,
    namespace: str,
    reason: str,
    evidence: list[str],
    target: tuple[int, str] | None = None,
) -> Decision:
    """ROLLBACK of a recent rollout: rollback_deployment, or rollback_workload for a StatefulSet or DaemonSet.
    `target`: (revision, why) to roll back to instead of kubectl's default (tools/playbook/known_good.py)."""
    if target is not None:
        revision, why = target
        reason = f"{reason}: to revision {revision}, the known-good one"
        evidence = [*evidence[:4], f"revision {revision}, not the one kubectl rollout undo picks: {why}"]
    decision = roll_back_call(rollout, rule, namespace, reason, evidence)
    if target is not None:
        decision.next_arguments["to_revision"] = target[0]
    return decision


def roll_back_call(rollout: RecentRollout, rule: str, namespace: str, reason: str, evidence: list[str]) -> Decision:
    if rollout.kind == "deployment":
        return on_deployment("ROLLBACK", rule, namespace, rollout.deployment, "rollback_deployment", reason, evidence)
    return Decision(
        primary_action="ROLLBACK",
        rule=rule,
        target=f"{rollout.kind}/{rollout.deployment}",
        reason=reason,
        evidence=evidence,
        next_tool="rollback_workload",
        next_arguments={"namespace": namespace, "kind": rollout.kind, "workload": rollout.deployment},
    )


# StatefulSets and DaemonSets: replicas of a StatefulSet are members with their own data, a DaemonSet has none.


def cpu_decision(kind: str, namespace: str, name: str, lines: list[str]) -> Decision:
    """CPU at the limit: what a human can safely do, since no tool here scales these kinds."""
    if kind == "daemonset":
        reason = (
            f"{len(lines)} pods of daemonset {name} run at or near their CPU limit. A DaemonSet runs one pod per node: "
            "more replicas are not a thing it has. Raise its CPU limit (kubectl set resources daemonset/"
            f"{name} -c CONTAINER --limits=cpu=...; it then replaces its pods node by node), or spread the load over "
            "more nodes; no tool here plans either"
        )
    else:
        reason = (
            f"{len(lines)} pods of statefulset {name} run at or near their CPU limit. Scaling a StatefulSet adds "
            f"members ({name}-N, each with new empty claims from its volumeClaimTemplates): that adds capacity only "
            "when the app spreads load over its members (read replicas behind the Service), not for a single "
            "primary, and a clustered store may need its data rebalanced. Ask the service's owners; if they agree, "
            f"kubectl scale statefulset/{name} --replicas=N, else raise its CPU limit (kubectl set resources). No "
            "tool here plans either"
        )
    return Decision(
        primary_action="SCALE",
        rule=f"overloaded: CPU near limits ({kind})",
        target=f"{kind}/{name}",
        reason=reason,
        evidence=lines[:5],
        next_tool=None,
        next_arguments={},
    )


def store_caveat(facts: Facts, component: str) -> str:
    """A deployment that mounts a volume (a database, a queue) and runs at its CPU limit too: more replicas of
    `component` may only add load to it (no dependency graph here: said as a question)."""
    stores = sorted(c for c in facts.near_limit if c != component and c in facts.shared_claims)
    if not stores:
        return ""
    return (
        f"; but {', '.join(stores)} (its pods mount a volume: a database or queue) runs at its CPU limit too: if "
        f"{component} calls it, more {component} replicas add load to it; check {component}'s logs for timeouts to it "
        "first"
    )


def scaled_name(target: str) -> str:
    return target.split("/", 1)[-1]


def shared_volume_decision(name: str, claims: list[str], lines: list[str]) -> Decision:
    """CPU at the limit in a deployment whose pods mount a claim: more replicas would share one volume."""
    return Decision(
        primary_action="SCALE",
        rule="overloaded: CPU near limits (shared volume)",
        target=f"deployment/{name}",
        reason=f"{len(lines)} pods of deployment {name} run at or near their CPU limit, and its pods mount "
        f"{shared(claims)}: every replica would share that volume (a ReadWriteOnce claim attaches to one node; a "
        "second copy of a database on one data directory is refused or corrupts it). Raise its CPU limit (kubectl "
        f"set resources deployment/{name} --limits=cpu=...), or lower the load on it; no tool here plans either",
        evidence=lines[:5] + [f"deployment {name} mounts {shared(claims)}"],
        next_tool=None,
        next_arguments={},
    )


def shared(claims: list[str]) -> str:
    return ("PVC " if len(claims) == 1 else "PVCs ") + ", ".join(claims)


def oom_decision(kind: str, namespace: str, name: str, pods: list[str], facts: Facts) -> Decision:
    """OOMKilled: set_memory_limit with the kind."""
    return Decision(
        primary_action="SCALE",
        rule="out of memory: vertical scaling",
        target=f"{kind}/{name}",
        reason=oom_reason(f"{kind} {name}", name, pods, facts)
        + f" (set_memory_limit with kind={kind}"
        + (
            "; an ordered StatefulSet's plan also deletes the pods that never got Ready)"
            if kind == "statefulset"
            else ")"
        ),
        evidence=oom_evidence(pods, facts),
        next_tool="set_memory_limit",
        next_arguments={"namespace": namespace, "deployment": name, "kind": kind},
    )


def oom_reason(what: str, name: str, pods: list[str], facts: Facts) -> str:
    """'3 pods of X were OOMKilled' and what their killed runs say: a leak, a load peak, either,
    or a limit below the working set."""
    return f"{len(pods)} pods of {what} were OOMKilled" + shape(
        name, [facts.oom_runs[p] for p in pods if p in facts.oom_runs]
    )


def oom_evidence(pods: list[str], facts: Facts) -> list[str]:
    """Per pod, when it was killed, how long that run lasted and its memory now."""
    return [facts.oom_runs[p].text() if p in facts.oom_runs else f"{p} last terminated OOMKilled" for p in pods[:5]]


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
        f"service {', '.join(pair.services[:3])} sends traffic to both",
    ]
    evidence += [
        f"deployment {r.deployment} rolled out revision {r.revision} {r.minutes_ago} minutes ago "
        f"({', '.join(r.images)})"
        for r in facts.recent_rollouts
        if r.deployment == pair.canary
    ]
    return Decision(
        primary_action="ROLLBACK",
        rule="failing canary",
        target=f"deployment/{pair.canary}",
        reason=f"the canary {pair.canary} fails while {pair.stable} behind the same Service is healthy: scale the "
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
            f"deployment: the human runs `kubectl rollout resume deployment/{name} -n {facts.namespace}` first (the "
            f"paused rollout then continues until the rollback replaces it), then rollback_deployment({arguments})",
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
    # Only a deploy that keeps an earlier revision can be rolled back (a new deployment, or one whose history is
    # pruned, cannot): the others would point rollback_deployment at nothing and send the trees round.
    undoable = [r for r in facts.recent_rollouts if r.previous_images]
    for rollout in sorted(undoable, key=lambda r: r.minutes_ago):
        own_failing = facts.failing.get(rollout.deployment, [])
        if rollout.rolling_back and (own_failing or rollout.unavailable_replicas):
            return rollback_in_progress(rollout, ns, own_failing)
        if ruled(facts, rollout):
            continue  # the human said it cannot go back: judged on what its pods show (fix_forward below)
        if own_failing and rollout.deployment in facts.shared_config:
            return investigate(facts, rollout.deployment, SHARED_CONFIG_RULE, "", [])
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
    if facts.saturated_hpas:
        hpa, deployment, detail = facts.saturated_hpas[0]
        evidence = [f"hpa {hpa} ({deployment}): {detail}"] + [
            line for lines in facts.near_limit.values() for line in lines
        ]
        first = regression_first(facts, scaled_name(deployment), f"HPA {hpa} is at its maximum", evidence[:5])
        if first is not None:
            return first
        return Decision(
            primary_action="SCALE",
            rule="overloaded: HPA at max",
            target=f"hpa/{hpa}",
            reason=f"HPA {hpa} is pinned at its maximum with metrics above target: it cannot add capacity alone"
            + store_caveat(facts, scaled_name(deployment)),
            evidence=[f"hpa {hpa} ({deployment}): {detail}"]
            + [line for lines in facts.near_limit.values() for line in lines][:5],
            next_tool="override_hpa",
            next_arguments={"namespace": ns, "hpa": hpa},
        )
    if facts.near_limit:
        component, lines = max(facts.near_limit.items(), key=lambda item: len(item[1]))
        if (kind := facts.workloads.get(component)) is not None:
            return cpu_decision(kind, ns, component, lines)
        if claims := facts.shared_claims.get(component):
            return shared_volume_decision(component, claims, lines)
        first = regression_first(
            facts, component, f"{len(lines)} pods of {component} run at their CPU limit", lines[:5]
        )
        if first is not None:
            return first
        return on_deployment(
            "SCALE",
            "overloaded: CPU near limits",
            ns,
            component,
            "scale_deployment",
            f"{len(lines)} pods of {component} run at or near their CPU limit: add replicas to absorb the load"
            + store_caveat(facts, component),
            lines[:5],
        )
    if facts.oom_killed:
        component, pods = max(facts.oom_killed.items(), key=lambda item: len(item[1]))
        if (kind := facts.workloads.get(component)) is not None:
            return oom_decision(kind, ns, component, pods, facts)
        if facts.deployments is not None and component not in facts.deployments:
            return Decision(
                primary_action="SCALE",
                rule="out of memory: vertical scaling (pods of no workload)",
                target=f"pods of {component}",
                reason=f"{len(pods)} pods of {component} were OOMKilled, and no Deployment, StatefulSet or DaemonSet "
                "owns them (a Job's or bare pods): raise the memory limit in what creates them (a Job's pod template "
                "cannot change: recreate the Job, or edit its CronJob's jobTemplate); no tool here plans it",
                evidence=oom_evidence(pods, facts),
                next_tool=None,
                next_arguments={},
            )
        return on_deployment(
            "SCALE",
            "out of memory: vertical scaling",
            ns,
            component,
            "set_memory_limit",
            oom_reason(component, component, pods, facts),
            oom_evidence(pods, facts),
        )
    stuck = no_room(facts)
    if stuck is not None:
        return stuck
    if facts.failing or facts.unavailable:
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
                f"pods of {kind} {component} fail without a clear cause and it has no rollout of the last 2 hours to "
                "undo",
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
            return investigate(
                facts,
                component,
                "a ConfigMap its pods read changed before they failed, no recent deploy",
                f"pods of {component} fail, nothing was deployed in the last 2 hours, and ConfigMap {edited.name}, "
                "which they read, changed before they began failing: the likely cause",
                failing_evidence,
                known="Restore its previous data (from source control) instead of rolling back (a rollback restores no "
                "ConfigMap); to confirm",
            )
        return investigate(
            facts,
            component,
            "unknown cause, no recent deploy",
            f"pods of {component} fail without a clear cause and nothing was deployed in the last 2 hours",
            failing_evidence,
        )
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


def regression_first(facts: Facts, deployment: str, saturated: str, evidence: list[str]) -> Decision | None:
    """ROLLBACK of a deployment saturated since its rollout of the last 2 hours (review-assist7 H3): a release that
    costs more CPU per request looks like more load, to the HPA too, and more replicas would run more of it; the
    rollback tells the two apart. None when it has no such rollout to undo (or the human ruled it out)."""
    rollout = next(
        (
            r
            for r in sorted(facts.recent_rollouts, key=lambda r: r.minutes_ago)
            if r.kind == "deployment"
            and r.deployment == deployment
            and r.previous_images
            and not r.rolling_back
            and not ruled(facts, r)
        ),
        None,
    )
    if rollout is None:
        return None
    more = "raise the HPA (override_hpa)" if saturated.startswith("HPA") else "add replicas (scale_deployment)"
    when = f"revision {rollout.revision} {age_text(rollout.minutes_ago)} ago ({', '.join(rollout.images)}"
    why = (
        "a release that needs more CPU per request looks like more load, and more replicas would run more of it. Roll "
        f"back first; if CPU stays at the limit on the earlier revision, it is load: then {more}"
    )
    return roll_back(
        rollout,
        "saturated since a recent deploy",
        facts.namespace,
        f"{saturated}, and deployment {deployment} rolled out {when}; before: {', '.join(rollout.previous_images)}): "
        + why,
        [f"revision {rollout.revision} rolled out {age_text(rollout.minutes_ago)} ago", *evidence[:4]],
        facts.rollback_targets.get(f"deployment/{deployment}"),
    )


def ruled(facts: Facts, rollout: RecentRollout) -> bool:
    return f"{rollout.kind}/{rollout.deployment}" in facts.ruled_out


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


def cause_named(action: object, rule: object, reason: object) -> bool:
    """An INVESTIGATE (a decision's, or one the journal recorded) whose reason names the cause (a missing config key,
    an eviction, a quota, the scheduler)."""
    unknown = str(rule).startswith("unknown cause") and CAUSE_UNKNOWN in str(reason)
    return action == "INVESTIGATE" and not unknown


def investigate(
    facts: Facts, component: str, rule: str, why: str, evidence: list[str], *, after: str = "", known: str = ""
) -> Decision:
    """INVESTIGATE `component`: no mitigation fits what is seen (more replicas of a pod that fails on its own fail
    too), so the next call reads why it fails (tools/playbook/investigate.py)."""
    kind = facts.workloads.get(component) or (
        "deployment" if facts.deployments is None or component in facts.deployments else None
    )
    tool, arguments, read = investigation(facts.namespace, facts.placements, component)
    then = f"; {after}" if after else ""
    suspects = changes_before(facts, component)
    known = known or f"{CAUSE_UNKNOWN} (more replicas of a pod that fails on its own fail too)"
    unplaced = facts.unschedulable.get(component, [])
    refusal = facts.refusals.get(component)
    if refusal is not None and refusal.message and len(unplaced) >= len(facts.failing.get(component, [])):
        # Every failing pod waits for a node: the scheduler says why, and no pod of it runs to read.
        why = f"pods of {component} cannot be scheduled: {refusal.text()}"
        known = (
            "No node takes them as they are, so more replicas wait too: lower what they request (or the node "
            "selector, affinity or tolerations they need) in the manifest, or add nodes that fit them"
        )
        if refusal.kind == "pods":  # the nodes' pod count, not requests: see pod_limit
            known = "The nodes hold as many pods as they allow (max-pods): add nodes or raise max-pods"
        read = "top_nodes shows what each node can allocate and holds"
        tool, arguments = "top_nodes", {}
    elif (gone := facts.evicted.get(component)) and gone[0] >= len(still_failing(facts, component)):
        # Every failing pod is an eviction's leftover: the kubelet said why, and its controller replaced them.
        count, sample = gone
        why = f"{count} pods of {component} were evicted by the kubelet ({sample})"
        known = (
            "Evicted pods stay listed (Failed) until deleted; their controller started replacements, so nothing is to "
            "undo: find what the message names (a container's disk or memory use, a node's pressure) before it "
            f"recurs, then delete the Failed pods (kubectl delete pod -n {facts.namespace} "
            "--field-selector=status.phase=Failed)"
        )
        read = "verify_recovery shows whether the replacements serve"
        tool, arguments = "verify_recovery", {"namespace": facts.namespace, "deployment": component}
    elif config := facts.config_errors.get(component):
        # The kubelet names what is missing: the cause is known, and it is not in the pods' code.
        why = f"pods of {component} cannot create their container: {config}"
        known = (
            "Its spec, or a ConfigMap or Secret it reads, names what is missing: restore that (from source control) "
            "or roll back the change that asked for it; until then every pod that starts (a restart, a drain, a "
            "rollout) fails the same way"
        )
        if shared := facts.shared_config.get(component):
            known = shared[0].upper() + shared[1:]  # the recent deploy did not ask for it: a rollback fails too
        read = f"{tool} shows since when"
    if suspects:
        # A non-rollout change of the last 2 hours made before the failure began: the first suspect.
        why += f"; it fails since a change that was not a rollout: {'; '.join(suspects)}"
        evidence = [f"change: {s}" for s in suspects] + evidence
    return Decision(
        primary_action="INVESTIGATE",
        rule=rule,
        target=f"{kind}/{component}" if kind else f"pods of {component}",  # a bare pod's, a Job's: no workload here
        reason=f"{why}. {known}: {read}{then}",
        evidence=(([facts.crash_lines[component]] if component in facts.crash_lines else []) + evidence)[:5],
        next_tool=tool,
        next_arguments=arguments,
    )


STARTING = ("ContainerCreating", "PodInitializing", "Pending")


def still_failing(facts: Facts, component: str) -> list[str]:
    """The component's failing pods less those only starting (an evicted pod's replacement, say)."""
    return [p for p in facts.failing.get(component, []) if (p.split(" ") + ["", ""])[1] not in STARTING]


def config_caveat(facts: Facts, deployment: str, changed: list[str]) -> str:
    """What a rollback cannot undo: a ConfigMap the pods read, changed in the window (or a rollout that changed only
    pod annotations, a config checksum bump): its pods read the current data after the rollback too."""
    edited = [c for c in facts.changes if c.kind == "ConfigMap" and deployment in c.selects]
    if edited and facts.now is not None:
        return (
            f"; but the rollback restores the pod template, not {edited[0].text(facts.now)}: its new pods read the "
            "CURRENT data, so restore that first (check_rollback_safety's config check)"
        )
    if changed and all(c.startswith("pod annotation ") for c in changed):
        return (
            "; the rollout changed only pod annotations (a config checksum?): the rollback restores the template, not "
            "the ConfigMaps or Secrets its pods read (check_rollback_safety's config check)"
        )
    return ""


def config_cause(facts: Facts, component: str) -> Change | None:
    """A ConfigMap the component's pods read, changed in the window before they began failing (the failure's start
    known from its Warning events, with the deploy margin): with no rollout since, the likely cause."""
    since = facts.failing_for.get(component)
    if facts.now is None or since is None:
        return None
    now = facts.now
    return next(
        (
            c
            for c in facts.changes
            if c.kind == "ConfigMap"
            and component in c.selects
            and not c.ours
            and c.minutes_ago(now) + DEPLOY_MARGIN_MINUTES >= since
        ),
        None,
    )


def changes_before(facts: Facts, component: str) -> list[str]:
    """The recent non-rollout changes that may explain `component`'s failure (made before it began, with the deploy
    margin), those touching its own pods first (a policy selecting them, a ConfigMap they read); at most two."""
    if facts.now is None:
        return []
    now = facts.now
    since = facts.failing_for.get(component)
    fitting = [
        c
        for c in facts.changes
        if (since is None or c.minutes_ago(now) + DEPLOY_MARGIN_MINUTES >= since)
        and not (c.kind == "Deployment" and c.name == component)
        and not (c.kind == "Service" and c.what.startswith("created"))  # a new Service breaks no caller
        and not c.ours  # this incident's own measures are followed by verify_recovery, not suspected
    ]
    fitting.sort(key=lambda c: component not in c.selects)
    return [c.text(now) for c in fitting[:2]]


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


def age_text(minutes: int) -> str:
    if minutes >= 2 * 24 * 60:
        return f"{minutes // (24 * 60)} days"
    if minutes >= 120:
        return f"{minutes // 60} hours"
    return f"{minutes} minutes"


def group_by(pairs: list[tuple[str, str]]) -> dict[str, list[str]]:
    grouped: dict[str, list[str]] = defaultdict(list)
    for key, value in pairs:
        grouped[key].append(value)
    return dict(grouped)

"""The decision framework's vocabulary: Facts (what the assessment observed, shaped), Decision (the one primary
action it answers), the rule names other modules test for, and the calls every rule builds a decision with
(act on a deployment, roll a recent rollout back).

Layer: tools.playbook.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Literal

from pydantic import BaseModel, Field

from incident_response.tools.k8s.attach_waits import AttachWait
from incident_response.tools.k8s.changes import Change
from incident_response.tools.k8s.memory_climb import Sample
from incident_response.tools.k8s.oom_runs import OomRun
from incident_response.tools.k8s.scheduling import Refusal
from incident_response.tools.playbook.poisoning import Poisoning
from incident_response.tools.playbook.quota_blocks import QuotaBlock
from incident_response.tools.playbook.suspects import (
    CanaryPair,
    NodeState,
    Placement,
)

# INVESTIGATE: pods fail and nothing seen explains it; the next call reads why (tools/playbook/investigate.py).
Action = Literal["ROLLBACK", "SCALE", "ISOLATE", "INVESTIGATE", "NONE"]
MAX_NAMED = 5
# A deploy this much younger than a failure's oldest warning may still have caused it (clocks, first back-off).
DEPLOY_MARGIN_MINUTES = 5
# Between the API server's managedFields times and the kubelet's event times: a change this much after a failure's
# first Warning still counts as made before it.
CLOCK_SKEW = timedelta(seconds=30)
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
ATTACH_RULE = "a rollout's new pods wait for a volume the old pods hold"  # Multi-Attach (tools/k8s/attach_waits.py)
# How an INVESTIGATE of an unknown cause says so; cause_named() tells it from one that found the cause.
CAUSE_UNKNOWN = "No mitigation fits before the cause is known"
# What an "unknown cause, ..." INVESTIGATE becomes when the pods' own status names the cause (investigate_decisions):
# the rule a result shows must not call unknown what its reason names (ranked where the unknown ones are).
UNPLACED_RULE = "the scheduler places no pod of it"
EVICTED_RULE = "its pods were evicted by the kubelet"
CONFIG_ERROR_RULE = "a ConfigMap or Secret its pods need is missing"
JOB_FAILED_RULE = "the Job failed"
# A ConfigMap edit as the likely cause (config_edit_decisions): with no deploy in the window, or after a deploy whose
# pods ran until the edit.
EDIT_RULE = "a ConfigMap its pods read changed before they failed, no recent deploy"
EDIT_AFTER_DEPLOY_RULE = "a ConfigMap its pods read changed after their deploy, before they failed"


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
    # component -> its running pods' memory now against their uptime (tools/k8s/memory_climb.py), where killed
    memory_samples: dict[str, list[Sample]] = field(default_factory=dict)
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
    # failing component -> when that series began: a change made after it did not start the failure
    failing_since: dict[str, datetime] = field(default_factory=dict)
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
    # deployment rolled out recently -> "<tag> was pushed again: revision N's pods run sha256:..., revision M's ..."
    # (tools/k8s/image_digests.py): its pods and the previous revision's run one tag under different digests
    repushed: dict[str, str] = field(default_factory=dict)
    # component -> a pod of it waiting for a ReadWriteOnce volume attached to another node (Multi-Attach) and who
    # holds it (tools/k8s/attach_waits.py): the cause is named, and more replicas would wait too
    attach_waits: dict[str, AttachWait] = field(default_factory=dict)
    # Job -> why the job controller failed it ("BackoffLimitExceeded: Job has reached the specified backoff limit"),
    # from its Warning event: its pods are the Job's component (podstatus.component_of)
    job_failures: dict[str, str] = field(default_factory=dict)
    # deployment -> the PersistentVolumeClaims its pod template mounts (every replica shares them)
    shared_claims: dict[str, list[str]] = field(default_factory=dict)
    # "kind/name" -> the human's answer that rules rolling back its current revision out (forward-only migrations)
    ruled_out: dict[str, RuledOut] = field(default_factory=dict)
    deployments: set[str] | None = None  # the Deployments read (None: not known, every other component is taken as one)
    # deployment -> the ResourceQuota refusing its pod creates (its ReplicaFailure condition)
    quota_blocked: dict[str, QuotaBlock] = field(default_factory=dict)
    # deployment -> what the namespace's LimitRange refuses in its pod creates (tools/k8s/limit_refusals.py)
    limit_refused: dict[str, str] = field(default_factory=dict)
    # deployment rolled out recently -> "CALLER_POD: LINE": the scaled caller's log names its Service as the upstream
    # of an error (tools/assess/upstream_reads.py; read only beside a SCALE of a deployment that did not roll out)
    upstream_errors: dict[str, str] = field(default_factory=dict)


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


def ruled(facts: Facts, rollout: RecentRollout) -> bool:
    return f"{rollout.kind}/{rollout.deployment}" in facts.ruled_out


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

"""The ROLLBACK decision tree for a StatefulSet or a DaemonSet, pure like tools/playbook/trees.py: a recent
revision to undo, an earlier one that worked, and (a StatefulSet's) data its claims keep. The facts come from
tools/decide/workload_facts.py; PROCEED names rollback_workload.

Layer: tools.playbook.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from incident_response.tools.playbook.trees import (
    RECENT_MINUTES,
    Answer,
    Answers,
    Conclusion,
    Elsewhere,
    Walk,
    try_instead,
)
from incident_response.tools.playbook.trees_rollback import SafetyCheck, stop_on_shared_config


@dataclass
class WorkloadRollbackFacts:
    kind: str  # statefulset | daemonset
    name: str
    current_revision: int | None
    minutes_since_rollout: int | None  # since the current revision was created; None: unknown
    rollout_evidence: list[str]
    target_revision: int | None  # the revision a rollback would return to; None: none kept
    target_evidence: list[str] = field(default_factory=list)  # how long it served, pods still running it
    target_still_serving: int = 0  # pods running the target revision and Ready now
    # tools/playbook/known_good.py's judgement of the target (a warning: it ran briefly or its pods fail now)
    target_known: SafetyCheck | None = None
    claims: list[str] = field(default_factory=list)  # a StatefulSet's PersistentVolumeClaims
    stuck: list[str] = field(default_factory=list)  # pods the rollback would wait on (the plan deletes them)
    # What its update strategy leaves to a human (OnDelete, a partition over bad pods): check_rollback_safety's words.
    strategy: list[str] = field(default_factory=list)
    # pods fail on a ConfigMap/Secret the target reads the same way (config_failures): restore it, do not roll back
    shared_config: SafetyCheck | None = None


def workload_rollback_tree(facts: WorkloadRollbackFacts, answers: Answers, where: Elsewhere) -> Walk:
    walk = Walk()
    kind, name, ns = facts.kind, facts.name, where.namespace
    q = f"Was {kind} {name} rolled out in the last 2 hours?"
    minutes = facts.minutes_since_rollout
    if minutes is None or minutes > RECENT_MINUTES:
        why = f"{kind} {name} has no rollout in the last 2 hours to undo"
        answer: Answer = "unknown" if minutes is None else "no"
        return walk.stop(q, answer, "cluster", facts.rollout_evidence, try_instead(where, ("ISOLATE",), name, why))
    walk.go(q, "yes", "cluster", facts.rollout_evidence)

    q = "Is there an earlier revision, known to have worked, to go back to?"
    if facts.target_revision is None:
        why = f"{kind} {name} keeps no earlier revision to go back to"
        return walk.stop(q, "no", "cluster", facts.rollout_evidence, try_instead(where, ("ISOLATE",), name, why))
    known = facts.target_known
    if known is not None and known.status == "warning" and not answers.revision_known_good:
        return walk.stop(
            q,
            "no",
            "cluster",
            [*facts.target_evidence, *known.evidence],
            Conclusion(
                verdict="CHECK_OLDER",
                reason=f"revision {facts.target_revision} of {name} is not known to be good ({known.detail}): look at "
                "older revisions and evaluate again with to_revision"
                + (
                    ", or, if the human knows it worked, call again with revision_known_good=true"
                    if answers.revision_known_good is None
                    else ""
                ),
                next_tool="rollout_history",
                next_arguments={"namespace": ns, "deployment": name, "kind": kind},
            ),
        )
    walk.go(q, "yes" if facts.target_evidence else "unknown", "cluster", facts.target_evidence)
    if (config := facts.shared_config) is not None:  # as the Deployment walk: check_rollback_safety's CHECK FIRST
        return stop_on_shared_config(walk, name, facts.target_revision, config, where)
    if not facts.target_still_serving:
        walk.cautions.append(
            f"No pod of {name} runs revision {facts.target_revision} now: its having worked rests on how long it served"
        )

    if kind == "statefulset" and facts.claims:
        q = (
            f"Did revision {facts.current_revision} of {name} write data (schema, file format) that revision "
            f"{facts.target_revision} cannot read?"
        )
        claims = [f"PersistentVolumeClaims {', '.join(facts.claims)} keep what the newer revision wrote"]
        if answers.migrations_forward_only is None:
            return walk.stop(
                q,
                "unknown",
                "unanswered",
                claims,
                Conclusion(
                    verdict="NEEDS_ANSWER",
                    reason=f"a StatefulSet's claims are not rolled back: revision {facts.target_revision} will read "
                    "whatever the newer one stored, and only a human knows whether it changed the format",
                    question=f"Did {name} revision {facts.current_revision} migrate or rewrite its stored data in a "
                    f"way revision {facts.target_revision} cannot read?",
                    answer_with="migrations_forward_only",
                ),
            )
        if answers.migrations_forward_only:
            return walk.stop(
                q,
                "yes",
                "caller",
                claims,
                Conclusion(
                    verdict="DO_NOT",
                    reason=f"revision {facts.target_revision} of {name} would meet data it cannot read: roll forward "
                    "with a fix instead, or contain the damage (ISOLATE)",
                ),
            )
        walk.go(q, "no", "caller", claims)

    if facts.stuck:
        walk.cautions.append(
            f"{', '.join(facts.stuck)} never got Ready on the bad revision: the plan deletes them, or the StatefulSet "
            "would wait on them forever"
        )
    if kind == "statefulset" and not any("OnDelete" in c for c in facts.strategy):
        walk.cautions.append(f"statefulset {name} rolls back one pod at a time from the highest ordinal")
    walk.cautions += facts.strategy
    arguments: dict[str, object] = {"namespace": ns, "kind": kind, "workload": name}
    arguments["to_revision"] = facts.target_revision
    return walk.end(
        Conclusion(
            verdict="PROCEED",
            reason=f"{kind} {name} changed {minutes} minutes ago and revision {facts.target_revision} worked before: "
            "roll it back",
            next_tool="rollback_workload",
            next_arguments=arguments,
        )
    )

"""The playbook's three mitigation decision trees (should I roll back, scale, isolate?) as pure functions.

Each walk takes what the cluster showed (facts gathered by tools/decide/*_reads.py) and what only a human can say (the
caller's answers), asks the tree's questions in order, records who answered each one and where the tree went, and
ends in one outcome. A question the cluster cannot answer and the caller left open stops the walk with
NEEDS_ANSWER, naming the argument that answers it, rather than guessing.

This module holds what every tree shares (the answers, the steps, the walk, where else to go); the trees are
trees_rollback.py, trees_scale.py, trees_isolate.py, trees_workload.py (StatefulSet/DaemonSet rollback) and
trees_canary_node.py.

Layer: tools.playbook.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from pydantic import BaseModel, Field

TreeVerdict = Literal["PROCEED", "TRY_INSTEAD", "DO_NOT", "FIX_FIRST", "NEEDS_ANSWER", "CHECK_OLDER", "NOTHING_TO_DO"]
Answer = Literal["yes", "no", "unknown"]
Source = Literal["cluster", "caller", "unanswered"]
Alternative = Literal["ROLLBACK", "SCALE", "ISOLATE", "VERTICAL_SCALING"]

RECENT_MINUTES = 120

MAX_EVIDENCE = 5


class TreeStep(BaseModel):
    question: str
    answer: Answer
    source: Source = Field(description="cluster: observed; caller: the human's answer; unanswered: nobody said.")
    evidence: list[str] = Field(description=f"What the answer rests on (at most {MAX_EVIDENCE} lines).")
    then: str = Field(description="Where the tree went from this answer.")


class Conclusion(BaseModel):
    verdict: TreeVerdict
    reason: str
    alternative: Alternative | None = None
    question: str | None = Field(default=None, description="With NEEDS_ANSWER: what to ask the human.")
    answer_with: str | None = Field(default=None, description="With NEEDS_ANSWER: the argument carrying the answer.")
    next_tool: str | None = None
    next_arguments: dict[str, Any] = Field(default_factory=dict)


@dataclass
class Answers:
    """The caller's answers; None = not answered."""

    data_integrity_at_risk: bool | None = None
    can_go_offline: bool | None = None
    migrations_forward_only: bool | None = None
    stateful_changes_uncertain: bool | None = None
    load_related: bool | None = None
    revision_known_good: bool | None = None


@dataclass
class Elsewhere:
    """What the rest of the namespace shows, for choosing the action to try instead."""

    namespace: str
    recent_rollout: str | None = None  # rolled out in the last 2 hours (failing first), or a failing canary
    poisoning: bool = False  # some component's failures name another component
    failing_node: str | None = None  # a NotReady node the failing pods are concentrated on
    # components whose pods fail with nothing to explain it (the assessment's INVESTIGATE) -> the read that finds why:
    # no SCALE is suggested for them, and a DO_NOT names that read as its next call
    reads: dict[str, tuple[str, dict[str, Any]]] = field(default_factory=dict)
    # alternatives the human's answers rule out (forward-only migrations, data older code may not read: no ROLLBACK)
    ruled_out: frozenset[str] = frozenset()
    # components the assessment found nothing to explain (INVESTIGATE): no deploy, load or other component is its
    # cause, so no alternative is suggested for them at all, only their read
    unexplained: frozenset[str] = frozenset()
    # of those, the rule the assessment named (its pods fail on a missing config key, a quota, ...): said, not "nothing"
    causes: dict[str, str] = field(default_factory=dict)
    # components with failing pods or unavailable replicas: any other one asked about is quiet, nothing to act on
    troubled: frozenset[str] | None = None


@dataclass
class Walk:
    steps: list[TreeStep] = field(default_factory=list)
    cautions: list[str] = field(default_factory=list)
    outcome: Conclusion | None = None

    def go(
        self, question: str, answer: Answer, source: Source, evidence: list[str], then: str = "next question"
    ) -> None:
        self.steps.append(
            TreeStep(question=question, answer=answer, source=source, evidence=evidence[:MAX_EVIDENCE], then=then)
        )

    def stop(self, question: str, answer: Answer, source: Source, evidence: list[str], outcome: Conclusion) -> Walk:
        then = outcome.verdict + (f" {outcome.alternative}" if outcome.alternative else "")
        self.go(question, answer, source, evidence, then=f"stop: {then}")
        self.outcome = outcome
        return self

    def end(self, outcome: Conclusion) -> Walk:
        self.outcome = outcome
        return self


def needs(question: str, argument: str, reason: str) -> Conclusion:
    return Conclusion(verdict="NEEDS_ANSWER", reason=reason, question=question, answer_with=argument)


def try_instead(where: Elsewhere, options: tuple[Alternative, ...], deployment: str | None, why: str) -> Conclusion:
    """TRY_INSTEAD the first alternative the namespace shows evidence for; DO_NOT when none has any. SCALE is no
    alternative for a deployment whose pods fail with nothing to explain it: the DO_NOT then names the read."""
    read = where.reads.get(deployment) if deployment else None
    for option in options:
        if deployment in where.unexplained or (read is not None and option == "SCALE"):
            continue  # the assessment's INVESTIGATE already says what comes first (a read, or a human's fix)
        if option in where.ruled_out:
            continue
        if option == "ROLLBACK" and where.recent_rollout:
            arguments = {"namespace": where.namespace, "action": "ROLLBACK", "deployment": where.recent_rollout}
        elif option == "ISOLATE" and (where.poisoning or where.failing_node):
            arguments = {"namespace": where.namespace, "action": "ISOLATE"}
            if where.failing_node and not where.poisoning:
                arguments["node"] = where.failing_node
        elif option == "SCALE":
            arguments = {"namespace": where.namespace, "action": "SCALE"}
            if deployment:
                arguments["deployment"] = deployment
        else:
            continue
        return Conclusion(
            verdict="TRY_INSTEAD",
            alternative=option,
            reason=f"{why}; walk the {option} tree next",
            next_tool="evaluate_decision",
            next_arguments=arguments,
        )
    if read is not None:
        tool, arguments = read
        cause = where.causes.get(deployment or "")
        # The assessment's INVESTIGATE may name the cause (a missing config key, a quota): said, not "nothing".
        fails = (
            f"its pods fail as assess_namespace says ({cause}): that comes first"
            if cause
            else "its pods fail with nothing to explain it, so find out why before acting"
        )
        return Conclusion(
            verdict="DO_NOT",
            reason=f"{why}, and nothing points to {' or '.join(options)} either: {fails} ({tool})",
            next_tool=tool,
            next_arguments=dict(arguments),
        )
    if deployment and where.troubled is not None and deployment not in where.troubled:
        return Conclusion(
            verdict="NOTHING_TO_DO",
            reason=f"{why}, nothing points to {' or '.join(options)} either, and no pod of {deployment} fails: there "
            "is nothing to act on now (verify_recovery watches it)",
        )
    return Conclusion(
        verdict="DO_NOT",
        reason=f"{why}, and nothing points to {' or '.join(options)} either: read the failing pods' logs and events "
        "(get_logs, list_events) before acting",
    )


def fixed_forward(where: Elsewhere, name: str, reason: str) -> Conclusion:
    """DO_NOT roll back: fix forward; where the deployment's pods fail on their own, the read that says what to fix
    is the next call."""
    tool, arguments = where.reads.get(name) or (None, {})
    return Conclusion(verdict="DO_NOT", reason=reason, next_tool=tool, next_arguments=dict(arguments))

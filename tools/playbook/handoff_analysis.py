"""The handoff's hypotheses (with evidence for and against) and its open questions. Pure: no I/O.

Layer: tools.playbook.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from incident_response.tools.engine.journal import IncidentRow
from incident_response.tools.engine.measures import Measure
from incident_response.tools.playbook.handoff_facts import BadRevision, ClusterFacts, about, clean, first_warnings
from incident_response.tools.playbook.handoff_models import (
    MAX_EVIDENCE_LINES,
    MAX_HYPOTHESES,
    MAX_QUESTIONS,
    ActionTaken,
    DeploymentState,
    Hypothesis,
)
from incident_response.tools.playbook.rules import Decision

# What trying each mitigation assumed about the cause.
ASSUMES = {
    "rollback_deployment": "The change rolled out to deployment {name} caused the failure",
    "rollback_helm_release": "The last upgrade of Helm release {name} caused the failure",
    "rollback_canary": "The canary version ({name}) is faulty",
    "scale_deployment": "Deployment {name} had too little capacity for the load",
    "override_hpa": "The autoscaler {name} could not add enough replicas for the load",
    "set_memory_limit": "Deployment {name}'s memory limit is too low for its work",
    "remove_pods_from_service": "The pods taken out of service {name} were harming the rest",
    "isolate_network": "The pods isolated by NetworkPolicy {name} were harming the rest",
    "patch_service_selector": "Some pods behind service {name} were bad and routing around them helps",
    "switch_ingress_backend": "The backend behind ingress {name} was bad",
    "shift_traffic": "The version getting traffic through {name} was bad",
    "cordon_node": "Node {name} is unhealthy",
    "drain_node": "Node {name} is unhealthy",
    "delete_pod": "One pod instance ({name}) was bad, not the code it runs",
}
DECISION_SAYS = {
    "ROLLBACK": "A recent rollout is failing ({target})",
    "SCALE": "Load is more than the capacity ({target})",
    "ISOLATE": "One component is poisoning others ({target})",
    "NONE": "Nothing in namespace {namespace} is failing now",
}


def decision_statement(action: str, target: str | None, next_tool: str | None, namespace: str) -> str:
    """What a decision assumed about the cause: its mitigation's assumption when it names one (an OOM's SCALE is a
    too-low memory limit, not too much load), else the framework's reading of the action."""
    assumed = ASSUMES.get(str(next_tool))
    if assumed is not None and target and "/" in target:
        return assumed.format(name=target.partition("/")[2])
    return DECISION_SAYS[action].format(target=target, namespace=namespace)


def target_name(action: ActionTaken) -> str:
    return action.target.split(" ", 1)[0].partition("/")[2]


def clock(when: datetime) -> str:
    return when.strftime("%H:%M UTC")


def verdict_evidence(states: list[DeploymentState], name: str) -> tuple[list[str], list[str]]:
    """(for, against) from the deployment's current verdict (every verified deployment's, when it is not one)."""
    chosen = [s for s in states if s.deployment == name] or states
    support, against = [], []
    for state in chosen:
        if state.verdict in ("RECOVERED", "RECOVERING"):
            support.append(f"verify_recovery now says {state.verdict} for {state.deployment}")
        elif state.verdict == "DEGRADED":
            failing = ", ".join(c.name for c in state.checks if c.passed is False)
            against.append(f"verify_recovery still says DEGRADED for {state.deployment} (failing: {failing})")
    return support, against


def timing_evidence(bad: BadRevision, facts: ClusterFacts) -> tuple[list[str], list[str]]:
    """Did the failure start after the suspect revision rolled out?"""
    warnings = first_warnings([e for e in facts.warnings if about(e, bad.deployment)])
    if bad.rolled_out is None or not warnings:
        return [], []
    when, reason, _ = warnings[0]
    minutes = abs(int((when - bad.rolled_out).total_seconds() // 60))
    if when >= bad.rolled_out:
        return [f"the first {reason} warning came {minutes} min after revision {bad.revision} rolled out"], []
    return [], [f"{reason} warnings began {minutes} min before revision {bad.revision} rolled out"]


@dataclass(frozen=True)
class RecordedDecision:
    """An assess_namespace decision the journal kept (event "assessed"): what the response was based on."""

    at: datetime
    detail: dict[str, Any]


def hypotheses(
    actions: list[ActionTaken],
    states: list[DeploymentState],
    bad: list[BadRevision],
    facts: ClusterFacts,
    decision: Decision | None,
    namespace: str,
    recorded: Sequence[RecordedDecision] = (),
) -> list[Hypothesis]:
    found: dict[str, Hypothesis] = {}
    for action in actions:
        template = ASSUMES.get(action.tool)
        if template is None or action.restores or not action.ran:
            continue
        name = target_name(action)
        statement = template.format(name=name)
        entry = found.setdefault(
            statement,
            Hypothesis(
                statement=statement, source=f"mitigation tried: {action.tool}", evidence_for=[], evidence_against=[]
            ),
        )
        at = clock(action.finished_at or action.planned_at)
        if action.result == "succeeded":
            entry.evidence_for.append(f"{action.tool} succeeded at {at}")
            support, against = verdict_evidence(states, name)
            entry.evidence_for += support
            entry.evidence_against += against
        else:
            entry.evidence_against.append(f"untested: {action.tool} {action.result} at {at} ({action.message})")
        for revision in bad:
            if action.tool == "rollback_deployment" and revision.deployment == name:
                support, against = timing_evidence(revision, facts)
                entry.evidence_for += support
                entry.evidence_against += against
    # The assessments made during the incident come first: a fresh one after a successful mitigation says NONE.
    for past in recorded:
        picked = str(past.detail.get("primary_action"))
        if picked not in DECISION_SAYS or picked == "NONE":
            continue
        target, rule = str(past.detail.get("target") or ""), past.detail.get("rule")
        statement = decision_statement(picked, target, past.detail.get("next_tool"), namespace)
        if statement in found:  # the mitigation that tested this decision is already a hypothesis: back it
            found[statement].evidence_for.append(
                f"assess_namespace at {clock(past.at)} chose {picked} ({rule}): {past.detail.get('reason')}"
            )
            continue
        found[statement] = Hypothesis(
            statement=statement,
            source=f"assess_namespace at {clock(past.at)}, rule {rule}",
            evidence_for=[str(past.detail.get("reason")), *map(str, past.detail.get("evidence") or [])],
            evidence_against=[],
        )
    if decision is not None:
        statement = decision_statement(decision.primary_action, decision.target, decision.next_tool, namespace)
        if statement in found:
            found[statement].evidence_for.append(f"assess_namespace still finds it now ({decision.rule})")
        elif decision.primary_action != "NONE" or not found:
            found[statement] = Hypothesis(
                statement=statement,
                source=f"assess_namespace now, rule {decision.rule}",
                evidence_for=[decision.reason, *decision.evidence],
                evidence_against=[],
            )
        else:
            # Nothing fails now: that speaks for the hypotheses the response acted on, not a hypothesis of its own.
            for entry in found.values():
                entry.evidence_for.append(f"assess_namespace now finds nothing failing in {namespace}")
    return [
        h.model_copy(
            update={
                "evidence_for": [clean(e) for e in dict.fromkeys(h.evidence_for)][:MAX_EVIDENCE_LINES],
                "evidence_against": [clean(e) for e in h.evidence_against][:MAX_EVIDENCE_LINES],
            }
        )
        for h in list(found.values())[:MAX_HYPOTHESES]
    ]


def open_questions(
    incident: IncidentRow,
    namespace: str,
    states: list[DeploymentState],
    actions: list[ActionTaken],
    measures: list[Measure],
    bad: list[BadRevision],
    decision: Decision | None,
    problems: list[str],
) -> list[str]:
    """What the next engineer still has to find out; `problems` are reads that failed while building the handoff."""
    questions = list(problems)
    if incident.declared_at is None:
        questions.append("The incident was never declared: what is its severity? (declare_incident)")
    if incident.namespace and incident.namespace != namespace:
        questions.append(
            f"The incident was declared for namespace {incident.namespace}; this handoff looked at "
            f"{namespace}. Is the other namespace affected too?"
        )
    if not states:
        questions.append(
            "No deployment was identified to verify recovery on; name one with incident_handoff(deployment=...)"
        )
    for state in states:
        if state.verdict is None:
            questions.append(f"Recovery of {state.deployment} could not be verified: {state.error}")
        elif state.verdict == "DEGRADED":
            questions.append(f"{state.deployment} is still DEGRADED: {state.summary}. What else is wrong?")
        elif state.verdict == "RECOVERING":
            questions.append(f"Recovery of {state.deployment} is not confirmed yet (RECOVERING): {state.summary}")
    if states and all(s.verdict == "RECOVERED" for s in states) and incident.stabilized_at is None:
        questions.append(
            f"Recovery holds but was not declared: declare_incident(incident_id={incident.id!r}, status='stabilized')"
        )
    for action in actions:
        if action.result == "unknown":
            questions.append(f"Did {action.tool} on {action.target} take effect? Its outcome is unknown.")
        elif action.result == "partial":
            questions.append(
                f"{action.tool} on {action.target} was only partly applied: was the rest finished or undone?"
            )
        elif action.result in ("pending", "approved", "executing"):
            questions.append(f"{action.tool} on {action.target} is still {action.result}: confirm or cancel it")
    if measures:
        listed = "; ".join(f"{m.tool} {m.target.kind.lower()}/{m.target.name}" for m in measures[:5])
        questions.append(f"{len(measures)} temporary measure(s) still in place ({listed}): when are they restored?")
    for revision in bad:
        images = f" ({', '.join(revision.images)})" if revision.images else ""
        questions.append(
            f"What in revision {revision.revision} of {revision.deployment}{images} fails? Compare it "
            f"with the running one: rollout_history(deployment={revision.deployment!r}, "
            f"revision={revision.revision})"
        )
    if decision is not None and decision.primary_action != "NONE":
        questions.append(
            f"The assessment still recommends {decision.primary_action} ({decision.target}): {decision.reason}"
        )
    return [clean(q, 500) for q in questions][:MAX_QUESTIONS]

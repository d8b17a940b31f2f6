"""The handoff's hypotheses (with evidence for and against) and its open questions. Pure: no I/O.

Layer: tools.playbook.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from incident_response.tools.engine.journal import CommandRow, IncidentRow
from incident_response.tools.k8s.oom_runs import EITHER, LEAK, PEAK, said
from incident_response.tools.playbook.decision import (
    ATTACH_RULE,
    CONFIG_ERROR_RULE,
    EDIT_AFTER_DEPLOY_RULE,
    EVICTED_RULE,
    NO_ROOM,
    OVERSIZED,
    RULED_OUT_RULE,
    SHARED_CONFIG_RULE,
    UNPLACED_RULE,
    Decision,
)
from incident_response.tools.playbook.handoff_facts import (
    BadRevision,
    ClusterFacts,
    about,
    clean,
    first_warnings,
    reference,
)
from incident_response.tools.playbook.handoff_focus import by_relation, suspect
from incident_response.tools.playbook.handoff_leads import (
    change_evidence,
    isolated_pods,
    node_evidence,
    poison_evidence,
    rollout_hypothesis,
    unexplained,
)
from incident_response.tools.playbook.handoff_models import (
    MAX_EVIDENCE_LINES,
    MAX_HYPOTHESES,
    MAX_QUESTIONS,
    ActionTaken,
    DeploymentState,
    Hypothesis,
    TemporaryMeasure,
)
from incident_response.tools.playbook.handoff_rollouts import Rollout, relation
from incident_response.tools.playbook.investigate_decisions import cause_named
from incident_response.tools.playbook.replica_writes import took_offline
from incident_response.tools.playbook.stabilization import CHANGED, acted_on

OBJECT = re.compile(r"[a-z]+/[a-z0-9][-a-z0-9.]*")
# What trying each mitigation assumed about the cause.
ASSUMES = {
    "rollback_deployment": "The change rolled out to deployment {name} caused the failure",
    "rollback_workload": "The change rolled out to {name} (a StatefulSet or DaemonSet) caused the failure",
    "rollback_helm_release": "The last upgrade of Helm release {name} caused the failure",
    "rollback_canary": "The canary version ({name}) is faulty",
    "scale_deployment": "Deployment {name} had too little capacity for the load",
    "override_hpa": "The autoscaler {name} could not add enough replicas for the load",
    "set_memory_limit": "The memory limit of {name} is too low for its work",
    "remove_pods_from_service": "The pods taken out of service {name} were harming the rest",
    "isolate_network": "The pods isolated by NetworkPolicy {name} were harming the rest",
    "patch_service_selector": "Some pods behind service {name} were bad and routing around them helps",
    "switch_ingress_backend": "The backend behind ingress {name} was bad",
    "shift_traffic": "The version getting traffic through {name} was bad",
    "cordon_node": "Node {name} is unhealthy",
    "drain_node": "Node {name} is unhealthy",
    "delete_pod": "One pod instance ({name}) was bad, not the code it runs",
}
OFFLINE = "Deployment {name} itself is faulty (it was taken offline: scaled to 0)"
# A raised limit on pods killed after hours of running: what its plan read of the kills is the hypothesis.
LEAKS = "{name} leaks memory (OOMKilled after hours of running): the raised limit only delays the next kill"
READINGS = {
    LEAK: LEAKS,
    PEAK: "The memory limit of {name} is below its peak load's need (pods OOMKilled together after runs of different "
    "lengths)",
    EITHER: "{name} leaks memory or its peak load needs more than its limit (OOMKilled after hours of running): its "
    "memory over time tells which",
}
DECISION_SAYS = {
    "ROLLBACK": "A recent rollout is failing ({target})",
    "SCALE": "Load is more than the capacity ({target})",
    "ISOLATE": "One component is poisoning others ({target})",
    "INVESTIGATE": "The cause is not known yet: no deploy, load or other component explains {target}",
    "NONE": "Nothing in namespace {namespace} is failing now",
}


# The fix-forward decision (rules.fix_forward) is an INVESTIGATE whose cause is known: the deploy it names.
RULED_OUT_SAYS = "A recent rollout is failing ({target}), and the human ruled out rolling it back: it is fixed forward"
# An INVESTIGATE whose cause is known (the scheduler says why its pods wait): not "the cause is not known yet".
# INVESTIGATE rules that clear a recent rollout of the deployment they name: its pods fail on config it did not change.
OTHER_CAUSE = (EDIT_AFTER_DEPLOY_RULE, SHARED_CONFIG_RULE)
RULE_SAYS = {
    OVERSIZED: "The pods of {target} ask for more than any node can allocate: no scale schedules them",
    NO_ROOM: "No node takes the Pending pods of {target}: the scheduler's reason is the evidence",
    ATTACH_RULE: "The new pods of {target} wait for a ReadWriteOnce volume its old pods hold on another node "
    "(Multi-Attach): the rollout's surge holds it up, not the release",
    SHARED_CONFIG_RULE: "The pods of {target} fail on a ConfigMap or Secret the revision before reads too (their "
    "status names it): restoring it is the fix, not the rollout's rollback",
}
NAMED_SAYS = (
    "The pods of {target} fail on what their own status names (see for:), not on a deploy, load or another component"
)
RULE_SAYS |= dict.fromkeys((UNPLACED_RULE, EVICTED_RULE, CONFIG_ERROR_RULE), NAMED_SAYS)


def decision_statement(
    action: str,
    target: str | None,
    next_tool: str | None,
    namespace: str,
    rule: object = None,
    reason: object = None,
) -> str:
    """What a decision assumed about the cause: its mitigation's assumption when it names one (an OOM's SCALE is a
    too-low memory limit, not too much load), the cause its rule names, else the framework's reading of the action
    (`rule`: the rule that chose it)."""
    if rule == RULED_OUT_RULE:
        return RULED_OUT_SAYS.format(target=target)
    assumed = ASSUMES.get(str(next_tool))
    if assumed is not None and target and OBJECT.fullmatch(target):  # kind/name, not a selector with a prefixed key
        return assumed.format(name=target.partition("/")[2])
    if action == "INVESTIGATE" and (said := RULE_SAYS.get(str(rule))) is not None:
        return said.format(target=target or f"namespace {namespace}")
    if reason is not None and cause_named(action, rule, reason):
        # An unknown cause's rule that then found it (a kubelet's message): the reason names it, not "not known yet".
        where = target or f"namespace {namespace}"
        if not str(rule).startswith("unknown cause"):  # a rule that is a cause ('a ConfigMap its pods read changed')
            return f"{where} fails as the assessment names it: {rule}"
        return NAMED_SAYS.format(target=where)
    return DECISION_SAYS[action].format(target=target, namespace=namespace)


def as_leak(statement: str, found: dict[str, Hypothesis]) -> str:
    """A decision to raise X's memory limit backs what a raise tried on X read of its kills (a leak, a peak, either)."""
    low = ASSUMES["set_memory_limit"].split("{name}")
    if not (statement.startswith(low[0]) and statement.endswith(low[1])):
        return statement
    name = statement.removeprefix(low[0]).removesuffix(low[1])
    return next((r for r in (t.format(name=name) for t in READINGS.values()) if r in found), statement)


def target_name(action: ActionTaken) -> str:
    return action.target.split(" ", 1)[0].partition("/")[2]


def clock(when: datetime) -> str:
    return when.strftime("%H:%M UTC")


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


def effect_evidence(action: ActionTaken) -> tuple[list[str], list[str]]:
    """What trying it showed: fixed or recovering speaks for the hypothesis, not fixed against it."""
    at = clock(action.finished_at or action.planned_at)
    if action.result != "succeeded":
        return [], [f"untested: {action.tool} {action.result} at {at} ({action.message})"]
    if action.effect in ("fixed", "recovering"):
        return [f"{action.tool} succeeded at {at}; {action.effect_detail}"], []
    if action.effect == "not_fixed":
        return [], [f"{action.tool} succeeded at {at} at the API but {action.effect_detail}"]
    return [], [f"untested: {action.tool} succeeded at {at} but was {action.effect_detail or 'not verified'}"]


def specific(
    row: CommandRow, action: ActionTaken, facts: ClusterFacts, bad: list[BadRevision]
) -> tuple[list[str], list[str]]:
    """The evidence particular to the kind of mitigation (see handoff_leads)."""
    name = target_name(action)
    support: list[str] = []
    against: list[str] = []
    if action.tool in ("rollback_deployment", "rollback_workload"):
        for revision in (b for b in bad if b.deployment == name):
            timing_for, timing_against = timing_evidence(revision, facts)
            support += change_evidence(revision) + timing_for
            against += timing_against
    elif action.tool in ("cordon_node", "drain_node"):
        support, against = node_evidence(name, facts)
    elif action.tool in ("remove_pods_from_service", "isolate_network"):
        pods = isolated_pods(row.plan)
        support = poison_evidence(pods, facts.warnings) + owner_rollouts(pods, facts)
    elif action.kind == "scale" and not took_offline(row.plan):
        support = [f"now: {line}" for line in facts.load.get(name, [])]
    return support, against


@dataclass(frozen=True)
class RecordedDecision:
    """An assess_namespace decision the journal kept (event "assessed"): what the response was based on."""

    at: datetime
    detail: dict[str, Any]


def suspected(hypothesis: Hypothesis, bad: list[BadRevision]) -> Hypothesis:
    """A rollback's hypothesis names the change it suspects, when the replaced revision's diff is known."""
    for revision in bad:
        tool = "rollback_deployment" if revision.kind == "deployment" else "rollback_workload"
        if revision.changes and hypothesis.statement == ASSUMES[tool].format(name=revision.deployment):
            statement = (
                f"Revision {revision.revision} of {revision.kind} {revision.deployment} caused the failure; "
                f"suspected change: {'; '.join(revision.changes)}"
            )
            return hypothesis.model_copy(update={"statement": statement})
    return hypothesis


def window_suspects(
    rows: list[CommandRow], actions: list[ActionTaken], bad: list[BadRevision], facts: ClusterFacts, namespace: str
) -> list[Rollout]:
    """Rollouts in the incident window RCA must rule out: all but a revision a rollback replaced, a rollout one of
    our mitigations started (a rollback, a raised limit), and those of deployments whose pods an isolation took out
    (the isolation's hypothesis names them). A deployment that was scaled keeps its rollout: capacity may have hidden
    a bad revision."""
    rolled_back = {target_name(a) for a in actions if a.kind == "rollback" and a.ran}
    isolated = [pod for row in rows if row.state in CHANGED for pod in isolated_pods(row.plan)]
    owners = {owner for pod in isolated if (owner := owner_of(pod, list(facts.available)))}
    began, _ = reference(facts)
    found = [
        r
        for r in unexplained(facts.rollouts, bad, owners)
        if (r.renumbered or (r.deployment, r.revision) not in facts.started_by)
        and not ((r.rollback or r.renumbered) and r.deployment in rolled_back)
        # The revision a rollback went back to and runs now is the known-good one, not a suspect; nor is a rollback
        # made after the failure began (going back cannot have started what it answered).
        and not (r.renumbered and r.current)
        and not (r.rollback and began and r.at > began)
        and suspect(r, facts)  # a workload created, not failing itself: nothing it ran before changed
    ]
    return by_relation(found, facts)


def owner_rollouts(pods: list[str], facts: ClusterFacts) -> list[str]:
    """When the deployments of the pods an isolation took out rolled out, against the first warning."""
    owners = {owner for pod in pods if (owner := owner_of(pod, list(facts.available)))}
    warning_at, warning = reference(facts)
    return [
        f"their deployment {r.deployment} rolled out "
        + (f"{', '.join(r.images)} ({r.later})" if r.renumbered else f"revision {r.revision}")
        + f" at {r.at.strftime('%H:%M:%S UTC')}, "
        f"{relation(r.at, warning_at, warning)}"
        for r in facts.rollouts
        if r.deployment in owners
    ]


def owner_of(pod: str, deployments: list[str]) -> str | None:
    """The deployment a pod's name comes from (deployment-<hash>-<suffix>), the longest matching name first."""
    return next((d for d in sorted(deployments, key=len, reverse=True) if pod.startswith(d + "-")), None)


def hypotheses(
    rows: list[CommandRow],
    actions: list[ActionTaken],
    bad: list[BadRevision],
    facts: ClusterFacts,
    decision: Decision | None,
    namespace: str,
    recorded: Sequence[RecordedDecision] = (),
    states: Sequence[DeploymentState] = (),
) -> list[Hypothesis]:
    """The mitigations' assumptions tested (with what trying each showed), the decisions recorded and the one now,
    and each rollout in the incident window no one acted on. A suspected change names the hypothesis it backs."""
    found: dict[str, Hypothesis] = {}
    for row, action in zip(rows, actions, strict=True):
        template = ASSUMES.get(action.tool)
        if action.tool == "scale_deployment" and took_offline(row.plan):
            template = OFFLINE  # taking it to 0 replicas says it is faulty, not short of capacity
        elif action.tool == "set_memory_limit" and (reading := said(str(row.plan.get("summary") or ""))):
            template = READINGS[reading]
        if template is None or action.restores or not action.ran or action.maintenance:
            continue
        statement = template.format(name=target_name(action))
        entry = found.setdefault(
            statement,
            Hypothesis(
                statement=statement, source=f"mitigation tried: {action.tool}", evidence_for=[], evidence_against=[]
            ),
        )
        tried_for, tried_against = effect_evidence(action)
        own_for, own_against = specific(row, action, facts, bad)
        entry.evidence_for += own_for + tried_for
        entry.evidence_against += tried_against + own_against
    # The assessments made during the incident come first: a fresh one after a successful mitigation says NONE.
    causes: set[str] = set()  # targets an assessment of this incident found the cause for
    for past in recorded:
        picked = str(past.detail.get("primary_action"))
        if picked not in DECISION_SAYS or picked == "NONE":
            continue
        target, rule = str(past.detail.get("target") or ""), past.detail.get("rule")
        reason = past.detail.get("reason")
        if picked == "INVESTIGATE" and cause_named(picked, rule, reason):
            causes.add(target)
        elif picked == "INVESTIGATE" and target in causes:
            # A later look that no longer sees the cause (a ConfigMap restored by hand hides the edit) adds no
            # "not known yet" beside the cause found earlier.
            continue
        statement = as_leak(
            decision_statement(picked, target, past.detail.get("next_tool"), namespace, rule, reason), found
        )
        # The decision's next tool was tried on what it named (an ISOLATE's selector, say): that hypothesis is this one.
        source = f"mitigation tried: {past.detail.get('next_tool')}"
        tried = next((h.statement for h in found.values() if h.source == source), None)
        statement = statement if statement in found or tried is None else tried
        if statement in found:  # the mitigation that tested this decision is already a hypothesis: back it
            found[statement].evidence_for.append(
                f"assess_namespace at {clock(past.at)} chose {picked} ({rule}): {past.detail.get('reason')}"
            )
            if picked == "SCALE":  # the load figures when the decision was made: the "before" of a scale
                found[statement].evidence_for += [
                    f"at {clock(past.at)}: {e}" for e in past.detail.get("evidence") or []
                ]
            continue
        found[statement] = Hypothesis(
            statement=statement,
            source=f"assess_namespace at {clock(past.at)}, rule {rule}",
            evidence_for=[str(past.detail.get("reason")), *map(str, past.detail.get("evidence") or [])],
            evidence_against=[],
        )
    unseen = decision is not None and decision.primary_action == "INVESTIGATE" and decision.target in causes
    if decision is not None and not (unseen and not cause_named("INVESTIGATE", decision.rule, decision.reason)):
        statement = as_leak(
            decision_statement(
                decision.primary_action, decision.target, decision.next_tool, namespace, decision.rule, decision.reason
            ),
            found,
        )
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
                if not entry.evidence_against:
                    entry.evidence_for.append(f"assess_namespace now finds nothing failing in {namespace}")
    named = [suspected(h, bad) for h in found.values()]
    touched = {row.token: set(acted_on([row], namespace, facts.scale_targets.get)) for row in rows}
    fixes = [
        (action, touched[row.token]) for row, action in zip(rows, actions, strict=True) if action.effect == "fixed"
    ]
    suspects = window_suspects(rows, actions, bad, facts, namespace)
    offline = frozenset(
        name
        for row, action in zip(rows, actions, strict=True)
        if action.ran and action.kind == "scale" and took_offline(row.plan)
        for name in touched[row.token]
    )
    others = [rollout_hypothesis(rollout, facts, fixes, states, offline) for rollout in suspects]
    if decision is not None and decision.rule in OTHER_CAUSE:
        for rollout, entry in zip(suspects, others, strict=True):
            if decision.target == f"{rollout.kind}/{rollout.deployment}":  # the assessment blames its pods' config
                entry.evidence_against.append(f"assess_namespace now names another cause: {decision.rule}")
    # Rollouts no one acted on are what RCA must rule out: they keep a place even when the list is full.
    kept = named[: max(MAX_HYPOTHESES - len(others), MAX_HYPOTHESES // 2)] + others
    return [
        h.model_copy(
            update={
                "evidence_for": [clean(e) for e in dict.fromkeys(h.evidence_for)][:MAX_EVIDENCE_LINES],
                "evidence_against": [clean(e) for e in h.evidence_against][:MAX_EVIDENCE_LINES],
            }
        )
        for h in kept[:MAX_HYPOTHESES]
    ]


def open_questions(
    incident: IncidentRow,
    namespace: str,
    states: list[DeploymentState],
    actions: list[ActionTaken],
    measures: list[TemporaryMeasure],
    bad: list[BadRevision],
    decision: Decision | None,
    problems: list[str],
    suspects: Sequence[str] = (),
    standing: Mapping[str, datetime] | None = None,
) -> list[str]:
    """What the next engineer still has to find out; `problems` are reads that failed while building the handoff.
    `standing`: failing components -> since when, for failures older than the incident."""
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
        elif state.verdict == "DEGRADED" and state.deployment in (standing or {}):
            since = (standing or {})[state.deployment].strftime("%Y-%m-%d %H:%M UTC")
            questions.append(
                f"{state.deployment} has failed since {since}, before this incident (a standing failure): is it "
                f"part of it? It is still DEGRADED: {state.summary}"
            )
        elif state.verdict == "DEGRADED":
            questions.append(f"{state.deployment} is still DEGRADED: {state.summary}. What else is wrong?")
        elif state.verdict == "ISOLATED":
            questions.append(
                f"{state.deployment} is ISOLATED by a temporary measure: {state.summary}. Is the cause fixed, so the "
                "measure can be restored?"
            )
        elif state.verdict == "RECOVERING":
            questions.append(f"Recovery of {state.deployment} is not confirmed yet (RECOVERING): {state.summary}")
    if states and all(s.verdict == "RECOVERED" for s in states) and incident.stabilized_at is None:
        questions.append(
            f"Recovery holds but the incident was not marked stabilized: call verify_recovery for "
            f"{', '.join(s.deployment for s in states)}, or declare_incident(incident_id={incident.id!r}, "
            "status='stabilized')"
        )
    for action in actions:
        if action.effect == "not_fixed":
            questions.append(f"Why did {action.tool} on {action.target} not fix the service, although it succeeded?")
        if action.result == "unknown":
            questions.append(f"Did {action.tool} on {action.target} take effect? Its outcome is unknown.")
        elif action.result == "partial":
            questions.append(
                f"{action.tool} on {action.target} was only partly applied: was the rest finished or undone?"
            )
        elif action.result in ("pending", "approved", "executing"):
            questions.append(f"{action.tool} on {action.target} is still {action.result}: confirm or cancel it")
    if measures:
        listed = "; ".join(f"{m.target.kind.lower()}/{m.target.name}" for m in measures[:5])
        # Counted as list_temporary_measures lists them: a cordon and a drain of one node are two (one restore).
        count = sum(len(m.measure_ids) for m in measures)
        questions.append(f"{count} temporary measure(s) still in place ({listed}): when are they restored?")
    for revision in bad:
        if revision.changes:
            # A new image alone is new code: what in it changed is the question (nothing in the app "depends on" it).
            ask = (
                "what changed in the code between those images?"
                if all(change.startswith("image ") for change in revision.changes)
                else f"why was that changed, and what in {revision.deployment} depends on it?"
            )
            questions.append(
                f"Revision {revision.revision} of {revision.deployment} changed {'; '.join(revision.changes)}: {ask}"
            )
            continue
        images = f" ({', '.join(revision.images)})" if revision.images else ""
        questions.append(
            f"What in revision {revision.revision} of {revision.deployment}{images} fails? Compare it "
            f"with the running one: rollout_history(deployment={revision.deployment!r}, "
            f"revision={revision.revision})"
        )
    questions += suspects
    if decision is not None and decision.primary_action != "NONE":
        questions.append(
            f"The assessment still recommends {decision.primary_action} ({decision.target}): {decision.reason}"
        )
    return [clean(q, 500) for q in questions][:MAX_QUESTIONS]

"""incident_handoff: the structured handoff for root-cause analysis, from the journal and read-only cluster reads.

Which incident, without incident_id: the open one when it is declared or has anything on its timeline; otherwise
(its predecessor was just resolved, and only the resolving call opened it) the most recently resolved declared one.
Which deployments: the one given, else those the incident's commands targeted (an HPA's through its scale target),
else the assessment's target. A read that fails becomes an open question instead of failing the whole handoff.

Layer: tools.incident.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any, Literal

from pydantic import Field

from incident_response.tools.core import errors
from incident_response.tools.engine import measure_drift
from incident_response.tools.engine.deps import Deps
from incident_response.tools.engine.plan import PendingCommand
from incident_response.tools.engine.records import CommandRow, Event
from incident_response.tools.incident.handoff_document import render
from incident_response.tools.incident.handoff_evidence import evidence
from incident_response.tools.incident.handoff_lane import (
    call_in_lane,
    choose_incident,
    command_in_lane,
    elsewhere,
    event_in_lane,
    measure_bears_on,
)
from incident_response.tools.incident.handoff_reads import (
    add_usage,
    assessed,
    connected,
    read_cluster,
    read_warnings,
    unverified,
    verified,
)
from incident_response.tools.k8s.changes import Change
from incident_response.tools.k8s.views import meta
from incident_response.tools.k8s.workloads import RECENT_ROLLOUT_SECONDS
from incident_response.tools.kube.client import Kube
from incident_response.tools.kube.paging import list_all
from incident_response.tools.playbook import replica_writes
from incident_response.tools.playbook.decision import Decision
from incident_response.tools.playbook.declaration import info
from incident_response.tools.playbook.handoff_analysis import (
    RecordedDecision,
    hypotheses,
    open_questions,
    target_name,
    window_suspects,
)
from incident_response.tools.playbook.handoff_changes import change_entries
from incident_response.tools.playbook.handoff_facts import (
    ClusterFacts,
    about,
    action_of,
    bad_revisions,
    capped_timeline,
    cluster_entries,
    journal_entry,
    stabilization,
    start_time,
    with_effects,
)
from incident_response.tools.playbook.handoff_focus import failing_components, standing_since
from incident_response.tools.playbook.handoff_leads import rollout_question
from incident_response.tools.playbook.handoff_manifest import manifest_drift
from incident_response.tools.playbook.handoff_models import (
    MAX_ACTIONS,
    MAX_DEPLOYMENTS,
    MAX_MEASURES,
    ActionTaken,
    DeploymentState,
    Handoff,
    HandoffFormat,
    TimePoint,
)
from incident_response.tools.playbook.handoff_rollouts import Rollout, namespace_rollouts, started_by_us
from incident_response.tools.playbook.handoff_state import current_state, temporary_measures
from incident_response.tools.playbook.handoff_workloads import workload_rollouts
from incident_response.tools.playbook.maintenance_nodes import maintenance
from incident_response.tools.playbook.recovery_checks import RecoveryVerdict
from incident_response.tools.playbook.stabilization import Verification, acted_on, applied, verifications

WORST_FIRST = ("DEGRADED", "UNKNOWN", "ISOLATED", "RECOVERING", "RECOVERED")
# The API server's clock may run ahead of this server's: a rollout it dates a minute "from now" is still this one's.
CLOCK_SKEW = timedelta(minutes=5)


def offline_by_us(rows: list[CommandRow], namespace: str) -> set[str]:
    """Deployments a succeeded scale_deployment of ours took to 0 replicas."""
    return {
        str((row.plan.get("target") or {}).get("name"))
        for row in rows
        if row.tool == "scale_deployment"
        and row.state == "succeeded"
        and replica_writes.took_offline(row.plan)
        and (row.plan.get("target") or {}).get("namespace") == namespace
    }


def recorded_decisions(events: list[Event], namespace: str) -> list[RecordedDecision]:
    """What assess_namespace decided during the incident, from its journal events (oldest first)."""
    found = []
    for event in events:
        detail = event.detail or {}
        if event.kind == "assessed" and detail.get("namespace") == namespace:
            found.append(RecordedDecision(at=datetime.fromtimestamp(event.at, UTC), detail=detail))
    return found


def deployments_of(
    kube: Kube | None,
    namespace: str,
    given: str | None,
    commands: list[CommandRow],
    decision: Decision | None,
    warnings: list[dict[str, Any]],
    ranked: Sequence[str] = (),
) -> list[str]:
    """The given deployment; else those the commands targeted or wrote (a canary rollback scales the stable one up,
    and that one carries the traffic now); else the assessment's target and its other problems' components (`ranked`,
    worst first: a bad deploy ranked second is this incident's too); else the most warned about."""
    if given is not None:
        return [given]
    names = acted_on(commands, namespace, scale_target(kube, namespace))
    if names:
        return names
    kind, _, target = (decision.target or "").partition("/") if decision is not None else ("", "", "")
    if kind in ("deployment", "statefulset", "daemonset") and target:
        names.append(target)
    names = list(dict.fromkeys([*names, *ranked]))[:MAX_DEPLOYMENTS]
    if not names and warnings and kube is not None:
        names = warned_deployments(kube, namespace, warnings)
    return names


def reverted_outside(kube: Kube | None, rows: list[CommandRow]) -> dict[str, str]:
    """measure token -> how someone else put back what it set (F30); nothing when the cluster cannot be read."""
    if kube is None:
        return {}
    return {
        row.token: why
        for row in rows
        if (why := measure_drift.reverted(kube, PendingCommand.model_validate(row.plan))) is not None
    }


def scale_target(kube: Kube | None, namespace: str) -> Callable[[str], str | None]:
    def follow(hpa: str) -> str | None:
        if kube is None:
            return None
        try:
            ref = (kube.get("horizontalpodautoscalers", hpa, namespace).get("spec") or {}).get("scaleTargetRef")
        except errors.IncidentError:
            return None  # the HPA is gone; nothing to follow
        return str(ref.get("name")) if isinstance(ref, dict) and ref.get("kind") == "Deployment" else None

    return follow


def warned_deployments(kube: Kube, namespace: str, warnings: list[dict[str, Any]]) -> list[str]:
    """Deployments whose objects the Warning events are about, most warned first: the victims, when the commands
    targeted something else (a Service, a NetworkPolicy, a node)."""
    try:
        listed = list_all(kube, "deployments", namespace).items
    except errors.IncidentError:
        return []
    # Longest name first, so pods of `api-bad` are not counted for `api`.
    names = sorted((str(meta(d).name) for d in listed), key=len, reverse=True)
    counts: Counter[str] = Counter()
    for event in warnings:
        owner = next((name for name in names if about(event, name)), None)
        if owner is not None:
            counts[owner] += int(event.get("count") or 1)
    return [name for name, _ in counts.most_common()]


def overall(states: list[DeploymentState]) -> RecoveryVerdict | Literal["UNKNOWN"]:
    verdicts = [s.verdict or "UNKNOWN" for s in states] or ["UNKNOWN"]
    return min(verdicts, key=WORST_FIRST.index)


def incident_handoff(
    deps: Deps,
    namespace: Annotated[str, Field(description="Namespace of the incident.")],
    deployment: Annotated[
        str | None,
        Field(
            description="The deployment whose recovery to report; default: those the incident's commands targeted, "
            "else the assessment's target."
        ),
    ] = None,
    incident_id: Annotated[
        str | None,
        Field(
            description="The incident to hand off; default the open one, or the one just resolved when the open "
            "one is still empty.",
            max_length=100,
        ),
    ] = None,
    format: Annotated[
        HandoffFormat,
        Field(
            description="The document's format: 'text' (the playbook's own, INCIDENT HANDOFF TO RCA), "
            "'markdown' (the same content with headings, for a ticket that renders markdown), or 'json' (every field "
            "below as JSON, for programs; the document in text)."
        ),
    ] = "text",
) -> Handoff:
    """Build the handoff for root-cause analysis in the playbook's format: incident ID, duration from start to
    stabilization, severity, timeline (every rollout in the namespace during the incident, each mitigation and what
    verify_recovery found after it), actions taken with results, current state (service running/degraded/partial,
    mitigation applied, temporary measures with restore commands), hypotheses with evidence for and against,
    evidence collected (with the commands that repeat it) and open questions. The result is that document (text or
    markdown) to paste into the RCA ticket; format='json' answers every field as JSON instead. Read-only: it changes
    nothing in the cluster or the incident record."""
    journal = deps.journal
    now = deps.now()
    incident, because = choose_incident(journal, incident_id, namespace)
    # The journal may be shared with servers on other clusters or allow-lists: only this server's part is handed off.
    scope = deps.scope()
    every = journal.commands(incident=incident.id)
    rows = [row for row in scope.commands(every) if command_in_lane(incident, row)]
    by_token = {row.token: row for row in every}
    problems: list[str] = []
    if len(every) > len(scope.commands(every)):
        problems.append(
            f"{len(every) - len(rows)} action(s) of this incident were planned through another server "
            "(another cluster, or namespaces outside this server's allow-list) and are left out of this "
            "handoff"
        )
    problems += elsewhere(journal, incident)
    kube = connected(deps, problems)
    changes: list[Change] = []  # non-rollout changes of the last 2 hours, for the timeline
    ranked: list[str] = []  # the components of the assessment's problems, worst first
    decision = assessed(deps, namespace, problems, changes, ranked) if kube is not None else None
    warnings = read_warnings(kube, namespace, problems)
    names = deployments_of(
        kube, namespace, deployment, rows, decision, warnings.items if warnings is not None else [], ranked
    )
    if len(names) > MAX_DEPLOYMENTS:
        problems.append(
            f"Only {MAX_DEPLOYMENTS} of {len(names)} deployments were verified ({', '.join(names[:MAX_DEPLOYMENTS])});"
            f" not verified: {', '.join(names[MAX_DEPLOYMENTS:])} (incident_handoff(deployment=...) verifies one)"
        )
        names = names[:MAX_DEPLOYMENTS]
    facts, deployments, replicasets = read_cluster(
        kube, namespace, names, warnings.items if warnings is not None else None, rows, problems, optional=ranked
    )
    names = [n for n in names if n in facts.deployments or n not in ranked or facts.error]
    facts.failing = failing_components(ranked, names)
    states = [
        verified(deps, namespace, name, facts, warnings) if kube is not None else unverified(name) for name in names
    ]
    add_usage(facts, rows, states)
    lane = {row.token: row for row in rows}
    events = [
        e
        for e in journal.events(incident=incident.id)
        if scope.event(e, by_token) and (e.token in lane if e.token else event_in_lane(incident, e))
    ]
    # The verdicts recorded after each mitigation say what it did; until the incident is marked stabilized, the one
    # just read counts for the last mitigation too (once it is, a later relapse is not that mitigation's doing).
    open_ended = incident.stabilized_at is None and incident.closed_at is None
    seen = verifications(events, namespace) + [
        Verification(
            namespace=namespace,
            deployment=s.deployment,
            verdict=s.verdict,
            at=now,
            summary=s.summary,
            failing=tuple(c.name for c in s.checks if c.passed is False),
        )
        for s in states
        if s.verdict is not None and open_ended
    ]
    recorded = recorded_decisions(events, namespace)
    pointed = [str(r.detail.get("target")) for r in recorded] + ([str(decision.target)] if decision else [])
    upkeep = maintenance(rows, facts.calm, pointed)
    listed = [action_of(row).model_copy(update={"maintenance": row.token in upkeep}) for row in rows]
    actions = with_effects(rows, listed, seen, facts.scale_targets.get, namespace, upkeep)
    bad = bad_revisions(rows, facts)
    ours = {b.deployment for b in bad} | set(acted_on(rows, namespace, facts.scale_targets.get))
    facts.standing = standing_since(facts, incident, ours)
    started = start_time(incident, facts, bad)
    stabilized = stabilization(incident, events, states)
    if stabilized is not None and started is not None and stabilized.at < started.at:
        # A state stable since before the incident began (nothing the cluster shows failed) ends it no earlier than
        # it began: "07:55 to 12-02 07:55" read as an incident that ended three days before it started.
        stabilized = TimePoint(
            at=started.at, basis=f"{stabilized.basis}; it held before the incident began: nothing failed since"
        )
    end = stabilized.at if stabilized is not None else now
    if started is not None:
        since = started.at - timedelta(seconds=RECENT_ROLLOUT_SECONDS)
        until = max(end, now) + CLOCK_SKEW
        done = applied(rows, namespace)
        of_workloads, undated = workload_rollouts(facts.workloads, facts.revisions, since, until, done)
        facts.rollouts = sorted(namespace_rollouts(deployments, replicasets, since, until) + of_workloads, key=at)
        problems += undated
        facts.started_by = started_by_us(facts.rollouts, done, namespace, facts.scale_targets.get)
    in_place = [
        row for row in scope.commands(journal.temporary_measures()) if measure_bears_on(row, incident, namespace)
    ]
    gone = reverted_outside(kube, in_place)
    measures = temporary_measures(in_place, gone)
    if len(measures) > MAX_MEASURES:
        problems.append(
            f"{len(measures)} temporary measures are in place; the {MAX_MEASURES} newest are listed here, "
            "list_temporary_measures shows every one"
        )
        measures = measures[-MAX_MEASURES:]
    by_action = {row.token: action for row, action in zip(rows, actions, strict=True)}
    entries = [e for e in (journal_entry(ev, by_token, by_action) for ev in events) if e]
    rolled_back = {b.deployment for b in bad} | {target_name(a) for a in actions if a.kind == "rollback" and a.ran}
    timeline, truncation, cut = capped_timeline(
        entries + cluster_entries(facts, bad, rolled_back) + change_entries(changes, facts.failing)
    )
    suspects = window_suspects(rows, actions, bad, facts, namespace)
    found = hypotheses(rows, actions, bad, facts, decision, namespace, recorded, states)
    questions = open_questions(
        incident,
        namespace,
        states,
        actions,
        measures,
        bad,
        decision,
        problems,
        # A rollout of a deployment we took offline is a hypothesis of its own, not a dependency to rule out.
        [rollout_question(r, facts) for r in suspects if r.deployment not in offline_by_us(rows, namespace)],
        facts.standing,
    )
    questions += drifted_manifests(actions, facts)
    state = current_state(
        states, actions, measures, {str(row.plan.get("command")) for row in in_place if row.token in gone}
    )
    verdict = overall(states)
    context = kube.context if kube is not None else None
    succeeded = sum(a.result == "succeeded" for a in actions)
    calls = [c for c in journal.tool_calls(incident=incident.id) if scope.call(c) and call_in_lane(incident, c)]
    handoff = Handoff(
        summary=f"Handoff of {incident.id} {incident.title!r} ({incident.severity or 'severity not declared'}): "
        f"service {state.service} ({verdict}); {len(actions)} action(s), {succeeded} succeeded; "
        f"{len(in_place) - len(gone)} temporary measure(s) in place"
        f"{f' ({len(gone)} more reverted outside this server)' if gone else ''}; "
        f"{len(questions)} open question(s). Paste the document into the RCA ticket.",
        incident=info(incident),
        chosen_because=because,
        namespace=namespace,
        deployments=names,
        started=started,
        stabilized=stabilized,
        duration_minutes=max(0, int((end - started.at).total_seconds() // 60)) if started else None,
        ongoing=stabilized is None,
        timeline=timeline,
        timeline_truncation=truncation,
        timeline_cut=cut,
        actions=actions[-MAX_ACTIONS:],
        current_state=state,
        overall_verdict=verdict,
        hypotheses=found,
        evidence=evidence(namespace, context, calls, facts, states, bad),
        open_questions=questions,
        format=format,
        document="",
    )
    handoff.document = render(handoff)
    return handoff


def drifted_manifests(actions: list[ActionTaken], facts: ClusterFacts) -> list[str]:
    """For each workload a rollback of this incident acted on: what the next apply of its manifest would put back."""
    found = []
    for name in dict.fromkeys(target_name(a) for a in actions if a.kind == "rollback" and a.result == "succeeded"):
        workload = facts.deployments.get(name)
        if workload is not None and (question := manifest_drift(facts.kinds.get(name, "deployment"), name, workload)):
            found.append(question)
    return found


def at(rollout: Rollout) -> datetime:
    return rollout.at

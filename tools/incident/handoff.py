"""incident_handoff: the structured handoff for root-cause analysis, from the journal and read-only cluster reads.

Which incident, without incident_id: the open one when it is declared or has anything on its timeline; otherwise
(its predecessor was just resolved, and only the resolving call opened it) the most recently resolved declared one.
Which deployments: the one given, else those the incident's commands targeted (an HPA's through its scale target),
else the assessment's target. A read that fails becomes an open question instead of failing the whole handoff.

Layer: tools.incident.
"""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from pydantic import Field

from incident_response.tools.assess import recovery
from incident_response.tools.assess.namespace import build_assessment
from incident_response.tools.core import errors
from incident_response.tools.engine.deps import Deps
from incident_response.tools.engine.journal import CommandRow, Event, IncidentRow, Journal
from incident_response.tools.engine.measures import Measure, measure_of
from incident_response.tools.incident.handoff_document import render
from incident_response.tools.incident.handoff_evidence import evidence
from incident_response.tools.k8s.views import meta
from incident_response.tools.k8s.workloads import RECENT_ROLLOUT_SECONDS
from incident_response.tools.kube.client import Kube, ListResult
from incident_response.tools.playbook.declaration import info, unknown_incident
from incident_response.tools.playbook.handoff_analysis import RecordedDecision, hypotheses, open_questions
from incident_response.tools.playbook.handoff_facts import (
    ClusterFacts,
    about,
    action_of,
    bad_revisions,
    capped_timeline,
    clean,
    cluster_entries,
    first_line,
    journal_entry,
    stabilization,
    start_time,
)
from incident_response.tools.playbook.handoff_models import (
    MAX_ACTIONS,
    MAX_DEPLOYMENTS,
    MAX_MEASURES,
    DeploymentState,
    Handoff,
)
from incident_response.tools.playbook.rules import Decision

RECENT_INCIDENTS = 20
WORST_FIRST = ("DEGRADED", "UNKNOWN", "RECOVERING", "RECOVERED")


def choose_incident(journal: Journal, incident_id: str | None) -> tuple[IncidentRow, str]:
    """(the incident to hand off, why that one)."""
    if incident_id is not None:
        row = journal.incident(incident_id)
        if row is None:
            raise unknown_incident(incident_id, journal.incidents(limit=5))
        return row, "named by incident_id"
    recent = journal.incidents(limit=RECENT_INCIDENTS)
    current = next((r for r in recent if r.closed_at is None), None)
    if current is not None and current.declared_at is not None:
        return current, "the open, declared incident"
    if current is not None and has_activity(journal, current):
        return current, "the open incident (never declared)"
    resolved = next((r for r in recent if r.status == "resolved" and r.declared_at is not None), None)
    if resolved is not None:
        return resolved, "the most recently resolved incident (the open one has nothing on its timeline yet)"
    if current is not None:
        return current, "the open incident (never declared, nothing on its timeline yet)"
    fresh = journal.incident(journal.current_incident())
    assert fresh is not None
    return fresh, "nothing was recorded before this call"


def has_activity(journal: Journal, incident: IncidentRow) -> bool:
    if journal.commands(incident=incident.id):
        return True
    return any(e.kind != "incident_opened" for e in journal.events(incident=incident.id))


def assessed(deps: Deps, namespace: str, problems: list[str]) -> Decision | None:
    try:
        return build_assessment(deps.kube, namespace).decision
    except errors.IncidentError as e:
        problems.append(f"The namespace could not be assessed: {e}")
        return None


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
) -> list[str]:
    """The given deployment; else those the commands targeted or wrote (a canary rollback scales the stable one up,
    and that one carries the traffic now); else the assessment's; else the most warned about."""
    if given is not None:
        return [given]
    names: list[str] = []
    for row in commands:
        target = row.plan.get("target") or {}
        if target.get("namespace") == namespace and target.get("kind") == "Deployment":
            names.append(str(target.get("name")))
        elif target.get("namespace") == namespace and target.get("kind") == "HorizontalPodAutoscaler" and kube:
            try:
                hpa = kube.get("horizontalpodautoscalers", str(target.get("name")), namespace)
            except errors.IncidentError:
                continue  # the HPA is gone; nothing to follow
            ref = (hpa.get("spec") or {}).get("scaleTargetRef") or {}
            if ref.get("kind") == "Deployment":
                names.append(str(ref.get("name")))
        names += written_deployments(row.plan, namespace)
    if not names and decision is not None and (decision.target or "").startswith("deployment/"):
        names.append((decision.target or "").removeprefix("deployment/"))
    if not names and warnings and kube is not None:
        names = warned_deployments(kube, namespace, warnings)
    return list(dict.fromkeys(names))


def written_deployments(plan: dict[str, Any], namespace: str) -> list[str]:
    """Deployments in `namespace` that a plan's steps write besides its target."""
    actions = [step.get("action") or {} for step in plan.get("steps") or [] if isinstance(step, dict)]
    return [
        str(action.get("name"))
        for action in actions
        if action.get("resource") == "deployments" and action.get("namespace") == namespace and action.get("name")
    ]


def warned_deployments(kube: Kube, namespace: str, warnings: list[dict[str, Any]]) -> list[str]:
    """Deployments whose objects the Warning events are about, most warned first: the victims, when the commands
    targeted something else (a Service, a NetworkPolicy, a node)."""
    try:
        listed = kube.list("deployments", namespace, limit=1000).items
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


def bears_on(measure: Measure, incident: str, namespace: str) -> bool:
    """A measure this incident left, or one still in place where it happens: in its namespace or on a node. Another
    namespace's measure from another incident is not part of this handoff."""
    return measure.incident == incident or measure.target.namespace in (None, namespace)


def connected(deps: Deps, problems: list[str]) -> Kube | None:
    try:
        return deps.kube
    except errors.IncidentError as e:
        problems.append(f"No cluster connection, so this handoff comes from the journal alone: {e}")
        return None


def read_warnings(kube: Kube | None, namespace: str, problems: list[str]) -> ListResult | None:
    """The namespace's Warning events, read once: the timeline's and verify_recovery's warnings check's."""
    if kube is None:
        return None
    try:
        return recovery.read_warnings(kube, namespace)
    except errors.IncidentError as e:
        problems.append(f"The cluster could not be read, so cluster facts are missing: {e}")
        return None


def read_cluster(
    kube: Kube | None, namespace: str, names: list[str], warnings: list[dict[str, Any]] | None, problems: list[str]
) -> ClusterFacts:
    if kube is None or warnings is None:
        return ClusterFacts(error="the cluster could not be read")
    facts = ClusterFacts(warnings=[e for e in warnings if not names or any(about(e, name) for name in names)])
    try:
        for name in names:
            try:
                deploy = kube.get("deployments", name, namespace)
            except errors.NotFound:
                problems.append(f"Deployment {name} no longer exists in {namespace}")
                continue
            facts.replicasets[name] = recovery.owned_replicasets(kube, namespace, deploy)
            facts.deployments[name] = deploy
    except errors.IncidentError as e:
        facts.error = str(e)
        problems.append(f"The cluster could not be read, so cluster facts are missing: {e}")
    return facts


def verified(
    deps: Deps, namespace: str, name: str, facts: ClusterFacts, warnings: ListResult | None
) -> DeploymentState:
    """verify_recovery's report, on the deployment, ReplicaSets and events the handoff already read when it has them."""
    deploy = facts.deployments.get(name)
    try:
        if deploy is None:
            report = recovery.verify_recovery(deps, namespace=namespace, deployment=name)
        else:
            report = recovery.judge(deps, namespace, name, deploy, facts.replicasets[name], warnings=warnings)
    except errors.IncidentError as e:
        return DeploymentState(deployment=name, verdict=None, summary="not verified", checks=[], error=clean(e))
    checks = [
        c.model_copy(update={"detail": clean(c.detail), "evidence": [clean(line) for line in c.evidence]})
        for c in report.checks
    ]
    return DeploymentState(
        deployment=name,
        verdict=report.verdict,
        checks=checks,
        summary=clean(report.summary.removeprefix(f"{name}: {report.verdict} - ")),
        stable_since=report.stable_since,
        services=report.services,
    )


def unverified(name: str) -> DeploymentState:
    return DeploymentState(
        deployment=name, verdict=None, summary="not verified", checks=[], error="no cluster connection"
    )


def overall(states: list[DeploymentState]) -> Literal["RECOVERED", "RECOVERING", "DEGRADED", "UNKNOWN"]:
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
) -> Handoff:
    """Build the handoff for root-cause analysis: incident, severity, start and stabilization times, timeline,
    actions and their results, current state (verify_recovery), temporary measures with restore commands,
    hypotheses with evidence, the commands that repeat the key reads, open questions; plus `document`, markdown to
    paste into the RCA ticket. Read-only: it changes nothing in the cluster or the incident record."""
    journal = deps.journal
    now = deps.now()
    incident, because = choose_incident(journal, incident_id)
    # The journal may be shared with servers on other clusters or allow-lists: only this server's part is handed off.
    scope = deps.scope()
    every = journal.commands(incident=incident.id)
    rows = scope.commands(every)
    by_token = {row.token: row for row in every}
    problems: list[str] = []
    if len(every) > len(rows):
        problems.append(
            f"{len(every) - len(rows)} action(s) of this incident were planned through another server "
            "(another cluster, or namespaces outside this server's allow-list) and are left out of this "
            "handoff"
        )
    kube = connected(deps, problems)
    decision = assessed(deps, namespace, problems) if kube is not None else None
    warnings = read_warnings(kube, namespace, problems)
    names = deployments_of(kube, namespace, deployment, rows, decision, warnings.items if warnings is not None else [])
    if len(names) > MAX_DEPLOYMENTS:
        problems.append(f"Only {MAX_DEPLOYMENTS} of {len(names)} deployments were verified: {', '.join(names)}")
        names = names[:MAX_DEPLOYMENTS]
    facts = read_cluster(kube, namespace, names, warnings.items if warnings is not None else None, problems)
    states = [
        verified(deps, namespace, name, facts, warnings) if kube is not None else unverified(name) for name in names
    ]
    actions = [action_of(row) for row in rows]
    bad = bad_revisions(rows, facts)
    shown = scope.commands(journal.temporary_measures())
    in_place = [m for m in map(measure_of, shown) if bears_on(m, incident.id, namespace)]
    if len(in_place) > MAX_MEASURES:
        problems.append(
            f"{len(in_place)} temporary measures are in place; the {MAX_MEASURES} newest are listed here, "
            "list_temporary_measures shows every one"
        )
    measures = [
        m.model_copy(
            update={"summary": clean(first_line(m.summary))}
        )  # the restore command stays whole: it must run as shown
        for m in in_place[-MAX_MEASURES:]
    ]
    events = [e for e in journal.events(incident=incident.id) if scope.event(e, by_token)]
    entries = [e for e in (journal_entry(ev, by_token) for ev in events) if e]
    since = datetime.fromtimestamp(incident.opened_at - RECENT_ROLLOUT_SECONDS, UTC)
    timeline, truncation = capped_timeline(entries + cluster_entries(facts, bad, since))
    started, stabilized = start_time(incident, facts, bad), stabilization(incident, actions, states)
    end = stabilized.at if stabilized is not None else now
    verdict = overall(states)
    context = kube.context if kube is not None else None
    succeeded = sum(a.result == "succeeded" for a in actions)
    questions = open_questions(incident, namespace, states, actions, measures, bad, decision, problems)
    recorded = recorded_decisions(events, namespace)
    handoff = Handoff(
        summary=f"Handoff of {incident.id} {incident.title!r} ({incident.severity or 'severity not declared'}): "
        f"service {verdict}; {len(actions)} action(s), {succeeded} succeeded; {len(measures)} temporary measure(s) "
        f"in place; {len(questions)} open question(s). Paste `document` into the RCA ticket.",
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
        actions=actions[-MAX_ACTIONS:],
        current_state=states,
        overall_verdict=verdict,
        temporary_measures=measures,
        hypotheses=hypotheses(actions, states, bad, facts, decision, namespace, recorded),
        evidence=evidence(
            namespace,
            context,
            [c for c in journal.tool_calls(incident=incident.id) if scope.call(c)],
            facts,
            states,
            bad,
        ),
        open_questions=questions,
        document="",
    )
    handoff.document = render(handoff, now)
    return handoff

"""declare_incident and incident_handoff: the incident this server works on, and its handoff for root-cause analysis.

The rules of declaring live in `tools.playbook.declaration` (pure); this module reads the journal, applies them,
and saves the result only if nobody changed the incident meanwhile. The handoff lives in `tools.incident.handoff`.

Layer: tools.incident.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from incident_response.tools.core import errors
from incident_response.tools.core.models import ToolResult
from incident_response.tools.engine.attribution import MAX_OPEN, declared_over
from incident_response.tools.engine.deps import Deps
from incident_response.tools.engine.measures import measure_of
from incident_response.tools.engine.records import IncidentRow
from incident_response.tools.engine.scope import Scope
from incident_response.tools.engine.store import Store
from incident_response.tools.incident.handoff import incident_handoff
from incident_response.tools.playbook.declaration import (
    SEVERITY_HELP,
    DeclarationResult,
    DeclaredStatus,
    IncidentInfo,
    Request,
    Severity,
    amend,
    describe,
    info,
    one_line,
    unknown_incident,
)

__all__ = ["Declaration", "declare_incident", "incident_handoff"]

MAX_TITLE = 200
MAX_NOTE = 500
MAX_ID = 100
# The approve CLI or a second server may change the incident between our read and our save; then we decide again.
SAVE_ATTEMPTS = 5
RECENT_INCIDENTS = 5


class Declaration(ToolResult):
    outcome: DeclarationResult = Field(
        description="declared: a new incident; adopted: the untitled open incident was declared, its timeline kept; "
        "updated: fields or status changed; unchanged: the call asked for what was already recorded."
    )
    incident: IncidentInfo
    changes: list[str] = Field(description="What this call changed; each is also a timeline event.")
    warnings: list[str]
    next_step: str


def live_commands(journal: Store, incident: str, now: float, scope: Scope) -> list[str]:
    """Commands of the incident that could still run (expired pending ones cannot). Those this server may not show
    still keep the incident open, counted without a word about them."""
    rows = journal.commands(states=("pending", "approved", "executing"), incident=incident)
    live = [r for r in rows if r.state == "executing" or r.expires_at > now]
    shown = scope.commands(live)
    named = [
        f"{r.tool} {r.state}: {str(r.plan.get('summary') or r.plan.get('command')).splitlines()[0]}" for r in shown
    ]
    if len(live) > len(shown):
        named.append(
            f"{len(live) - len(shown)} command(s) planned through another server (another cluster, or "
            "namespaces outside this server's allow-list)"
        )
    return named


def measures_in_place(journal: Store, incident: str, scope: Scope) -> list[str]:
    return [
        f"temporary measure still in place: {m.tool} {m.target.kind.lower()}/{m.target.name}; restore with "
        f"restore_measure(measure_id={m.measure_id!r}) or by hand: {m.restore_command}"
        for m in map(measure_of, scope.commands(journal.temporary_measures(incident=incident)))
    ]


def lane_taken(opened: list[IncidentRow], target: IncidentRow, namespace: str | None) -> None:
    """Refuse moving an incident into a namespace that has an open incident of its own (one per namespace)."""
    other = next((r for r in opened if r.id != target.id and namespace and r.namespace == namespace), None)
    if other is not None and target.closed_at is None and target.namespace != namespace:
        raise errors.InvalidArgument(
            f"namespace {namespace} already has an open incident, {describe(other)}; nothing was changed. Work on "
            f"that one (incident_id={other.id!r}), or resolve it first"
        )


def next_step(row: IncidentRow) -> str:
    ns = row.namespace or "<namespace>"
    if row.status == "resolved":
        return (
            "Closed (other namespaces' incidents stay open). The next call in its namespace opens a fresh incident; "
            "declare_incident names it."
        )
    if row.status == "stabilized":
        return (
            f"Keep watching with verify_recovery; hand off with incident_handoff(namespace={ns!r}), then close with "
            f"declare_incident(incident_id={row.id!r}, status='resolved')."
        )
    return (
        f"Assess with assess_namespace(namespace={ns!r}) and mitigate; once verify_recovery says RECOVERED, mark it "
        f"with declare_incident(incident_id={row.id!r}, status='stabilized') and call incident_handoff."
    )


def declare_incident(
    deps: Deps,
    title: Annotated[
        str | None,
        Field(
            description="A few words on the impact, e.g. 'checkout returns 502'. Needed to declare.",
            max_length=MAX_TITLE,
        ),
    ] = None,
    severity: Annotated[Severity | None, Field(description=SEVERITY_HELP + " Needed to declare.")] = None,
    namespace: Annotated[str | None, Field(description="The namespace at the centre of the incident.")] = None,
    incident_id: Annotated[
        str | None,
        Field(
            description="Change this incident instead of declaring: its title, severity, namespace or status. "
            "Without it, the call declares the incident being worked on.",
            max_length=MAX_ID,
        ),
    ] = None,
    status: Annotated[
        DeclaredStatus | None,
        Field(
            description="With incident_id: 'stabilized' once the service is back and holding (the handoff's "
            "stabilization time), 'active' if it degrades again, 'resolved' to close it so the next incident "
            "starts fresh."
        ),
    ] = None,
    note: Annotated[
        str | None, Field(description="Why, recorded with the change on the timeline.", max_length=MAX_NOTE)
    ] = None,
) -> Declaration:
    """Declare the incident this server works on (title and severity), adopting the untitled incident earlier tool
    calls opened; or change a declared one by incident_id: severity, title, status 'stabilized' or 'resolved'.
    Writes only the server's journal (the incident timeline), never the cluster. Call it as soon as impact is known."""
    request = Request(
        title=one_line(title, "title"),
        severity=severity,
        namespace=namespace,
        incident_id=incident_id,
        status=status,
        note=one_line(note, "note"),
    )
    journal = deps.journal
    for _ in range(SAVE_ATTEMPTS):
        now = deps.now().timestamp()
        opened = journal.incidents(open_only=True, limit=MAX_OPEN)
        target = None
        if incident_id is not None:
            target = journal.incident(incident_id)
            if target is None:
                raise unknown_incident(incident_id, journal.incidents(limit=RECENT_INCIDENTS))
            lane_taken(opened, target, namespace)
        live = []
        if target is not None and status == "resolved":
            live = live_commands(journal, target.id, now, deps.scope())
        meets = declared_over([r for r in opened if not foreign_work(journal, r, namespace)], namespace)
        amendment = amend(request, meets, target, now, live)
        if amendment.outcome == "unchanged":
            return result(deps, amendment.outcome, amendment.after, amendment.changes)
        saved = journal.save_incident(amendment.before, amendment.after, amendment.events)
        if saved is not None:
            return result(deps, amendment.outcome, saved, amendment.changes)
    raise errors.IncidentError(
        "the incident record kept changing under this call (another process is updating it); nothing was changed "
        "by this call. Read the current state and call declare_incident again"
    )


def foreign_work(journal: Store, row: IncidentRow, namespace: str | None) -> bool:
    """An untitled incident a namespace's declaration must not adopt: it holds plans in another namespace, which the
    declared incident's handoff would leave out and the other namespace's own incident would never get. It stays
    open without a namespace (the handoff names it) for that namespace's declaration to adopt."""
    if namespace is None or row.namespace is not None or row.declared_at is not None:
        return False
    targets = {(r.plan.get("target") or {}).get("namespace") for r in journal.commands(incident=row.id)}
    return any(isinstance(t, str) and t != namespace for t in targets)


def result(deps: Deps, outcome: DeclarationResult, row: IncidentRow, changes: list[str]) -> Declaration:
    closing = row.status in ("stabilized", "resolved")
    warnings = measures_in_place(deps.journal, row.id, deps.scope()) if closing else []
    severity = f" {row.severity}" if row.severity else ""
    summary = f"{outcome} incident {row.id} {row.title!r}{severity}, {row.status}"
    if row.namespace:
        summary += f", namespace {row.namespace}"
    if changes and outcome == "updated":
        summary += ": " + "; ".join(changes)
    if warnings:
        summary += f". {len(warnings)} temporary measure(s) still in place"
    return Declaration(
        summary=summary,
        outcome=outcome,
        incident=info(row),
        changes=changes,
        warnings=warnings,
        next_step=next_step(row),
    )

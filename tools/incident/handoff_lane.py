"""Which incident incident_handoff(namespace=X) hands off, and which of its records are X's story.

One incident is open per namespace (tools.engine.attribution). Without incident_id the handoff takes X's open
incident, else the open one without a namespace; when that is still empty, the most recently resolved declared one
of X (or without a namespace). An incident declared for another namespace is refused, naming the call that hands it
off. A namespace's incident tells only that namespace's story: its actions, measures, verdicts and tool calls in X
or on a node (journals written before incidents had namespaces may hold another namespace's under it); an incident
without a namespace tells everything recorded under it, as before.

Layer: tools.incident.
"""

from __future__ import annotations

from typing import Any

from incident_response.tools.core import errors
from incident_response.tools.engine.attribution import incident_for
from incident_response.tools.engine.records import CommandRow, Event, IncidentRow, ToolCall
from incident_response.tools.engine.store import Store
from incident_response.tools.playbook.declaration import describe, unknown_incident

RECENT_INCIDENTS = 100


def choose_incident(journal: Store, incident_id: str | None, namespace: str) -> tuple[IncidentRow, str]:
    """(the incident to hand off, why that one)."""
    if incident_id is not None:
        row = journal.incident(incident_id)
        if row is None:
            raise unknown_incident(incident_id, journal.incidents(limit=5))
        if row.namespace is not None and row.namespace != namespace:
            raise errors.InvalidArgument(
                f"incident {describe(row)} is the incident of namespace {row.namespace}, not {namespace}; hand it "
                f"off with incident_handoff(namespace={row.namespace!r}, incident_id={row.id!r}), or leave "
                f"incident_id out for the incident of {namespace}"
            )
        return row, "named by incident_id"
    recent = [r for r in journal.incidents(limit=RECENT_INCIDENTS) if r.namespace in (None, namespace)]
    current = incident_for([r for r in recent if r.closed_at is None], namespace)
    if current is not None and current.declared_at is not None:
        return current, "the open, declared incident"
    if current is not None and has_activity(journal, current):
        return current, "the open incident (never declared)"
    resolved = next((r for r in recent if r.status == "resolved" and r.declared_at is not None), None)
    if resolved is not None:
        return resolved, "the most recently resolved incident (the open one has nothing on its timeline yet)"
    if current is not None:
        return current, "the open incident (never declared, nothing on its timeline yet)"
    fresh = journal.incident(journal.current_incident(namespace))
    assert fresh is not None
    return fresh, "nothing was recorded before this call"


def has_activity(journal: Store, incident: IncidentRow) -> bool:
    if journal.commands(incident=incident.id):
        return True
    return any(e.kind != "incident_opened" for e in journal.events(incident=incident.id))


def in_lane(incident: IncidentRow, namespace: str | None) -> bool:
    """Whether a record about `namespace` (None: a node, or nothing namespaced) belongs to the incident's story."""
    return incident.namespace is None or namespace is None or namespace == incident.namespace


def command_in_lane(incident: IncidentRow, row: CommandRow) -> bool:
    return in_lane(incident, (row.plan.get("target") or {}).get("namespace"))


def event_in_lane(incident: IncidentRow, event: Event) -> bool:
    """Events about a command follow it (the caller drops those of commands left out); others by what they name."""
    detail: dict[str, Any] = event.detail or {}
    named = [str(n) for n in [detail.get("namespace"), *(detail.get("namespaces") or [])] if n]
    return not named or any(in_lane(incident, n) for n in named)


def call_in_lane(incident: IncidentRow, call: ToolCall) -> bool:
    namespace = call.arguments.get("namespace")
    return in_lane(incident, namespace if isinstance(namespace, str) else None)


def elsewhere(journal: Store, incident: IncidentRow) -> list[str]:
    """For a namespace's incident: the actions of the open incident without a namespace, which took this server's
    work in other namespaces meanwhile (an incident spanning namespaces is declared without one)."""
    if incident.namespace is None or incident.closed_at is not None:
        return []
    found = []
    for other in journal.incidents(open_only=True, limit=RECENT_INCIDENTS):
        if other.namespace is not None:
            continue
        rows = journal.commands(incident=other.id)
        where = sorted({str((r.plan.get("target") or {}).get("namespace") or "nodes") for r in rows})
        if where:
            found.append(
                f"Plans in {', '.join(where)} are recorded under the open incident {describe(other)}, not this "
                f"one (one incident per namespace): if they belong to this incident, hand them off too with "
                f"incident_handoff(namespace=..., incident_id={other.id!r})"
            )
    return found


def measure_bears_on(row: CommandRow, incident: IncidentRow, namespace: str) -> bool:
    """A measure this incident left (a namespace's incident: in its namespace), or one still in place where it
    happens: in its namespace or on a node. Another namespace's measure is not part of this handoff."""
    where = (row.plan.get("target") or {}).get("namespace")
    return where in (None, namespace) or (row.incident == incident.id and incident.namespace is None)

"""Which open incident a tool call, a plan or a declaration belongs to: one open incident per namespace (F17).

Two teams paged at once on one server each declare their own incident. An open incident is either a namespace's
(declared with namespace=X: `IncidentRow.namespace` is X) or wide (no namespace: the untitled incident tool calls
open, or one declared without a namespace). First match wins:

    in namespace X        -> the open incident of X; else the open wide one; else a new untitled wide one
    in no namespace       -> the open wide one; else the only open one; else (several namespaces' incidents are
    (top_nodes, a node        open): a tool call goes to each of them, a node plan to the one whose namespace has
    plan, server_info)        the most pods on the node (a restore of a node measure: the measure's own incident),
                              the first opened on a tie; every open incident's handoff lists a node measure
    confirm/cancel (token)-> the command's own incident

So until an incident is declared for a namespace every call goes to one incident, as before incidents had
namespaces; and a call in one team's namespace never lands on another team's incident.

Layer: tools.engine.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from incident_response.tools.engine.records import IncidentRow
from incident_response.tools.engine.store import Store

if TYPE_CHECKING:  # every call's record reads this module; plans (~60 ms of import) only the planners' calls
    from incident_response.tools.engine.plan import PlanDraft

# Open incidents read to attribute a call: one per namespace of the allow-list, and one without, at most.
MAX_OPEN = 1000


def incident_for(open_rows: Sequence[IncidentRow], namespace: str | None) -> IncidentRow | None:
    """The open incident a call in `namespace` belongs to (`open_rows`: newest first); None: none fits, so a new
    untitled wide incident is to be opened."""
    if namespace is not None:
        own = next((r for r in open_rows if r.namespace == namespace), None)
        if own is not None:
            return own
    wide = next((r for r in open_rows if r.namespace is None), None)
    if wide is not None:
        return wide
    if namespace is None and open_rows:
        return open_rows[-1]  # the first opened
    return None


def incidents_for_call(open_rows: Sequence[IncidentRow], namespace: str | None) -> list[IncidentRow]:
    """Every incident a tool call is recorded under: one, but a call in no namespace while only several namespaces'
    incidents are open is evidence for each of them. Empty: a new untitled wide incident is to be opened."""
    if namespace is None and open_rows and all(r.namespace is not None for r in open_rows):
        return list(reversed(open_rows))
    found = incident_for(open_rows, namespace)
    return [] if found is None else [found]


def incident_for_node(open_rows: Sequence[IncidentRow], pods: Mapping[str, int]) -> IncidentRow | None:
    """The incident a plan on a node belongs to; `pods`: the node's pods per namespace."""
    if len(open_rows) <= 1 or any(r.namespace is None for r in open_rows):
        return incident_for(open_rows, None)
    oldest_first = list(reversed(open_rows))
    return max(oldest_first, key=lambda r: pods.get(r.namespace or "", 0))  # max keeps the first of a tie


def declared_over(open_rows: Sequence[IncidentRow], namespace: str | None) -> IncidentRow | None:
    """The open incident a declaration without incident_id meets (`open_rows`: newest first): with a namespace, that
    namespace's, else the untitled wide one (adopted); without, the wide one, else the only (or newest) open one.
    None: the declaration makes a new incident."""
    if namespace is None:
        return next((r for r in open_rows if r.namespace is None), open_rows[0] if open_rows else None)
    own = next((r for r in open_rows if r.namespace == namespace), None)
    if own is not None:
        return own
    return next((r for r in open_rows if r.namespace is None and r.declared_at is None), None)


def same_lane(row: IncidentRow, namespace: str | None) -> bool:
    return row.closed_at is None and row.namespace == namespace


def call_incidents(journal: Store, arguments: Mapping[str, Any]) -> list[str]:
    """The incidents a tool call is recorded under: a call naming a command (confirm, cancel) goes to the command's
    incident, a restore_measure call to the incident of the measure's namespace, any other by its namespace."""
    token = arguments.get("token")
    if isinstance(token, str) and (row := journal.command(token)) is not None and journal.incident(row.incident):
        return [row.incident]  # of this server's scope: another server's plan does not put the call on its incident
    namespace = arguments.get("namespace")
    measure = arguments.get("measure_id")
    if isinstance(measure, str) and (row := journal.command(measure)) is not None:
        namespace = (row.plan.get("target") or {}).get("namespace")
    where = namespace if isinstance(namespace, str) else None
    found = incidents_for_call(journal.incidents(open_only=True, limit=MAX_OPEN), where)
    return [r.id for r in found] or [journal.current_incident(where)]


def plan_incident(journal: Store, draft: PlanDraft, node_pods: Callable[[str], Mapping[str, int]]) -> str:
    """The incident a plan is recorded under: its target's namespace's; a node's by the rules above (`node_pods`
    reads the node's pods per namespace, only when several namespaces' incidents are open)."""
    target = draft.target
    if target.namespace or target.kind != "Node":
        return journal.current_incident(target.namespace)
    open_rows = journal.incidents(open_only=True, limit=MAX_OPEN)
    restored = journal.command(draft.restores) if draft.restores else None
    if restored is not None and any(r.id == restored.incident for r in open_rows):
        return restored.incident
    found = incident_for_node(open_rows, node_pods(target.name) if len(open_rows) > 1 else {})
    return found.id if found is not None else journal.current_incident(None)

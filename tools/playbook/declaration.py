"""The rules of declaring an incident, as a pure function: what a declare_incident call does to the journal's row.

One incident is open per namespace (tools.engine.attribution): a call acting in a namespace goes to that
namespace's open incident, else to the open incident without a namespace, opening an untitled one when none is
open. `current` is the open incident the declaration meets (attribution.declared_over: with a namespace, that
namespace's, else the untitled one; without, the one without a namespace, else the open one). `amend` decides,
first match wins; every refusal changes nothing and says what to call instead:

    no incident_id:  a status given            -> refused: say which incident, by id
                     nothing open (for it)     -> a new incident is declared (title and severity required)
                     the open one is untitled  -> it is adopted: same id, its timeline so far is kept; unless it
                                                  was opened over STALE_UNTITLED ago: refused, say adopt it by id
                                                  or resolve it (its calls may belong to no incident at all)
                     the open one is declared  -> the same title and severity again is a no-op (a retried call);
                                                  anything else is refused: change it by id, or resolve it first,
                                                  or declare for another namespace
    incident_id:     resolved                  -> refused: a resolved incident stays closed; declare a new one
                     untitled                  -> title + severity declare it; status=resolved alone closes it
                     declared                  -> title, severity, namespace and status change, one timeline
                                                  event each; nothing to change is a no-op
    status=resolved while a command of the incident is still live (pending, approved, executing) -> refused.

(An unknown incident_id is refused by the tool, which can list the journal's incidents.) Stabilized means the
service is back and being watched: it is the handoff's stabilization time. Resolved closes the incident; the next
tool call opens a fresh untitled one; other namespaces' incidents stay open.

Layer: tools.playbook.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

from pydantic import BaseModel, Field

from incident_response.tools.core import errors
from incident_response.tools.engine.journal import IncidentRow, IncidentStatus

Severity = Literal["SEV1", "SEV2", "SEV3", "SEV4"]
SEVERITIES: tuple[Severity, ...] = ("SEV1", "SEV2", "SEV3", "SEV4")
DeclaredStatus = Literal["active", "stabilized", "resolved"]
DeclarationResult = Literal["declared", "adopted", "updated", "unchanged"]
# Every tool call lands on an open incident, so an untitled one opened by a quiet look around days ago stays open;
# declaring silently over it would hand that old activity off as this incident's.
STALE_UNTITLED = 2 * 3600
SEVERITY_HELP = (
    "How bad it is for the people who use the service. SEV1: a customer-facing service is down, or data is being "
    "lost or exposed; page everyone needed now. SEV2: a core function is broken or badly slowed for many users, with "
    "no workaround. SEV3: partial degradation: some users or a non-core feature, or a workaround exists. SEV4: no "
    "user impact yet: a warning sign, an internal tool, or lost redundancy."
)


class IncidentInfo(BaseModel):
    incident_id: str
    title: str
    severity: Severity | None = Field(description="None until the incident is declared.")
    namespace: str | None
    status: IncidentStatus = Field(
        description="undeclared: auto-opened so tool calls are attributed, never declared; active: declared and "
        "being mitigated; stabilized: declared stable and being watched; resolved: closed."
    )
    opened_at: datetime = Field(description="When the journal first attributed anything to it.")
    declared_at: datetime | None
    stabilized_at: datetime | None
    resolved_at: datetime | None


@dataclass(frozen=True)
class Request:
    title: str | None = None
    severity: Severity | None = None
    namespace: str | None = None
    incident_id: str | None = None
    status: DeclaredStatus | None = None
    note: str | None = None


@dataclass
class Amendment:
    """What `amend` decided: `after` replaces `before` (None: insert a new incident), with its timeline events."""

    outcome: DeclarationResult
    before: IncidentRow | None
    after: IncidentRow
    events: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    changes: list[str] = field(default_factory=list)


def when(epoch: float | None) -> datetime | None:
    return None if epoch is None else datetime.fromtimestamp(epoch, UTC)


def severity_of(row: IncidentRow) -> Severity | None:
    return next((s for s in SEVERITIES if s == row.severity), None)


def info(row: IncidentRow) -> IncidentInfo:
    return IncidentInfo(
        incident_id=row.id,
        title=row.title,
        severity=severity_of(row),
        namespace=row.namespace,
        status=row.status,
        opened_at=datetime.fromtimestamp(row.opened_at, UTC),
        declared_at=when(row.declared_at),
        stabilized_at=when(row.stabilized_at),
        resolved_at=when(row.closed_at),
    )


def one_line(text: str | None, what: str) -> str | None:
    """Free text as one clean line (it becomes a markdown heading and timeline entries); blank is refused."""
    if text is None:
        return None
    clean = " ".join("".join(c for c in text if c.isspace() or unicodedata.category(c) != "Cc").split())
    if not clean:
        raise errors.InvalidArgument(f"{what} is blank; give a few words, or leave it out")
    return clean


def describe(row: IncidentRow) -> str:
    severity = f", {row.severity}" if row.severity else ""
    namespace = f", namespace {row.namespace}" if row.namespace else ""
    return f"{row.id} ({row.title!r}{severity}{namespace}, {row.status})"


def unknown_incident(incident_id: str, known: list[IncidentRow]) -> errors.InvalidArgument:
    """The refusal for an incident id the journal does not hold; `known` are its newest incidents."""
    listing = "; ".join(describe(row) for row in known) or "none yet"
    return errors.InvalidArgument(
        f"no incident {incident_id!r} of this server's cluster and namespace allow-list (newest first: {listing}); "
        "pass one of those ids, or leave incident_id out for the incident being worked on"
    )


def clock(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).strftime("%H:%M:%S UTC")


def day(epoch: float) -> str:
    """With the date: an untitled incident may have been opened days ago."""
    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%d %H:%M UTC")


def amend(
    request: Request,
    current: IncidentRow | None,
    target: IncidentRow | None,
    now: float,
    live_commands: Sequence[str] = (),
) -> Amendment:
    """Decide what a declare_incident call does. `current` is the open incident it meets, `target` the one named by
    `request.incident_id` (the caller has checked it exists); `live_commands` describe the target's live commands."""
    if request.incident_id is None:
        return _without_id(request, current, now)
    if target is None:
        raise errors.InvalidArgument(f"no incident {request.incident_id!r} in this server's journal")
    if target.closed_at is not None:
        raise errors.InvalidArgument(
            f"incident {describe(target)} was resolved at {clock(target.closed_at)} and stays closed; nothing was "
            "changed. If the problem is back, declare a new incident (declare_incident without incident_id) and "
            f"mention {target.id} in its title or note"
        )
    if target.declared_at is None:
        if request.title is None and request.severity is None:
            if request.status == "resolved":
                return _status(request, Amendment("updated", target, target), now, live_commands)
            raise errors.InvalidArgument(
                f"incident {describe(target)} was opened automatically and never declared; give title and severity "
                "to declare it (status='resolved' alone closes it without declaring)"
            )
        declared = _declare(request, target, now)
        return _status(request, declared, now, live_commands)
    return _status(request, _fields(request, target), now, live_commands)


def _without_id(request: Request, current: IncidentRow | None, now: float) -> Amendment:
    if request.status is not None:
        which = f"; the open one is {describe(current)}" if current else "; no incident is open"
        raise errors.InvalidArgument(
            f"status={request.status!r} changes an existing incident: pass its incident_id too{which}"
        )
    if current is not None and current.declared_at is None and now - current.opened_at > STALE_UNTITLED:
        hours = int((now - current.opened_at) // 3600)
        raise errors.InvalidArgument(
            f"the open incident {current.id} was opened automatically at {day(current.opened_at)} ({hours} h ago) "
            "and never declared; declaring now would make everything recorded since then (tool calls, commands) "
            "part of this incident; nothing was changed. If that activity belongs to this incident, declare it by id: "
            f"declare_incident(incident_id={current.id!r}, title=..., severity=...). Otherwise close it first with "
            f"declare_incident(incident_id={current.id!r}, status='resolved'), then declare again"
        )
    if current is not None and current.declared_at is not None:
        same = (request.title, request.severity) == (current.title, current.severity) and request.namespace in (
            None,
            current.namespace,
        )
        if same:
            return Amendment("unchanged", current, current)
        where = f" in namespace {current.namespace}" if current.namespace else ""
        raise errors.InvalidArgument(
            f"incident {describe(current)} is already declared and open; nothing was changed. To change its title, "
            f"severity or namespace, call declare_incident again with incident_id={current.id!r}. If this is a "
            f"different incident{where}, end that one first with declare_incident(incident_id={current.id!r}, "
            "status='resolved'), then declare the new one. An incident in another namespace is declared with its "
            "namespace (one open incident per namespace)"
        )
    return _declare(request, current, now)


def _declare(request: Request, untitled: IncidentRow | None, now: float) -> Amendment:
    """A new incident, or the untitled open one adopted (same id and opening time, so its timeline stays)."""
    missing = [name for name in ("title", "severity") if getattr(request, name) is None]
    if missing:
        raise errors.InvalidArgument(
            f"declaring an incident needs {' and '.join(missing)}: title is a few words on the impact, severity is "
            "SEV1 (worst) to SEV4 (see the parameter's description)"
        )
    assert request.title is not None and request.severity is not None
    values = {"title": request.title, "severity": request.severity, "declared_at": now}
    if request.namespace is not None:
        values["namespace"] = request.namespace
    if untitled is None:
        after = IncidentRow(id="", opened_at=now, **values)
        outcome: DeclarationResult = "declared"
        changes = [f"declared {request.title!r} as {request.severity}"]
    else:
        after = untitled.model_copy(update=values)
        outcome = "adopted"
        changes = [
            f"declared {request.title!r} as {request.severity}, adopting the untitled incident opened at "
            f"{day(untitled.opened_at)} (its timeline so far is kept)"
        ]
    if after.namespace:
        changes[0] += f" in namespace {after.namespace}"
    detail = {
        "title": after.title,
        "severity": after.severity,
        "namespace": after.namespace,
        "adopted": untitled is not None,
        "note": request.note,
    }
    return Amendment(outcome, untitled, after, [("declared", detail)], changes)


def _fields(request: Request, target: IncidentRow) -> Amendment:
    """Title, severity and namespace changes of a declared incident, one event each."""
    amendment = Amendment("updated", target, target)
    for name in ("title", "severity", "namespace"):
        new, old = getattr(request, name), getattr(target, name)
        if new is None or new == old:
            continue
        amendment.after = amendment.after.model_copy(update={name: new})
        amendment.events.append((f"{name}_changed", {"from": old, "to": new, "note": request.note}))
        text = f"{name} {old!r} -> {new!r}" if old else f"{name} set to {new!r}"
        if name == "severity" and old:
            text += " (raised)" if new < old else " (lowered)"  # SEV1 is the worst: a smaller number is a raise
        amendment.changes.append(text)
    return amendment


def _status(request: Request, amendment: Amendment, now: float, live_commands: Sequence[str]) -> Amendment:
    row = amendment.after
    note = {"note": request.note}
    if request.status == "resolved":
        if live_commands:
            raise errors.InvalidArgument(
                f"incident {row.id} still has live commands: {'; '.join(live_commands)}. Confirm or cancel each "
                "(cancel_command; list_pending_commands shows their tokens), then resolve; nothing was changed"
            )
        amendment.after = row.model_copy(update={"closed_at": now})
        amendment.events.append(("resolved", {**note, "declared": row.declared_at is not None}))
        amendment.changes.append("resolved: the next tool call in its namespace opens a fresh untitled incident")
    elif request.status == "stabilized" and row.stabilized_at is None:
        amendment.after = row.model_copy(update={"stabilized_at": now})
        amendment.events.append(("stabilized", note))
        amendment.changes.append(f"stabilized at {clock(now)}")
    elif request.status == "active" and row.stabilized_at is not None:
        amendment.after = row.model_copy(update={"stabilized_at": None})
        amendment.events.append(("reactivated", {**note, "was_stabilized_at": row.stabilized_at}))
        amendment.changes.append(f"active again: the stabilization at {clock(row.stabilized_at)} is withdrawn")
    if amendment.outcome == "updated" and not amendment.events:
        amendment.outcome = "unchanged"
    return amendment

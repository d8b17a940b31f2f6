"""The team-mode store's objects: names, labels, and the journal's rows as objects of our CRDs (deploy/crds/).

Pure data, no I/O. Every value that goes into an object passes the masker first, as every value the SQLite journal
writes does (README, Secrets): free text through `mask_text`, structured values through `mask_data`.

A pending command is a `PendingCommand` named after a digest of its token (the token is no valid object name, and a
name must not be guessable into a token). A human's decision on it is an `Approval` named `<command>-approve` or
`<command>-deny`, created with the human's own credentials; the status of the command records what the server did
(claimed, ran, cancelled, expired). While the status is live, a denial decides, then an approval.

Layer: tools.engine.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping
from typing import Any

from incident_response.tools.core.masking import mask_data, mask_text
from incident_response.tools.engine.records import CommandRow, Event, IncidentRow, ToolCall

GROUP = "incident-response.dev"
VERSION = "v1alpha1"
INCIDENTS = f"incidents.{GROUP}"
COMMANDS = f"pendingcommands.{GROUP}"
APPROVALS = f"approvals.{GROUP}"
ENTRIES = f"journalentries.{GROUP}"
SEAL_SECRET = "incident-response-seal-key"
OPEN_POINTER = "open-incident"

LABEL_INCIDENT = f"{GROUP}/incident"
LABEL_COMMAND = f"{GROUP}/command"
LABEL_TYPE = f"{GROUP}/type"
LIVE = ("pending", "approved")
APPROVED, DENIED = "Approved", "Denied"

_NAME = re.compile(r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$")
_LABEL_VALUE = re.compile(r"^[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$")
# CommandRow fields the server writes into a command's status, by their name there.
_STATUS_FIELDS = {
    "approved_fingerprint": "approvedFingerprint",
    "decided_by": "decidedBy",
    "decided_channel": "decidedChannel",
    "decided_principal": "decidedPrincipal",
    "decided_at": "decidedAt",
    "claimed_at": "claimedAt",
    "finished_at": "finishedAt",
    "claimer": "claimer",
    "result": "result",
}
_INCIDENT_FIELDS = {
    "id": "id",
    "title": "title",
    "opened_at": "openedAt",
    "closed_at": "closedAt",
    "severity": "severity",
    "namespace": "namespace",
    "declared_at": "declaredAt",
    "stabilized_at": "stabilizedAt",
    "scope": "scope",
}


def masked(value: Any) -> Any:
    """A value as it may be stored: strings through the free-text masker, JSON through the data masker."""
    if value is None or isinstance(value, bool | int | float):
        return value
    if isinstance(value, str):
        return mask_text(value)
    return mask_data(json.loads(json.dumps(value, default=str)))


def command_name(token: str) -> str:
    return "cmd-" + hashlib.sha256(token.encode("utf-8")).hexdigest()[:40]


def approval_name(token: str, decision: str) -> str:
    return f"{command_name(token)}-{'approve' if decision == APPROVED else 'deny'}"


def incident_name(incident_id: str) -> str:
    """The object name of an incident: its id, or a digest of it when the id is no valid name (a human chose it)."""
    return (
        incident_id
        if _NAME.match(incident_id)
        else "inc-h-" + hashlib.sha256(incident_id.encode("utf-8")).hexdigest()[:40]
    )


def label_value(value: str) -> str:
    """`value` as a label value, or a digest of it when it cannot be one (an incident id a human chose)."""
    return value if _LABEL_VALUE.match(value) else "h-" + hashlib.sha256(value.encode("utf-8")).hexdigest()[:40]


def selector(**labels: str | None) -> str | None:
    parts = [f"{GROUP}/{key}={label_value(value)}" for key, value in labels.items() if value is not None]
    return ",".join(parts) or None


def new_object(kind: str, name: str, spec: dict[str, Any], **labels: str | None) -> dict[str, Any]:
    meta: dict[str, Any] = {"name": name}
    values = {f"{GROUP}/{key}": label_value(v) for key, v in labels.items() if v is not None}
    if values:
        meta["labels"] = values
    # An absent field reads as None; writing null would also do on a real API server (the schemas say nullable).
    body = {key: value for key, value in spec.items() if value is not None}
    return {"apiVersion": f"{GROUP}/{VERSION}", "kind": kind, "metadata": meta, "spec": body}


def spec(obj: Mapping[str, Any]) -> dict[str, Any]:
    found = obj.get("spec")
    return dict(found) if isinstance(found, dict) else {}


def status(obj: Mapping[str, Any]) -> dict[str, Any]:
    found = obj.get("status")
    return dict(found) if isinstance(found, dict) else {}


def name_of(obj: Mapping[str, Any]) -> str:
    return str((obj.get("metadata") or {}).get("name") or "")


def resource_version(obj: Mapping[str, Any]) -> str:
    return str((obj.get("metadata") or {}).get("resourceVersion") or "")


def uid_of(obj: Mapping[str, Any]) -> str:
    return str((obj.get("metadata") or {}).get("uid") or "")


def restarts(pod: Mapping[str, Any]) -> int:
    """How often the pod's containers restarted (a restarted container runs a new process)."""
    statuses = (pod.get("status") or {}).get("containerStatuses") or []
    return sum(int(s.get("restartCount") or 0) for s in statuses if isinstance(s, dict))


def insertion_order(obj: Mapping[str, Any]) -> int:
    """Ties of time broken as SQLite's rowid breaks them: the order objects were made in (`spec.seq`, an entry id)."""
    found = spec(obj).get("seq")
    return int(found) if isinstance(found, int) else 0


# --- incidents ----------------------------------------------------------------------------------------------------


def incident_object(row: IncidentRow, seq: int, history: list[dict[str, Any]]) -> dict[str, Any]:
    """The incident with the events of its opening, in one object (one write)."""
    body = incident_spec(row) | {"seq": seq, "history": history}
    return new_object("Incident", incident_name(row.id), body, incident=row.id)


def incident_spec(row: IncidentRow) -> dict[str, Any]:
    out = {there: masked(getattr(row, here)) for here, there in _INCIDENT_FIELDS.items()}
    out["status"] = row.status
    return out


def incident_row(obj: Mapping[str, Any]) -> IncidentRow:
    found = spec(obj)
    return IncidentRow(**{here: found.get(there) for here, there in _INCIDENT_FIELDS.items()})


# --- pending commands ---------------------------------------------------------------------------------------------


def command_object(plan: dict[str, Any], *, created_at: float, expires_at: float) -> dict[str, Any]:
    token = str(plan["token"])
    body = {
        "token": token,
        "incident": masked(str(plan["incident"])),
        "tool": masked(str(plan["tool"])),
        "command": masked(str(plan.get("command") or "")),
        "summary": masked(str(plan.get("summary") or "")),
        "fingerprint": str(plan["fingerprint"]),
        "createdAt": created_at,
        "expiresAt": expires_at,
        "temporary": bool(plan.get("temporary")),
        "restores": plan.get("restores"),
        "plan": masked(plan),
    }
    return new_object("PendingCommand", command_name(token), body, incident=str(plan["incident"]))


def status_patch(to_state: str, fields: Mapping[str, Any]) -> dict[str, Any]:
    """The status a transition writes: the new state and the row fields it sets, by their names in the status."""
    out: dict[str, Any] = {"state": to_state}
    for key, value in fields.items():
        if key not in _STATUS_FIELDS:
            raise ValueError(f"a command's status has no field {key!r}")
        out[_STATUS_FIELDS[key]] = masked(value)
    return out


def approval_object(
    row: CommandRow, decision: str, *, approver: str, channel: str, at: float, principal: str | None, reason: str | None
) -> dict[str, Any]:
    body = {
        "command": command_name(row.token),
        "decision": decision,
        # A denial is bound to what was denied as an approval is to what was approved.
        "fingerprint": row.fingerprint,
        "approver": masked(approver),
        "channel": channel,
        "principal": masked(principal),
        "reason": masked(reason),
        "decidedAt": at,
    }
    labels = {"incident": row.incident, "command": command_name(row.token)}
    return new_object("Approval", approval_name(row.token, decision), body, **labels)


def decision_of(obj: Mapping[str, Any]) -> tuple[str, str] | None:
    """(the command's name, Approved or Denied) of an Approval whose name and content agree; None otherwise."""
    name, found = name_of(obj), spec(obj)
    for suffix, decision in (("-approve", APPROVED), ("-deny", DENIED)):
        if name.endswith(suffix):
            command = name[: -len(suffix)]
            if found.get("command") == command and found.get("decision") == decision:
                return command, decision
    return None


def command_row(obj: Mapping[str, Any], approvals: Mapping[str, Mapping[str, Any]]) -> CommandRow:
    """The row of a command object, its state decided with the Approvals of its name (by decision).

    While the status is live, only Approval objects decide: a status that says `approved` (the server's own write,
    e.g. a claim handed back) counts as pending until a human's Approval says otherwise, so the server's credentials,
    which may write the status, can never approve. A denial outranks an approval."""
    found, written = spec(obj), status(obj)
    state = str(written.get("state") or "pending")
    decided: dict[str, Any] = {here: written.get(there) for here, there in _STATUS_FIELDS.items()}
    if state in LIVE:
        state = "pending"
        for key in ("decided_by", "decided_channel", "decided_principal", "decided_at", "approved_fingerprint"):
            decided[key] = None
    decision = approvals.get(DENIED) if state == "pending" else None
    if decision is None and (state == "pending" or decided["decided_by"] is None):
        # Pending: an approval decides it. Finished: it shows who approved what ran.
        decision = approvals.get(APPROVED)
    if decision is not None:
        by = spec(decision)
        if state == "pending":
            state = "approved" if by.get("decision") == APPROVED else "denied"
        decided |= {
            "decided_by": by.get("approver"),
            "decided_channel": by.get("channel"),
            "decided_principal": by.get("principal"),
            "decided_at": by.get("decidedAt"),
            "approved_fingerprint": by.get("fingerprint") if by.get("decision") == APPROVED else None,
        }
    return CommandRow(
        token=str(found.get("token")),
        incident=str(found.get("incident")),
        tool=str(found.get("tool")),
        state=state,
        plan=dict(found.get("plan") or {}),
        fingerprint=str(found.get("fingerprint")),
        created_at=float(found.get("createdAt") or 0),
        expires_at=float(found.get("expiresAt") or 0),
        temporary=bool(found.get("temporary")),
        restores=found.get("restores"),
        **decided,
    )


def history_entry(
    kind: str,
    *,
    number: int,
    at: float,
    actor: str | None = None,
    channel: str | None = None,
    detail: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """A command's timeline event as its status keeps it: written with the state change it records, in one write."""
    found = {
        "id": number,
        "at": at,
        "kind": masked(kind),
        "actor": masked(actor),
        "channel": masked(channel),
        "detail": masked(detail),
    }
    return {key: value for key, value in found.items() if value is not None}


def history_events(obj: Mapping[str, Any]) -> list[Event]:
    """The events a command's status or an incident's spec keeps (written with the changes they record)."""
    about = spec(obj)
    incident = about.get("incident") if "token" in about else about.get("id")
    kept = status(obj).get("history") if "token" in about else about.get("history")
    return [
        Event(
            id=int(entry.get("id") or 0),
            incident=incident,
            at=float(entry.get("at") or 0),
            token=about.get("token"),
            kind=str(entry.get("kind")),
            actor=entry.get("actor"),
            channel=entry.get("channel"),
            detail=entry.get("detail"),
        )
        for entry in kept or []
        if isinstance(entry, dict)
    ]


def approval_event(decision: Mapping[str, Any], command: Mapping[str, Any]) -> Event:
    """The timeline event of a human's decision: the Approval object is the record (its creator cannot write the
    journal's entries)."""
    by, about = spec(decision), spec(command)
    at = float(by.get("decidedAt") or 0)
    return Event(
        id=sequence_at(at),
        incident=about.get("incident"),
        at=at,
        token=about.get("token"),
        kind="approved" if by.get("decision") == APPROVED else "denied",
        actor=by.get("approver"),
        channel=by.get("channel"),
        detail={"reason": by.get("reason")},
    )


# --- journal entries ----------------------------------------------------------------------------------------------


def sequence_at(at: float, count: int = 0) -> int:
    """An entry's id: its time in microseconds, then a per-process count (several entries per microsecond)."""
    return int(at * 1_000_000) * 10_000 + count % 10_000


def entry_id(obj: Mapping[str, Any]) -> int:
    """The id is the name's number (`ev-<id>-<suffix>`)."""
    parts = name_of(obj).split("-")
    return int(parts[1]) if len(parts) > 2 and parts[1].isdigit() else 0


def event_row(obj: Mapping[str, Any]) -> Event:
    found = spec(obj)
    return Event(
        id=entry_id(obj),
        incident=found.get("incident"),
        at=float(found.get("at") or 0),
        token=found.get("token"),
        kind=str(found.get("kind")),
        actor=found.get("actor"),
        channel=found.get("channel"),
        detail=found.get("detail"),
    )


def tool_call_row(obj: Mapping[str, Any]) -> ToolCall:
    found = spec(obj)
    return ToolCall(
        id=entry_id(obj),
        incident=found.get("incident"),
        at=float(found.get("at") or 0),
        tool=str(found.get("tool")),
        arguments=dict(found.get("arguments") or {}),
        status=str(found.get("status")),
        error=found.get("error"),
        duration_ms=float(found.get("durationMs") or 0),
        pid=found.get("pid"),
        cluster=found.get("cluster"),
    )

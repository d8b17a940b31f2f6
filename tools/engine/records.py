"""What the journal holds, whichever store keeps it: incidents, pending commands, timeline events, tool calls.

Layer: tools.engine.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel

UNTITLED = "untitled incident"

IncidentStatus = Literal["undeclared", "active", "stabilized", "resolved"]


class IncidentRow(BaseModel):
    """One incident. `declared_at` is None while it is the auto-opened untitled one; `closed_at` marks it resolved."""

    id: str
    title: str
    opened_at: float
    closed_at: float | None = None
    severity: str | None = None
    namespace: str | None = None
    declared_at: float | None = None
    stabilized_at: float | None = None
    # The scope of the server that opened it (tools.engine.incident_scope); None before incidents were scoped.
    scope: str | None = None

    @property
    def status(self) -> IncidentStatus:
        if self.closed_at is not None:
            return "resolved"
        if self.declared_at is None:
            return "undeclared"
        return "stabilized" if self.stabilized_at is not None else "active"


class CommandRow(BaseModel):
    token: str
    incident: str
    tool: str
    state: str
    plan: dict[str, Any]
    fingerprint: str
    created_at: float
    expires_at: float
    approved_fingerprint: str | None = None
    decided_by: str | None = None
    decided_channel: str | None = None
    decided_principal: str | None = None
    decided_at: float | None = None
    claimed_at: float | None = None
    finished_at: float | None = None
    result: dict[str, Any] | None = None
    temporary: bool = False
    restores: str | None = None
    claimer: dict[str, Any] | None = None


class Event(BaseModel):
    id: int
    incident: str | None
    at: float
    token: str | None
    kind: str
    actor: str | None = None
    channel: str | None = None
    detail: dict[str, Any] | None = None


class ToolCall(BaseModel):
    id: int
    incident: str | None
    at: float
    tool: str
    arguments: dict[str, Any]
    status: str
    error: str | None
    duration_ms: float
    pid: int | None
    cluster: dict[str, Any] | None = None  # the cluster the calling server talked to (ClusterIdentity as JSON)

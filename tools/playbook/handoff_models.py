"""The structured RCA handoff: what incident_handoff returns, section by section.

Layer: tools.playbook.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

from incident_response.tools.core.models import ToolResult, Truncation
from incident_response.tools.engine.measures import Measure
from incident_response.tools.playbook.declaration import IncidentInfo
from incident_response.tools.playbook.recovery_checks import RecoveryCheck, RecoveryVerdict

MAX_TIMELINE = 40
TIMELINE_HEAD = MAX_TIMELINE // 4  # a capped timeline keeps this many of its oldest entries, then the newest
MAX_ACTIONS = 20
MAX_MEASURES = 20
MAX_HYPOTHESES = 6
MAX_EVIDENCE_LINES = 5
MAX_TOOLS = 20
MAX_REPRODUCE = 15
MAX_QUESTIONS = 10
MAX_DEPLOYMENTS = 3
MAX_TEXT = 300  # one timeline line, action message or evidence line
MAX_DOCUMENT = 20_000


class TimePoint(BaseModel):
    at: datetime
    basis: str = Field(
        description="What the time is taken from: the rollout of the bad revision, the first Warning event, the "
        "declaration, the last succeeded mitigation, a declared stabilization, or the resolution."
    )


class TimelineEntry(BaseModel):
    at: datetime
    source: Literal["journal", "cluster"]
    kind: str = Field(
        description="journal: declared, severity_changed, planned, approved, denied, confirmed, succeeded, failed, "
        "unknown, stale, expired, cancelled, stabilized, resolved...; cluster: rollout, warning."
    )
    text: str


class ActionTaken(BaseModel):
    tool: str
    target: str = Field(description="kind/name -n namespace.")
    command: str
    result: str = Field(
        description="The command's state: succeeded, failed (nothing changed), partial (some steps applied), unknown "
        "(may have applied: verify), stale (not run), denied, cancelled, expired, pending, approved, executing."
    )
    ran: bool = Field(description="True when the command reached the cluster (succeeded, failed, partial, unknown).")
    message: str | None
    approved_by: str | None
    approval_channel: str | None
    planned_at: datetime
    finished_at: datetime | None
    undo_command: str | None
    temporary: bool
    restores: bool = Field(description="It put back an earlier temporary measure.")


class DeploymentState(BaseModel):
    deployment: str
    verdict: RecoveryVerdict | None = Field(description="verify_recovery's verdict; None when it could not be read.")
    summary: str
    checks: list[RecoveryCheck]
    stable_since: datetime | None = None
    services: list[str] = Field(default_factory=list, description="Services whose endpoints were checked.")
    error: str | None = Field(default=None, description="Why verify_recovery could not answer.")


class Hypothesis(BaseModel):
    statement: str
    source: str = Field(description="Where it comes from: the assessment's decision rule, or a mitigation tried.")
    evidence_for: list[str]
    evidence_against: list[str]


class ToolUse(BaseModel):
    tool: str
    calls: int
    errors: int


class Evidence(BaseModel):
    tools_called: list[ToolUse] = Field(description="Tools called during the incident (declare/handoff left out).")
    reproduce: list[str] = Field(description="kubectl commands that repeat the key reads.")


class Handoff(ToolResult):
    incident: IncidentInfo
    chosen_because: str = Field(description="Why this incident is the one handed off.")
    namespace: str
    deployments: list[str] = Field(description="The deployments whose recovery was verified.")
    started: TimePoint | None
    stabilized: TimePoint | None = Field(description="None while recovery is not established.")
    duration_minutes: int | None = Field(description="started -> stabilized, or -> now while ongoing.")
    ongoing: bool
    timeline: list[TimelineEntry] = Field(description=f"Oldest first, at most {MAX_TIMELINE}.")
    timeline_truncation: Truncation
    actions: list[ActionTaken]
    current_state: list[DeploymentState]
    overall_verdict: RecoveryVerdict | Literal["UNKNOWN"] = Field(description="The worst verdict over the deployments.")
    temporary_measures: list[Measure]
    hypotheses: list[Hypothesis]
    evidence: Evidence
    open_questions: list[str]
    document: str = Field(description="The handoff as markdown to paste into the RCA ticket.")

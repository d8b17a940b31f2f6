"""The structured RCA handoff: what incident_handoff returns, section by section.

Layer: tools.playbook.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field, PrivateAttr

from incident_response.tools.core.models import ToolResult, Truncation
from incident_response.tools.engine.plan import Target
from incident_response.tools.playbook.declaration import IncidentInfo
from incident_response.tools.playbook.recovery_checks import RecoveryCheck, RecoveryVerdict
from incident_response.tools.playbook.stabilization import Effect, MitigationKind

MAX_TIMELINE = 40
TIMELINE_HEAD = MAX_TIMELINE // 4  # a capped timeline keeps this many of its oldest entries, then the newest
MAX_ACTIONS = 20
MAX_MEASURES = 20
MAX_HYPOTHESES = 6
MAX_EVIDENCE_LINES = 6
MAX_TOOLS = 20
MAX_REPRODUCE = 15
MAX_QUESTIONS = 10
MAX_DEPLOYMENTS = 3
MAX_TEXT = 300  # one timeline line, action message or evidence line
MAX_DOCUMENT = 20_000
MAX_EVICTIONS = 12  # a drain's evicted pods listed by name; the rest are counted by namespace
MAX_COLLECTED = 12
ServiceState = Literal["running", "degraded", "partial", "unknown"]
HandoffFormat = Literal["text", "markdown", "json"]


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
        "unknown, stale, expired, cancelled, stabilized, resolved...; cluster: rollout, warning, change."
    )
    text: str
    # How readily a capped timeline leaves it out: 0 kept first (the failing components', the journal's), then
    # changes to other objects (1), other workloads' rollouts (2), workloads created that are not failing (3).
    _spare: int = PrivateAttr(default=0)


class TimelineCut(BaseModel):
    before: int = Field(description="The index of the timeline entry the note stands before.")
    note: str = Field(description="What was left out of the capped timeline, and why.")


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
    kind: MitigationKind | None = Field(
        default=None, description="rollback, scale, isolate or restart; None for a restore."
    )
    effect: Effect | None = Field(
        default=None,
        description="For a mitigation that changed the cluster, what verify_recovery found after it (before the next "
        "one): fixed, recovering (nothing failing, not proven stable yet), not_fixed (succeeded at the API but the "
        "service still failed), not_verified. None for a command that did not run or a restore.",
    )
    effect_detail: str | None = None
    verified_at: datetime | None = None
    maintenance: bool = Field(
        default=False, description="A cordon/drain of a healthy node no assessment named: not a mitigation."
    )


class DeploymentState(BaseModel):
    deployment: str
    kind: str = Field(default="deployment", description="deployment, statefulset or daemonset.")
    verdict: RecoveryVerdict | None = Field(description="verify_recovery's verdict; None when it could not be read.")
    summary: str
    checks: list[RecoveryCheck]
    stable_since: datetime | None = None
    services: list[str] = Field(default_factory=list, description="Services whose endpoints were checked.")
    error: str | None = Field(default=None, description="Why verify_recovery could not answer.")


class Hypothesis(BaseModel):
    statement: str
    source: str = Field(
        description="Where it comes from: the assessment's decision rule, a mitigation tried, or a rollout in the "
        "incident window."
    )
    evidence_for: list[str]
    evidence_against: list[str]


class TemporaryMeasure(BaseModel):
    """What mitigations left in place, one entry per restore command (a cordon and a drain of one node are one)."""

    measure_ids: list[str] = Field(description="Pass one to restore_measure; they share the restore command.")
    tools: list[str]
    target: Target
    what: str = Field(description="One line: what is in place.")
    restore_command: str | None = Field(description="Puts it back; None: restore by hand.")
    applied_at: datetime | None
    offline_by_choice: str | None = Field(
        default=None, description="What is out of traffic because a human approved taking it out (an isolation)."
    )
    evictions: list[str] = Field(
        default_factory=list, description=f"namespace/pod a drain evicted, at most {MAX_EVICTIONS}."
    )
    evictions_total: int = 0
    evictions_rest: str | None = Field(default=None, description="The evictions not listed, counted by namespace.")


class CurrentState(BaseModel):
    service: ServiceState = Field(
        description="running: every deployment verified RECOVERED or RECOVERING and nothing taken offline; "
        "degraded: none is; partial: some are, or a part was taken offline by choice; unknown: not verified."
    )
    service_detail: str
    mitigation: list[MitigationKind] = Field(description="The kinds of mitigation applied (they changed the cluster).")
    mitigation_detail: str
    temporary_measures: list[TemporaryMeasure]
    deployments: list[DeploymentState] = Field(description="verify_recovery's report on each deployment, now.")


class EvidenceItem(BaseModel):
    kind: Literal["events", "logs", "metrics", "rollout", "node"]
    text: str


class ToolUse(BaseModel):
    tool: str
    calls: int
    errors: int


class Evidence(BaseModel):
    collected: list[EvidenceItem] = Field(
        default_factory=list, description=f"Logs, metrics, events and cluster facts gathered, at most {MAX_COLLECTED}."
    )
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
    timeline_cut: TimelineCut | None = None
    actions: list[ActionTaken]
    current_state: CurrentState
    overall_verdict: RecoveryVerdict | Literal["UNKNOWN"] = Field(description="The worst verdict over the deployments.")
    hypotheses: list[Hypothesis]
    evidence: Evidence
    open_questions: list[str]
    format: HandoffFormat = Field(
        description="The result's format: text (the playbook's own), markdown, or json (every field; the document in "
        "text)."
    )
    document: str = Field(
        description="The handoff in the playbook's format (INCIDENT HANDOFF TO RCA), to paste into the RCA ticket."
    )

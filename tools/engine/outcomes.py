"""The structured answers of the pending-command engine: a plan's proposal and a token's outcome.

Layer: tools.engine.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field

from incident_response.tools.core.models import ToolResult
from incident_response.tools.core.plan_warnings import PlanWarning
from incident_response.tools.engine.plan import Change, Drift, Precondition, Risk, Target

CommandStatus = Literal[
    "blocked",
    "pending",
    "approved",
    "awaiting_approval",
    "succeeded",
    "failed",
    "partial",
    "unknown",
    "stale",
    "denied",
    "expired",
    "cancelled",
    "used",
    "unknown_token",
    "refused",
    "wrong_cluster",
    "outside_allow_list",
    "wrong_principal",
]


class Proposal(ToolResult):
    """What a planning tool returns: the exact command, the change, the undo, and (unless blocked) the token."""

    status: Literal["blocked", "pending"]
    token: str | None = None
    command: str
    undo_command: str | None = None
    diff: list[Change]
    expires_at: datetime | None = None
    summary: str
    target: Target
    risk: Risk
    steps: list[str] = Field(description="Each step's command, in order.")
    preconditions: list[Precondition]
    warnings: list[PlanWarning] = Field(default_factory=list)
    fingerprint: str | None = None
    next_step: str


class StepOutcome(BaseModel):
    command: str
    status: Literal["succeeded", "failed", "unknown", "skipped"]
    detail: str | None = None


class CommandResult(ToolResult):
    """What confirm/approve/deny/cancel answer. `status` says what happened to the token."""

    summary: str = ""
    status: CommandStatus
    token: str
    message: str
    command: str | None = None
    undo_command: str | None = None
    diff: list[Change] = Field(default_factory=list)
    expires_at: datetime | None = None
    changes: list[Drift] = Field(default_factory=list, description="For stale: what changed since the plan.")
    steps: list[StepOutcome] = Field(default_factory=list)
    applied_steps: list[str] = Field(
        default_factory=list, description="Commands of the steps the API accepted, in order (partial, unknown)."
    )
    failed_step: str | None = Field(default=None, description="The command of the step that did not succeed.")
    undo_applied: str | None = Field(
        default=None, description="Undoes the applied steps only, last applied first (partial, unknown)."
    )
    approved_by: str | None = None
    approval_channel: str | None = None
    before: dict[str, Any] | None = Field(default=None, description="What the plan depended on, just before writing.")
    after: dict[str, Any] | None = Field(default=None, description="The same fields as observed after writing.")

    def model_post_init(self, context: Any, /) -> None:
        if not self.summary:
            self.summary = self.status  # the message says the rest, once (the text shows it under the status)


class HumanAnswer(BaseModel):
    """A decision from a human (or what a client attests is one: the channel says which)."""

    approved: bool
    approver: str
    channel: str
    reason: str | None = None
    principal: str | None = None  # the authenticated HTTP principal whose client answered; None: local
    # The fingerprint of the plan the approve command showed the human, computed from what it showed ("" when it
    # showed none): the approval binds to it, so a plan replaced under the token after the human read it is not
    # approved. None: the channel showed the stored plan itself (a client's dialog is rendered from it at decision).
    shown_fingerprint: str | None = None

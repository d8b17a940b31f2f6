"""Temporary measures: the journal's succeeded commands planned with `temporary=True`, as the tools show them.

Layer: tools.engine.
"""

from __future__ import annotations

from datetime import UTC, datetime

from pydantic import BaseModel, Field

from incident_response.tools.engine.journal import CommandRow
from incident_response.tools.engine.plan import PendingCommand, Target


class Measure(BaseModel):
    measure_id: str = Field(description="Pass it to restore_measure.")
    tool: str
    summary: str
    target: Target
    restore_command: str | None = Field(description="The command that puts things back as they were.")
    applied_at: datetime | None
    incident: str


def measure_of(row: CommandRow) -> Measure:
    plan = PendingCommand.model_validate(row.plan)
    return Measure(
        measure_id=row.token,
        tool=plan.tool,
        summary=plan.summary,
        target=plan.target,
        restore_command=plan.undo_command,
        incident=row.incident,
        applied_at=datetime.fromtimestamp(row.finished_at, UTC) if row.finished_at else None,
    )

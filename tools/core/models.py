"""Shared pydantic models: the base of every tool result, and the small value types several tools return.

Layer: tools.core.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class ToolResult(BaseModel):
    """Base of every tool's structured output. `summary` is also sent as the human-readable text."""

    model_config = ConfigDict(extra="forbid")

    summary: str = Field(description="One or two lines a human can read; the structured fields carry the detail.")


class ObjectRef(BaseModel):
    kind: str
    name: str
    namespace: str | None = None
    uid: str | None = None

    def __str__(self) -> str:
        where = f" -n {self.namespace}" if self.namespace else ""
        return f"{self.kind.lower()}/{self.name}{where}"


class Truncation(BaseModel):
    """How much of a list was left out, so a capped answer never looks complete when it is not."""

    shown: int
    total: int | None = Field(description="Total matching items, when known.")
    truncated: bool

    @classmethod
    def of(cls, shown: int, total: int | None, truncated: bool | None = None) -> Truncation:
        cut = truncated if truncated is not None else (total is not None and total > shown)
        return cls(shown=shown, total=total, truncated=cut)


class Quantity(BaseModel):
    """A resource amount in base units (CPU cores, memory bytes) with its kubectl-style text."""

    value: float
    text: str

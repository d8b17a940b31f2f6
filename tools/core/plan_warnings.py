"""A plan's warning: what the approver must act on, said briefly, with its evidence kept apart.

A plan's result is said twice, as text and as structured content, and issue 13 holds the two together to 1.35 times
the larger. A warning said whole in both channels pays its evidence twice; so each planner gives three things: the
`check` that found it (a short machine name: `stateful`, `config`, `default_target`), a `brief` (the instruction
and the names and numbers it needs: what the text says), and the `detail` (the whole warning with its evidence, for
programs and for the human approving in the CLI or dialog; empty when the brief says it all).

A plan journaled before warnings had a shape stored each as a string; it loads as a warning with no check whose
brief is that string (`PlanWarning.of_text`), and its fingerprint is computed over that string as before
(`fingerprint_form`), so a pending plan written by the previous version can still be approved and run.

Layer: tools.core.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field


class PlanWarning(BaseModel):
    check: str = Field(description="What found it, e.g. stateful, config, default_target; empty on old plans.")
    brief: str = Field(description="What to do and the key names and numbers: the result's text says this.")
    detail: str = Field(default="", description="The whole warning with its evidence; empty when brief says it all.")

    def said(self) -> str:
        """`check: brief`, as the result's text says it."""
        return f"{self.check}: {self.brief}" if self.check else self.brief

    def whole(self) -> str:
        """`check: detail` (or the brief when it says it all): what the human approving the plan reads."""
        text = self.detail or self.brief
        return f"{self.check}: {text}" if self.check else text

    @classmethod
    def of_text(cls, value: Any) -> Any:
        """A warning journaled as a string (before warnings had a shape) as a warning: no check, the string as brief."""
        return {"check": "", "brief": value} if isinstance(value, str) else value


def warning(check: str, brief: str, detail: str = "") -> PlanWarning:
    """A plan's warning; `detail` the whole of it with its evidence (kept only when it says more than `brief`)."""
    return PlanWarning(check=check, brief=brief, detail="" if detail == brief else detail)


def fingerprint_form(value: dict[str, Any]) -> Any:
    """A dumped warning as a plan's fingerprint covers it: one with no check and no detail (a string journaled by the
    previous version) as that string, which is what that version fingerprinted."""
    return value["brief"] if not value.get("check") and not value.get("detail") else value

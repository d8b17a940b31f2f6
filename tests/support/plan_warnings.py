"""A plan's warnings as tests read them: each one's whole prose (its detail, or its brief when that says it all),
from the structured content (dicts) or a PlanDraft (PlanWarning objects)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from incident_response.tools.core.plan_warnings import PlanWarning


def prose(warning: PlanWarning | dict[str, Any]) -> str:
    """The warning said whole, without its check name: the detail, or the brief when there is none."""
    found = warning if isinstance(warning, PlanWarning) else PlanWarning.model_validate(warning)
    return found.detail or found.brief


def proses(warnings: Iterable[PlanWarning | dict[str, Any]]) -> list[str]:
    return [prose(w) for w in warnings]


def of_check(warnings: Iterable[PlanWarning | dict[str, Any]], check: str) -> list[PlanWarning]:
    """The warnings a check found, as PlanWarning objects."""
    found = [w if isinstance(w, PlanWarning) else PlanWarning.model_validate(w) for w in warnings]
    return [w for w in found if w.check == check]


def wholes(warnings: Iterable[PlanWarning | dict[str, Any]]) -> list[str]:
    """Each warning as the human approving reads it: `check: detail` (PlanWarning.whole)."""
    return [(w if isinstance(w, PlanWarning) else PlanWarning.model_validate(w)).whole() for w in warnings]

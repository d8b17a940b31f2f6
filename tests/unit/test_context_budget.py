"""Issue 13's context budget, on the cheap proxies: the bytes of tools/list a client hands the model, and of the
output schemas. bench/context.py prints these and the result sizes measured on a simulated cluster."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from incident_response.server import budget
from incident_response.server.config import Settings
from incident_response.server.lazy_tools import LazyTools

CASES = [
    ({}, budget.MODEL_FACING_LIMIT),
    ({"mode": "safe"}, budget.MODEL_FACING_LIMIT),
    ({"read_only": True}, budget.READ_ONLY_MODEL_FACING_LIMIT),
]


@pytest.mark.parametrize(("overrides", "limit"), CASES)
def test_what_reaches_the_model_fits_the_budget(tmp_path: Path, overrides: dict[str, Any], limit: int) -> None:
    tools = LazyTools(Settings(state_dir=tmp_path, **overrides)).listing
    size = budget.model_facing_bytes(tools)
    largest = sorted(tools, key=lambda t: -budget.compact(budget.model_view(t)))[:3]
    assert size <= limit, f"{size} bytes; largest: " + ", ".join(
        f"{t.name} {budget.compact(budget.model_view(t))}" for t in largest
    )


def test_output_schemas_fit_the_budget_and_type_every_field(tmp_path: Path) -> None:
    tools = LazyTools(Settings(state_dir=tmp_path)).listing
    assert budget.output_schema_bytes(tools) <= budget.OUTPUT_SCHEMAS_LIMIT
    untyped = [f"{t.name}: {path}" for t in tools for path in untyped_fields(t.output_schema or {}, "outputSchema")]
    assert untyped == []


def test_every_tool_says_when_to_use_it_briefly(tmp_path: Path) -> None:
    tools = LazyTools(Settings(state_dir=tmp_path)).listing
    assert [t.name for t in tools if not t.description or len(t.description) > 160] == []


def untyped_fields(schema: Any, path: str) -> list[str]:
    """Fields whose schema constrains nothing (the Inspector's portability warning)."""
    found: list[str] = []
    if isinstance(schema, dict):
        for name, field in (schema.get("properties") or {}).items():
            if not isinstance(field, dict) or not {"type", "$ref", "anyOf", "oneOf", "allOf", "enum", "const"} & set(
                field
            ):
                found.append(f"{path}.{name}")
        for key, value in schema.items():
            found += untyped_fields(value, f"{path}.{key}")
    elif isinstance(schema, list):
        for index, value in enumerate(schema):
            found += untyped_fields(value, f"{path}[{index}]")
    return found

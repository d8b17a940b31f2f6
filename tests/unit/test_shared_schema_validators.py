"""tests/conftest.py shares the MCP client's compiled output-schema validators across sessions: a result is still
checked against its tool's own schema (a different schema gets its own validator), and a bad one still fails."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from mcp.client.session import ClientSession


def validator(schema: dict[str, Any]) -> Any:
    session = SimpleNamespace(_tool_output_validators={})
    found = ClientSession._output_schema_validator(session, "tool", schema)  # type: ignore[arg-type]
    assert session._tool_output_validators["tool"] is found
    return found


def test_sessions_share_a_schemas_validator_and_it_still_rejects() -> None:
    counts = {"type": "object", "properties": {"count": {"type": "integer"}}, "required": ["count"]}
    names = {"type": "object", "properties": {"name": {"type": "string"}}, "required": ["name"]}
    first, second, other = validator(counts), validator(dict(counts)), validator(names)
    assert first is second and other is not first
    assert first.is_valid({"count": 3}) and not first.is_valid({"count": "3"}) and not first.is_valid({})
    assert other.is_valid({"name": "x"}) and not other.is_valid({"count": 3})

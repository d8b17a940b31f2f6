"""Output schemas without repetition (server/schema_reuse.py): smaller, and a result valid before is valid after and
nothing else is."""

from __future__ import annotations

import json
from typing import Any

import jsonschema
import pytest

from incident_response.server import budget, schema_reuse

STRINGS = {"items": {"type": "string"}, "type": "array"}
ANY = {"type": ["string", "number", "boolean", "object", "array", "null"]}
SCHEMA: dict[str, Any] = {
    "properties": {
        "a": STRINGS,
        "b": STRINGS,
        "c": STRINGS,
        "inner": {"properties": {"d": STRINGS, "e": ANY, "f": ANY, "g": ANY}, "type": "object"},
        "h": ANY,
        "status": {"enum": ["ok", "bad"], "type": "string"},
        "maybe": {"anyOf": [{"properties": {"x": {"type": "integer"}}, "type": "object"}, {"type": "null"}]},
    },
    "type": "object",
}
VALID = [
    {"a": ["x"], "b": [], "c": ["y"], "inner": {"d": ["z"], "e": 1, "f": None, "g": {"k": [1]}}, "h": "s"},
    {"status": "ok", "maybe": None},
    {"maybe": {"x": 3}},
]
INVALID = [
    {"a": [1]},
    {"inner": {"d": "not a list"}},
    {"status": "other"},
    {"status": 1},
    {"maybe": "text"},
    {"maybe": {"x": "3"}},
]


@pytest.mark.parametrize("instance", VALID + INVALID)
def test_it_accepts_exactly_what_the_schema_did(instance: dict[str, Any]) -> None:
    shared = schema_reuse.reuse(SCHEMA)
    before = jsonschema.Draft202012Validator(SCHEMA).is_valid(instance)
    assert jsonschema.Draft202012Validator(shared).is_valid(instance) == before
    assert before == (instance in VALID)


def test_repeated_pieces_are_defined_once_with_names_that_say_what_they_are() -> None:
    shared = schema_reuse.reuse(SCHEMA)
    assert shared["$defs"] == {"json": ANY, "strings": STRINGS}
    assert shared["properties"]["inner"]["properties"]["e"] == {"$ref": "#/$defs/json"}
    assert shared["properties"]["status"] == {"enum": ["ok", "bad"]}
    assert shared["properties"]["maybe"]["type"] == ["object", "null"]
    assert budget.compact(shared) < budget.compact(SCHEMA)


def test_a_piece_used_twice_stays_inline_when_sharing_would_cost_more() -> None:
    schema = {"properties": {"a": {"type": "string"}, "b": {"type": "string"}}, "type": "object"}
    assert schema_reuse.reuse(schema) == schema
    assert json.dumps(schema_reuse.reuse(schema)) == json.dumps(schema)

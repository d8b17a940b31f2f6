"""The schemas a tool advertises, compacted: what the model reads (input schemas) and what programs check results
against (output schemas), without pydantic's repetition. Arguments are still validated by the tool's argument model
and results by its result model: these only change what is listed.

Input: no titles, the descriptions server/catalog.py gives (others dropped: most names say it all), an optional
argument whose default is null written as its type alone. Output: no titles, descriptions or defaults, nullable
types as a type list, and a value that may be any JSON (a diff's before/after) typed as exactly that; then
server/schema_reuse.py drops enum types and defines a piece repeated in one schema once.

Layer: server (MCP wiring).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from incident_response.server import schema_reuse

NULL = {"type": "null"}
# Every JSON type: a field holding any JSON value still says so (a schema with no keyword constrains nothing, and
# the Inspector flags it as a portability problem).
ANY_JSON = {"type": ["string", "number", "boolean", "object", "array", "null"]}
NOISE = ("title", "description")


def input_schema(schema: Mapping[str, Any], descriptions: Mapping[str, str]) -> dict[str, Any]:
    properties = {
        name: _input_property(value, descriptions.get(name)) for name, value in (schema.get("properties") or {}).items()
    }
    # additionalProperties is left out (1 KB over all tools): an unknown argument is still refused by name, with the
    # ones the tool takes (server/wire.py), never dropped.
    compacted = {k: _strip(v) for k, v in schema.items() if k not in (*NOISE, "properties", "additionalProperties")}
    return {"type": "object", **compacted, "properties": properties} if properties else {"type": "object", **compacted}


# Constraints the server checks and reports by name that do not help the model pick a value: string lengths and
# patterns (object names are checked as Kubernetes names), and integer bounds no one would reach.
INPUT_NOISE = ("maxLength", "minLength", "pattern")
UNREACHABLE = 2**31 - 1  # int32's maximum and above


def _input_property(schema: Mapping[str, Any], description: str | None) -> dict[str, Any]:
    stripped: dict[str, Any] = _unconstrained(_strip(schema))
    if stripped.get("default") is False:  # a flag is off unless given
        stripped.pop("default")
    if stripped.get("minimum") == 1 and isinstance(stripped.get("default"), int):
        # A count with a default (a limit, a tail): one who wants the default leaves it out, and 0 is refused by name.
        stripped.pop("minimum")
    if "default" in stripped and stripped["default"] is None:
        # Optional with nothing as the default: leaving it out means null, so the type alone says it.
        stripped.pop("default")
        non_null = [s for s in stripped.get("anyOf", []) if s != NULL]
        if "anyOf" in stripped and len(non_null) == 1:
            stripped.pop("anyOf")
            stripped = {**non_null[0], **stripped}
        elif non_null:
            stripped["anyOf"] = non_null
    if description:
        stripped["description"] = description
    return stripped


# Output detail: every field of a result and of the objects it holds is spelled out; objects nested deeper, and the
# engine's records of what a plan depends on, are typed as objects without their fields (the data still has them).
OUTPUT_DEPTH = 1
OPAQUE = frozenset({"Precondition"})
# Dropped from output schemas: every field is always present in a result (pydantic dumps them all), so `required`
# and `additionalProperties` say nothing a client acts on, and defaults are never seen.
OUTPUT_NOISE = (*NOISE, "default", "required", "additionalProperties", "format")


def output_schema(schema: Mapping[str, Any]) -> dict[str, Any]:
    definitions: Mapping[str, Any] = schema.get("$defs") or {}
    used: dict[str, Any] = {}

    def resolve(value: Any, depth: int) -> Any:
        """`value` with its objects at `depth` (properties of the result are at depth 1)."""
        if isinstance(value, list):
            return [resolve(item, depth) for item in value]
        if not isinstance(value, dict):
            return value
        reference = value.get("$ref")
        if isinstance(reference, str) and reference.startswith("#/$defs/"):
            name = reference.removeprefix("#/$defs/")
            if depth > OUTPUT_DEPTH or name in OPAQUE:
                return {"type": "object"}
            if name not in used:
                used[name] = None  # placeholder first: a definition may refer to itself
                used[name] = resolve(definitions[name], depth)
            return {"$ref": reference}
        out: dict[str, Any] = {}
        for key, item in value.items():
            if key == "$defs" or (key in OUTPUT_NOISE and not isinstance(item, dict)):
                continue
            if key == "properties":
                if depth > OUTPUT_DEPTH:
                    return {"type": "object"}
                out[key] = {name: resolve(field, depth + 1) for name, field in item.items()}
            else:
                out[key] = resolve(item, depth)
        return _typed(out)

    top = resolve(schema, 0)
    return schema_reuse.reuse(_share(top, used))


def _share(top: dict[str, Any], definitions: dict[str, Any]) -> dict[str, Any]:
    """Definitions used more than once stay shared in `$defs`; one used once is written where it is used."""
    counts: dict[str, int] = {}

    def count(value: Any) -> None:
        if isinstance(value, dict):
            reference = value.get("$ref")
            if isinstance(reference, str):
                name = reference.removeprefix("#/$defs/")
                counts[name] = counts.get(name, 0) + 1
            for item in value.values():
                count(item)
        elif isinstance(value, list):
            for item in value:
                count(item)

    count(top)
    for definition in definitions.values():
        count(definition)
    once = {name for name in definitions if counts.get(name) == 1}

    def inline(value: Any) -> Any:
        if isinstance(value, list):
            return [inline(item) for item in value]
        if not isinstance(value, dict):
            return value
        reference = value.get("$ref")
        if isinstance(reference, str) and (name := reference.removeprefix("#/$defs/")) in once:
            return inline(definitions[name])
        return {key: inline(item) for key, item in value.items()}

    shared = {name: inline(definitions[name]) for name in sorted(definitions) if name not in once}
    result: dict[str, Any] = inline(top)
    return {"$defs": shared, **result} if shared else result


def _typed(out: dict[str, Any]) -> dict[str, Any]:
    """Nullable types as a type list; a value that may be anything says so."""
    if not out:
        return dict(ANY_JSON)
    options = out.get("anyOf")
    if isinstance(options, list) and NULL in options:
        others = [o for o in options if o != NULL]
        if len(others) == 1 and isinstance(others[0], dict) and isinstance(others[0].get("type"), str):
            if set(others[0]) <= {"type", "format", "enum"}:
                out.pop("anyOf")
                merged = {**others[0], **out, "type": [others[0]["type"], "null"]}
                if "enum" in merged:
                    merged["enum"] = [*merged["enum"], None]
                return merged
    return out


def _unconstrained(value: Any) -> Any:
    if isinstance(value, list):
        return [_unconstrained(item) for item in value]
    if not isinstance(value, dict):
        return value
    return {
        key: _unconstrained(item)
        for key, item in value.items()
        if key not in INPUT_NOISE and not (key == "maximum" and isinstance(item, int) and item >= UNREACHABLE)
    }


def _strip(value: Any, key: str | None = None) -> Any:
    """Without titles and descriptions (keeping fields and definitions that happen to be named so)."""
    if isinstance(value, list):
        return [_strip(item) for item in value]
    if not isinstance(value, dict):
        return value
    if key in ("properties", "$defs"):
        return {name: _strip(item) for name, item in value.items()}
    return {k: _strip(v, k) for k, v in value.items() if k not in NOISE}

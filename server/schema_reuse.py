"""Output schemas without repetition (issue 13's budget): an enum's `type` is dropped (its values already say it, and
the Inspector counts an enum as typed), and a piece written several times in one schema is defined once in its
`$defs` and referenced where it pays (a list of strings, an action enum, any-JSON values). Lossless: a result valid
before is valid after and nothing else is.

Layer: server (MCP wiring).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

# Keywords whose value is a schema, a name -> schema map, or a list of schemas: the only places a piece is shared.
ONE = ("items", "additionalProperties", "not")
MAPS = ("properties", "$defs")
LISTS = ("anyOf", "oneOf", "allOf")
REF = "#/$defs/"
JSON_TYPES = {"string", "number", "boolean", "object", "array", "null"}


def reuse(schema: dict[str, Any]) -> dict[str, Any]:
    """`schema` with enum types dropped and repeated pieces shared, as long as sharing one saves bytes."""
    top: dict[str, Any] = _untyped_enums(_nullable_objects(schema))
    while (best := _best_piece(top)) is not None:
        piece, name = best
        rest = _replace(top, piece, {"$ref": REF + name})
        top = {"$defs": {**rest.pop("$defs", {}), name: json.loads(piece)}, **rest}
    return top


def _untyped_enums(value: Any) -> Any:
    if isinstance(value, list):
        return [_untyped_enums(item) for item in value]
    if not isinstance(value, dict):
        return value
    out = _map_schemas(value, _untyped_enums)
    if isinstance(out.get("enum"), list) and "type" in out:
        out.pop("type")
    return out


def _nullable_objects(value: Any) -> Any:
    """`anyOf: [an object or list schema, null]` as the one schema with `null` in its type: its other keywords apply
    to objects or lists alone, so a null passes them."""
    if not isinstance(value, dict):
        return value
    out = _map_schemas(value, _nullable_objects)
    options = out.get("anyOf")
    if isinstance(options, list) and len(options) == 2 and {"type": "null"} in options:
        (other,) = [option for option in options if option != {"type": "null"}]
        if other.get("type") in ("object", "array") and set(out) == {"anyOf"}:
            return {**other, "type": [other["type"], "null"]}
    return out


def _map_schemas(node: dict[str, Any], change: Callable[[Any], Any]) -> dict[str, Any]:
    """`node` with `change` applied to each schema directly inside it (data such as enum values left alone)."""
    out: dict[str, Any] = {}
    for key, item in node.items():
        if key in MAPS and isinstance(item, dict):
            out[key] = {name: change(sub) for name, sub in item.items()}
        elif key in LISTS and isinstance(item, list):
            out[key] = [change(sub) for sub in item]
        elif key in ONE and isinstance(item, dict):
            out[key] = change(item)
        else:
            out[key] = item
    return out


def _pieces(node: dict[str, Any], name: str) -> Iterator[tuple[str, str]]:
    """(canonical JSON, the property it describes) of every schema inside `node`, outermost first; a definition
    itself is not a piece (its uses are)."""
    for key, item in node.items():
        if key in MAPS and isinstance(item, dict):
            for sub_name, sub in item.items():
                if isinstance(sub, dict):
                    if key == "properties":
                        yield _key(sub), sub_name
                    yield from _pieces(sub, sub_name)
        elif key in LISTS and isinstance(item, list):
            for sub in item:
                if isinstance(sub, dict):
                    yield _key(sub), name
                    yield from _pieces(sub, name)
        elif key in ONE and isinstance(item, dict):
            yield _key(item), name
            yield from _pieces(item, name)


def _best_piece(top: dict[str, Any]) -> tuple[str, str] | None:
    counts: dict[str, int] = {}
    first_use: dict[str, str] = {}
    for piece, used_as in _pieces(top, ""):
        counts[piece] = counts.get(piece, 0) + 1
        first_use.setdefault(piece, used_as)
    defined = top.get("$defs", {})
    best: tuple[int, str, str] | None = None
    for piece, count in counts.items():
        if count < 2 or json.loads(piece).keys() == {"$ref"}:
            continue
        name = _name(piece, first_use[piece], defined)
        reference = len(json.dumps({"$ref": REF + name}, separators=(",", ":")))
        definition = len(json.dumps({name: None}, separators=(",", ":"))) - len("null") + len(piece)
        saved = count * (len(piece) - reference) - definition - (0 if defined else len('"$defs":{},'))
        if saved > 0 and (best is None or saved > best[0]):
            best = (saved, piece, name)
    return None if best is None else (best[1], best[2])


def _name(piece: str, used_as: str, defined: dict[str, Any]) -> str:
    """A name that says what the piece is: `json` (any value), `strings` (a list of them), else the first property
    it describes."""
    value = json.loads(piece)
    items = value.get("items")
    if isinstance(value.get("type"), list) and set(value["type"]) == JSON_TYPES:
        base = "json"
    elif value.get("type") == "array" and isinstance(items, dict) and isinstance(items.get("type"), str):
        base = f"{items['type']}s"
    else:
        base = used_as or "piece"
    name, number = base, 1
    while name in defined:
        number += 1
        name = f"{base}{number}"
    return name


def _replace(value: Any, piece: str, reference: dict[str, str]) -> Any:
    """`value` with each use of `piece` inside it replaced by `reference` (a definition's own body is not a use)."""
    if not isinstance(value, dict):
        return value

    def change(sub: Any) -> Any:
        if isinstance(sub, dict) and _key(sub) == piece:
            return dict(reference)
        return _replace(sub, piece, reference)

    out = _map_schemas(value, change)
    if isinstance(value.get("$defs"), dict):
        out["$defs"] = {name: _replace(sub, piece, reference) for name, sub in value["$defs"].items()}
    return out


def _key(value: dict[str, Any]) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"))

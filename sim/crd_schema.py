"""A custom resource against its CRD's structural schema: defaults filled, unknown fields pruned, values checked.

The subset of OpenAPI v3 that CRDs use most: type, properties, additionalProperties, items, required, enum,
default, nullable, minimum/maximum, x-kubernetes-preserve-unknown-fields and x-kubernetes-int-or-string.
apiVersion, kind and metadata are the API server's, never pruned. Unknown fields are dropped, as upstream
prunes them; `admit` also returns their paths, which a `fieldValidation=Strict` request turns into a 400.

Layer: sim (the simulated cluster; apart from the product).
"""

from __future__ import annotations

import copy
from typing import Any

Obj = dict[str, Any]
_ROOT_FIELDS = ("apiVersion", "kind", "metadata")
_TYPES: dict[str, tuple[type, ...]] = {
    "object": (dict,),
    "array": (list,),
    "string": (str,),
    "boolean": (bool,),
    "integer": (int,),
    "number": (int, float),
}


def _type_ok(schema: Obj, value: Any) -> bool:
    if schema.get("x-kubernetes-int-or-string"):
        return isinstance(value, int | str) and not isinstance(value, bool)
    kind = schema.get("type")
    if kind not in _TYPES:
        return True
    if kind in ("integer", "number") and isinstance(value, bool):
        return False
    return isinstance(value, _TYPES[kind])


def _describe(value: Any) -> str:
    if isinstance(value, str):
        return f'"{value}"'
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    if isinstance(value, dict | list):
        return type(value).__name__
    return str(value)


class _Walk:
    def __init__(self) -> None:
        self.problems: list[tuple[str, str]] = []
        self.unknown: list[str] = []

    def node(self, schema: Obj, value: Any, path: str) -> None:
        if not _type_ok(schema, value):
            self.problems.append(
                (
                    path,
                    f"Invalid value: {_describe(value)}: {path} in body must be of type {schema.get('type')}: "
                    f"{_describe(value)}",
                )
            )
            return
        enum = schema.get("enum")
        if isinstance(enum, list) and value not in enum:
            allowed = ", ".join(_describe(e) for e in enum)
            self.problems.append((path, f"Unsupported value: {_describe(value)}: supported values: {allowed}"))
        if isinstance(value, int | float) and not isinstance(value, bool):
            low, high = schema.get("minimum"), schema.get("maximum")
            if isinstance(low, int | float) and value < low:
                self.problems.append(
                    (path, f"Invalid value: {value}: {path} in body should be greater than or equal to {low}")
                )
            if isinstance(high, int | float) and value > high:
                self.problems.append(
                    (path, f"Invalid value: {value}: {path} in body should be less than or equal to {high}")
                )
        if isinstance(value, dict):
            self.object(schema, value, path)
        elif isinstance(value, list) and isinstance(schema.get("items"), dict):
            for i, item in enumerate(value):
                self.node(schema["items"], item, f"{path}[{i}]")

    def object(self, schema: Obj, value: Obj, path: str, root: bool = False) -> None:
        properties: Obj = schema["properties"] if isinstance(schema.get("properties"), dict) else {}
        extra = schema.get("additionalProperties")
        preserve = bool(schema.get("x-kubernetes-preserve-unknown-fields"))
        for key, sub in properties.items():
            if key not in value and isinstance(sub, dict) and "default" in sub:
                value[key] = copy.deepcopy(sub["default"])
        for key in list(value):
            if root and key in _ROOT_FIELDS:
                continue
            where = f"{path}.{key}" if path else key
            sub = properties.get(key)
            if sub is None and isinstance(extra, dict):
                sub = extra
            if value[key] is None and not (isinstance(sub, dict) and sub.get("nullable")):
                del value[key]  # null in a non-nullable field: dropped, as upstream's defaulting does
                continue
            if isinstance(sub, dict):
                self.node(sub, value[key], where)
            elif not (preserve or extra is True):
                del value[key]
                self.unknown.append(where)
        for key in schema.get("required") or []:
            if key not in value:
                self.problems.append((f"{path}.{key}" if path else key, "Required value"))


def admit(schema: Obj, obj: Obj) -> tuple[list[tuple[str, str]], list[str]]:
    """Default and prune `obj` in place; return (invalid fields as (path, message), pruned unknown field paths)."""
    walk = _Walk()
    walk.object(schema, obj, "", root=True)
    return walk.problems, walk.unknown

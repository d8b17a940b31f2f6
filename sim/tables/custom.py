"""Tables for custom resources: NAME, then the CRD's additionalPrinterColumns (upstream's CRD table convertor).

Layer: sim (the simulated cluster; apart from the product).
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from ._common import NAME_COLUMN, Cell, Column, Obj, Printer, name_of, since


def jsonpath_cell(obj: Any, path: str) -> Any:
    """A printer column's value: the simple JSONPath forms CRDs use (.a.b, .a[0].b, .a[*].b, [?(@.k=="v")])."""
    results: list[Any] = [obj]
    for step in re.findall(r"\.([^.\[\]]+)|\[([^\]]*)\]", path.strip().lstrip("{").rstrip("}")):
        key, index = step
        nxt: list[Any] = []
        for value in results:
            if key:
                if isinstance(value, dict) and key in value:
                    nxt.append(value[key])
            elif index == "*":
                nxt.extend(value.values() if isinstance(value, dict) else value if isinstance(value, list) else [])
            elif index.startswith("?(@."):
                match = re.match(r'\?\(@\.([\w.-]+)\s*==\s*["\']?([^"\']*)["\']?\)', index)
                if match and isinstance(value, list):
                    field, wanted = match.groups()
                    nxt.extend(i for i in value if isinstance(i, dict) and str(i.get(field)) == wanted)
            elif index.lstrip("-").isdigit() and isinstance(value, list):
                position = int(index)
                if -len(value) <= position < len(value):
                    nxt.append(value[position])
        results = nxt
    if not results:
        return None
    if len(results) == 1:
        return results[0]
    return ",".join(str(r) for r in results)


def _cell(value: Any, kind: str, now: datetime) -> Cell:
    if value is None:
        return "<none>"
    if kind == "date":
        return since(value, now)
    if isinstance(value, bool | int | str):
        return value
    return str(value)


def printer(columns: tuple[tuple[str, str, str, int], ...]) -> Printer:
    """A printer for (name, type, JSONPath, priority) columns."""

    def cells(obj: Obj, now: datetime) -> list[Cell]:
        return [name_of(obj), *(_cell(jsonpath_cell(obj, path), kind, now) for _, kind, path, _ in columns)]

    return Printer(
        (
            NAME_COLUMN,
            *(Column(name, kind if kind != "date" else "date", "", priority) for name, kind, _, priority in columns),
        ),
        cells,
    )

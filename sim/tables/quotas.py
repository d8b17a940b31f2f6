"""ResourceQuota columns (upstream printers.go printResourceQuota): `used/hard` per resource, limits apart.

Layer: sim (the simulated cluster; apart from the product).
"""

from __future__ import annotations

from datetime import datetime

from ._common import AGE_COLUMN, NAME_COLUMN, Cell, Column, Obj, Printer, age, get_map, name_of, quantity

QUOTA_COLUMNS = (
    NAME_COLUMN,
    AGE_COLUMN,
    Column("Request", "string", "Request represents a minimum amount of cpu/memory that a container may consume."),
    Column(
        "Limit",
        "string",
        "Limits control the maximum amount of cpu/memory that a container may use independent of contention on the "
        "node.",
    ),
)


def quota_cells(obj: Obj, now: datetime) -> list[Cell]:
    hard = get_map(obj, "spec", "hard")
    used = get_map(obj, "status", "used")
    status_hard = get_map(obj, "status", "hard")
    requests: list[str] = []
    limits: list[str] = []
    for key in sorted(hard):
        pieces = key.split(".")
        into = limits if len(pieces) > 1 and pieces[0] == "limits" else requests
        into.append(f"{key}: {quantity(used.get(key))}/{quantity(status_hard.get(key))}")
    return [name_of(obj), age(obj, now), ", ".join(requests), ", ".join(limits)]


PRINTERS = {"resourcequotas": Printer(QUOTA_COLUMNS, quota_cells)}

"""render_table: a meta.k8s.io/v1 Table for a list of objects, as kube-apiserver serves it to `kubectl get`.

Layer: sim (the simulated cluster; apart from the product).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from . import batch, cluster, network, pods, quotas, rbac, storage, workloads
from ._common import CREATION_DOC, NAME_COLUMN, Column, Obj, Printer, get, name_of, rfc3339_utc

PRINTERS: dict[str, Printer] = {
    **pods.PRINTERS,
    **workloads.PRINTERS,
    **cluster.PRINTERS,
    **network.PRINTERS,
    **storage.PRINTERS,
    **rbac.PRINTERS,
    **quotas.PRINTERS,
    **batch.PRINTERS,
}

# apiserver's default table convertor (registry/rest/table.go) for kinds without a printer.
DEFAULT_COLUMNS = (NAME_COLUMN, Column("Created At", "date", CREATION_DOC))


def _default_cells(obj: Obj, now: datetime) -> list[str | int | bool]:
    return [name_of(obj), rfc3339_utc(get(obj, "metadata", "creationTimestamp"))]


DEFAULT_PRINTER = Printer(DEFAULT_COLUMNS, _default_cells)

# includeObject values: the API's names (None, Object, Metadata) plus the name the simulator's callers use.
_METADATA_POLICIES = ("Metadata", "PartialObjectMetadata", "")


def printer_for(resource_key: str) -> Printer:
    return PRINTERS.get(resource_key, DEFAULT_PRINTER)


def _row_object(obj: Obj, include_object: str) -> dict[str, Any] | None:
    if include_object == "Object":
        return dict(obj)
    if include_object in _METADATA_POLICIES:
        metadata = obj.get("metadata")
        return {
            "kind": "PartialObjectMetadata",
            "apiVersion": "meta.k8s.io/v1",
            "metadata": dict(metadata) if isinstance(metadata, Mapping) else {},
        }
    if include_object == "None":
        return None
    raise ValueError(f"unrecognized includeObject value: {include_object!r}")


def _row(printer: Printer, obj: Obj, now: datetime, include_object: str) -> dict[str, Any]:
    row: dict[str, Any] = {"cells": printer.cells(obj, now)}
    conditions = printer.conditions(obj) if printer.conditions is not None else []
    if conditions:
        row["conditions"] = conditions
    embedded = _row_object(obj, include_object)
    if embedded is not None:
        row["object"] = embedded
    return row


def render_table(
    resource_key: str,
    objects: list[dict[str, Any]],
    *,
    now: datetime,
    include_object: str = "PartialObjectMetadata",
    list_meta: dict[str, Any] | None = None,
    printer: Printer | None = None,
) -> dict[str, Any]:
    """The Table for `objects` of `resource_key` (e.g. `pods`, `deployments.apps`).

    Like the real server, every column is served, wide (priority 1) ones included; kubectl hides those unless
    `-o wide`. `include_object` is the request's includeObject: "Metadata"/"PartialObjectMetadata" (default),
    "Object" or "None". Raises ValueError for any other value (the server answers 400 BadRequest).
    """
    printer = printer or printer_for(resource_key)
    return {
        "kind": "Table",
        "apiVersion": "meta.k8s.io/v1",
        "metadata": dict(list_meta or {}),
        "columnDefinitions": [column.as_dict() for column in printer.columns],
        "rows": [_row(printer, obj, now, include_object) for obj in objects],
    }

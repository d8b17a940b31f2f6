"""CustomResourceDefinitions: what a stored CRD serves, and what the API server checks and sets on one.

A CRD (apiextensions.k8s.io/v1) defines a resource type. Its objects are stored like any other, under the
CRD's storage version; a request in another served version sees them with that apiVersion (upstream's `None`
conversion strategy). The types are rebuilt when a CRD changes, per cluster (two simulated clusters in one
process do not share CRDs).

Layer: sim (the simulated cluster; apart from the product).
"""

from __future__ import annotations

import json
import re
import threading
from datetime import datetime
from typing import Any

from incident_response.sim import errors
from incident_response.sim.resources import CRDS, ResourceType
from incident_response.sim.store import Obj, Store, WatchEvent, timestamp

_DNS_LABEL = re.compile(r"^[a-z]([-a-z0-9]*[a-z0-9])?$")
_VERSION = re.compile(r"^v[1-9][0-9]*((alpha|beta)[1-9][0-9]*)?$")
_KIND = re.compile(r"^[A-Z][A-Za-z0-9]*$")
_DEFAULT_COLUMNS = (("Age", "date", ".metadata.creationTimestamp", 0),)


def _q(value: Any) -> str:
    """A value as Go's field errors quote it."""
    return json.dumps(value)


def _served_versions(spec: Obj) -> list[Obj]:
    return [v for v in spec.get("versions") or [] if isinstance(v, dict) and v.get("served")]


def storage_version(spec: Obj) -> Obj | None:
    return next((v for v in spec.get("versions") or [] if isinstance(v, dict) and v.get("storage")), None)


def version_schema(crd: Obj, version: str) -> Obj | None:
    """The openAPIV3Schema of one version of a CRD, or None."""
    for v in (crd.get("spec") or {}).get("versions") or []:
        if isinstance(v, dict) and v.get("name") == version:
            schema = (v.get("schema") or {}).get("openAPIV3Schema")
            return schema if isinstance(schema, dict) else None
    return None


def resource_type(crd: Obj) -> ResourceType | None:
    """The resource type a stored CRD serves (its storage version first), None if it serves none."""
    spec = crd.get("spec") or {}
    names = spec.get("names") or {}
    storage = storage_version(spec)
    served = _served_versions(spec)
    if storage is None or not served:
        return None
    subresources = (storage.get("subresources") or {}) if isinstance(storage.get("subresources"), dict) else {}
    columns = tuple(
        (str(c.get("name")), str(c.get("type", "string")), str(c.get("jsonPath")), int(c.get("priority") or 0))
        for c in storage.get("additionalPrinterColumns") or []
        if isinstance(c, dict) and c.get("name") and c.get("jsonPath")
    )
    return ResourceType(
        str(spec["group"]),
        str(storage["name"]),
        str(names["kind"]),
        str(names["plural"]),
        spec.get("scope") == "Namespaced",
        short_names=tuple(str(s) for s in names.get("shortNames") or []),
        categories=tuple(str(c) for c in names.get("categories") or []),
        subresources=("status",) if "status" in subresources else (),
        has_generation=True,
        also_served=tuple(str(v["name"]) for v in served if v is not storage),
        custom=True,
        printer_columns=columns or _DEFAULT_COLUMNS,
    )


class CustomResources:
    """The resource types defined by a cluster's CRDs, recomputed after a CRD changes."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self._lock = threading.Lock()
        self._types: tuple[ResourceType, ...] | None = None
        store.add_listener(self._on_change)

    def _on_change(self, event: WatchEvent) -> None:
        if event.resource == CRDS.key:
            with self._lock:
                self._types = None

    def types(self) -> tuple[ResourceType, ...]:
        with self._lock:
            if self._types is None:
                found = (resource_type(crd) for crd in self.store.values(CRDS))
                self._types = tuple(t for t in found if t is not None)
            return self._types

    def definition(self, res: ResourceType) -> Obj | None:
        return self.store.peek(CRDS, None, res.key) if res.custom else None


def problems(crd: Obj) -> list[tuple[str, str]]:
    """Why a CRD is invalid, as (field, message) pairs (the 422 causes upstream reports)."""
    out: list[tuple[str, str]] = []
    spec = crd.get("spec")
    if not isinstance(spec, dict):
        return [("spec", "Required value")]
    group, names = spec.get("group"), spec.get("names")
    if not isinstance(group, str) or "." not in group:
        out.append(("spec.group", f"Invalid value: {_q(group)}: should be a domain with at least one dot"))
    if not isinstance(names, dict):
        return [*out, ("spec.names", "Required value")]
    for key in ("plural", "singular"):
        value = names.get(key)
        if value is not None and (not isinstance(value, str) or not _DNS_LABEL.match(value)):
            out.append((f"spec.names.{key}", f"Invalid value: {_q(value)}: a lowercase RFC 1123 label"))
    if not names.get("plural"):
        out.append(("spec.names.plural", "Required value"))
    for key in ("kind", "listKind"):
        value = names.get(key)
        if value is not None and (not isinstance(value, str) or not _KIND.match(value)):
            out.append((f"spec.names.{key}", f"Invalid value: {_q(value)}: must be a valid kind name"))
    if not names.get("kind"):
        out.append(("spec.names.kind", "Required value"))
    for key in ("shortNames", "categories"):
        value = names.get(key)
        if value is not None and not (isinstance(value, list) and all(isinstance(v, str) for v in value)):
            out.append((f"spec.names.{key}", "Invalid value: must be a list of strings"))
    if spec.get("scope") not in ("Namespaced", "Cluster"):
        out.append(
            ("spec.scope", f'Unsupported value: {_q(spec.get("scope"))}: supported values: "Cluster", "Namespaced"')
        )
    versions = spec.get("versions")
    if not isinstance(versions, list) or not versions or not all(isinstance(v, dict) for v in versions):
        out.append(("spec.versions", "Required value: must have exactly one version marked as storage version"))
    else:
        for i, v in enumerate(versions):
            if not isinstance(v.get("name"), str) or not _VERSION.match(v["name"]):
                out.append(
                    (f"spec.versions[{i}].name", f"Invalid value: {_q(v.get('name'))}: must be like v1, v2beta1")
                )
            schema = (v.get("schema") or {}).get("openAPIV3Schema") if isinstance(v.get("schema"), dict) else None
            if not isinstance(schema, dict):
                out.append((f"spec.versions[{i}].schema.openAPIV3Schema", "Required value: schemas are required"))
        if sum(1 for v in versions if v.get("storage") is True) != 1:
            out.append(("spec.versions", "Invalid value: must have exactly one version marked as storage version"))
        if not any(v.get("served") is True for v in versions):
            out.append(("spec.versions", "Invalid value: must serve at least one version"))
        if len({v.get("name") for v in versions}) != len(versions):
            out.append(("spec.versions", "Invalid value: must contain unique version names"))
    name = (crd.get("metadata") or {}).get("name")
    if not out and name != f"{names['plural']}.{group}":
        out.append(("metadata.name", f'Invalid value: "{name}": must be spec.names.plural+"."+spec.group'))
    return out


def validate(crd: Obj) -> None:
    causes = problems(crd)
    if causes:
        name = str((crd.get("metadata") or {}).get("name", ""))
        raise errors.invalid("CustomResourceDefinition", "apiextensions.k8s.io", name, causes)


def with_defaults_and_status(crd: Obj, now: datetime) -> None:
    """Fill the names upstream derives, and the status its controllers set once the names are accepted."""
    spec = crd["spec"]
    names = spec["names"]
    names.setdefault("singular", str(names["kind"]).lower())
    names.setdefault("listKind", f"{names['kind']}List")
    spec.setdefault("conversion", {"strategy": "None"})
    when = timestamp(now)
    stored = [str(v["name"]) for v in spec["versions"] if v.get("storage")]
    previous = (crd.get("status") or {}).get("storedVersions") or []
    crd["status"] = {
        "acceptedNames": dict(names),
        "conditions": [
            {
                "type": "NamesAccepted",
                "status": "True",
                "reason": "NoConflicts",
                "message": "no conflicts found",
                "lastTransitionTime": when,
            },
            {
                "type": "Established",
                "status": "True",
                "reason": "InitialNamesAccepted",
                "message": "the initial names have been accepted",
                "lastTransitionTime": when,
            },
        ],
        "storedVersions": [*previous, *(v for v in stored if v not in previous)],
    }


def instances_removed(store: Store, crd: Obj) -> None:
    """Delete every object of a deleted CRD's type (upstream's CRD finalizer does this before the CRD goes)."""
    res = resource_type(crd)
    if res is None:
        return
    for obj in list(store.items(res)):
        meta = obj["metadata"]
        store.remove(res, meta.get("namespace"), meta["name"])

"""When an object last changed and who changed it, from its metadata: the newest managedFields entry (each field
manager's last write: kubectl-client-side-apply, kubectl-patch, kubectl (scale), helm, a controller), else its
creation. The API server keeps no history of the data itself; this is what it does keep.

Layer: tools.k8s.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from incident_response.tools.k8s.quantity import parse_time
from incident_response.tools.k8s.views import meta

HELM_MANAGER = "helm"  # helm 3's field manager on the objects it writes
LISTS = ("containers", "initContainers")
CREATION_SECONDS = 0  # a write in the creation's second is the creation's own (the creating manager's entry)


@dataclass(frozen=True)
class LastChange:
    at: datetime
    manager: str | None  # None: only the creation is known
    created: bool  # the newest thing known is the object's creation
    subresource: str | None = None  # "scale", "status": the write went through a subresource


def last_change(obj: dict[str, Any], *, owning: tuple[str, ...] = (), skip_status: bool = True) -> LastChange | None:
    """The newest write to `obj` (its creation when no managedFields entry is newer). `owning`: only entries owning
    a field under this path ("spec", "selector": who last changed a Service's selector). Status writes (controllers
    reporting) are no change of what the object asks for, and are skipped."""
    created = parse_time(meta(obj).creation_timestamp)
    best = LastChange(created, None, True) if created is not None else None
    for entry in (obj.get("metadata") or {}).get("managedFields") or []:
        if not isinstance(entry, dict) or (skip_status and entry.get("subresource") == "status"):
            continue
        when = parse_time(entry.get("time"))
        if when is None or (owning and not owns(entry.get("fieldsV1"), owning, entry.get("subresource"))):
            continue
        if best is None or when >= best.at:
            manager = str(entry.get("manager") or "") or None
            # The creator's own entry (kubectl apply writes one) is the creation, not a later change.
            made = created is not None and (when - created).total_seconds() <= CREATION_SECONDS
            best = LastChange(when, manager, made, str(entry.get("subresource") or "") or None)
    return best


def owns(fields: Any, path: tuple[str, ...], subresource: Any = None) -> bool:
    """The entry's fieldsV1 holds `path` (f:spec -> f:selector ...). A scale subresource's entry owns spec.replicas
    (upstream records it against the scale object's spec.replicas, which is the same field)."""
    if subresource == "scale":
        return path[:2] == ("spec", "replicas")[: len(path[:2])] and len(path) <= 2
    node = fields
    for name in path:
        if not isinstance(node, dict) or f"f:{name}" not in node:
            return False
        node = node[f"f:{name}"]
    return True


def by_whom(change: LastChange) -> str:
    """' by kubectl-patch' (nothing when only the creation is known)."""
    if change.manager is None:
        return ""
    via = f" (via {change.subresource})" if change.subresource else ""
    return f" by {change.manager}{via}"


def image_writer(workload: dict[str, Any], container: str) -> tuple[str, str | None] | None:
    """(field manager, 'HH:MM UTC') of the newest managedFields entry owning the container's image, None when none
    records it."""
    key = "k:" + json.dumps({"name": container}, separators=(",", ":"))
    found: tuple[str, str | None] | None = None
    newest = ""
    for entry in (workload.get("metadata") or {}).get("managedFields") or []:
        if not isinstance(entry, dict) or entry.get("subresource"):
            continue
        spec = (((entry.get("fieldsV1") or {}).get("f:spec") or {}).get("f:template") or {}).get("f:spec") or {}
        owned = any("f:image" in ((spec.get(f"f:{field}") or {}).get(key) or {}) for field in LISTS)
        when = str(entry.get("time") or "")
        if owned and when >= newest:
            newest = when
            stamp = parse_time(when)
            found = (str(entry.get("manager") or "unknown"), stamp.strftime("%H:%M UTC") if stamp else None)
    return found


def changed_outside_helm(workload: dict[str, Any]) -> str | None:
    """'by kubectl-set at 04:31 UTC' when a container image of a helm-managed workload was last written by another
    field manager than helm's (a hand hot-fix): the bad change is then not in helm's history. None when helm wrote
    them, or nobody's write is recorded."""
    spec = ((workload.get("spec") or {}).get("template") or {}).get("spec") or {}
    for field in LISTS:
        for container in spec.get(field) or []:
            writer = image_writer(workload, str((container or {}).get("name")))
            if writer is not None and writer[0] != HELM_MANAGER:
                return f"by {writer[0]}" + (f" at {writer[1]}" if writer[1] else "")
    return None

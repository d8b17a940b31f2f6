"""Compare what two clusters hold after the same mitigation was applied two ways (kubectl vs confirm_command).

Shared by every equivalence test (issue 4: rollback; issue 5: every single-step mitigation). Objects are read
through the Kube seam and normalized: fields that differ between any two clusters by construction (uids,
resourceVersions, timestamps, managedFields, the field manager's name) are dropped, owner references are reduced
to kind and name, and objects whose names are generated (pods) are keyed by their generateName plus an index
within the group, in a stable order.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterable
from typing import Any

from incident_response.tools.kube.client import Kube

DROPPED_METADATA = ("uid", "resourceVersion", "creationTimestamp", "managedFields", "selfLink", "deletionTimestamp")
GENERATED = ("pods", "events", "endpointslices")


def _strip_times(value: Any) -> Any:
    """Drop every `...Time` / `...Timestamp` field (conditions, container states): they record when, not what."""
    if isinstance(value, dict):
        return {k: _strip_times(v) for k, v in value.items() if not (k.endswith("Time") or k.endswith("Timestamp"))}
    if isinstance(value, list):
        return [_strip_times(v) for v in value]
    return value


def normalize(obj: dict[str, Any], *, ignore: Iterable[str] = ()) -> dict[str, Any]:
    """An object as far as equivalence is concerned. `ignore` adds dotted paths to drop (e.g. "status")."""
    out: dict[str, Any] = copy.deepcopy(obj)
    meta = out.setdefault("metadata", {})
    for key in DROPPED_METADATA:
        meta.pop(key, None)
    if meta.get("generateName"):
        meta.pop("name", None)
    meta["ownerReferences"] = [
        {"kind": ref.get("kind"), "name": ref.get("name")} for ref in meta.get("ownerReferences") or []
    ]
    for path in ignore:
        parts = path.split(".")
        parent: Any = out
        for part in parts[:-1]:
            parent = parent.get(part) if isinstance(parent, dict) else None
        if isinstance(parent, dict):
            parent.pop(parts[-1], None)
    result: dict[str, Any] = _strip_times(out)
    return result


def _key(resource: str, obj: dict[str, Any]) -> str:
    meta = obj.get("metadata") or {}
    if resource in GENERATED and meta.get("generateName"):
        return f"{resource}/{meta['generateName']}*"
    return f"{resource}/{meta.get('name')}"


def snapshot(
    kube: Kube,
    namespace: str | None,
    resources: Iterable[str] = ("deployments", "replicasets"),
    *,
    ignore: Iterable[str] = (),
    label_selector: str | None = None,
) -> dict[str, dict[str, Any]]:
    """Every object of `resources`, normalized, keyed by resource/name (generated names: prefix + index)."""
    ignored = tuple(ignore)
    out: dict[str, dict[str, Any]] = {}
    for resource in resources:
        items = kube.list(resource, namespace, label_selector=label_selector).items
        groups: dict[str, list[dict[str, Any]]] = {}
        for item in items:
            groups.setdefault(_key(resource, item), []).append(normalize(item, ignore=ignored))
        for key, members in groups.items():
            if len(members) == 1 and not key.endswith("*"):
                out[key] = members[0]
                continue
            for index, member in enumerate(sorted(members, key=lambda m: json.dumps(m, sort_keys=True))):
                out[f"{key}#{index}"] = member
    return out


def differences(left: Any, right: Any, path: str = "") -> list[str]:
    """Human-readable differences, one line each; empty when equivalent."""
    if isinstance(left, dict) and isinstance(right, dict):
        lines: list[str] = []
        for key in sorted(set(left) | set(right), key=str):
            sub = f"{path}.{key}" if path else str(key)
            if key not in left:
                lines.append(f"{sub}: only on the right: {json.dumps(right[key])[:200]}")
            elif key not in right:
                lines.append(f"{sub}: only on the left: {json.dumps(left[key])[:200]}")
            else:
                lines += differences(left[key], right[key], sub)
        return lines
    if isinstance(left, list) and isinstance(right, list) and len(left) == len(right):
        return [
            line for i, (a, b) in enumerate(zip(left, right, strict=True)) for line in differences(a, b, f"{path}[{i}]")
        ]
    if left != right:
        return [f"{path}: {json.dumps(left)[:200]} != {json.dumps(right)[:200]}"]
    return []


def assert_equivalent(left: dict[str, dict[str, Any]], right: dict[str, dict[str, Any]]) -> None:
    lines = differences(left, right)
    assert not lines, "the two clusters differ:\n" + "\n".join(lines[:40])

"""Which keys of a ConfigMap its last edit set, from its managedFields: the API server keeps no earlier data, but
an Update owns exactly the fields whose value it changed (taking them from other managers), so the newest entry's
`f:data` keys are what that writer set (kubectl patch, kubectl edit, a controller). An apply owns every field of
its configuration, changed or not: when the newest writer owns every key the object has, which one it changed
cannot be told, and no key is named.

Layer: tools.k8s.
"""

from __future__ import annotations

from typing import Any

from incident_response.tools.k8s.quantity import parse_time
from incident_response.tools.k8s.views import meta

DATA = ("f:data", "f:binaryData")
MAX_KEYS = 3


def owned_keys(entry: dict[str, Any]) -> set[str]:
    fields = entry.get("fieldsV1") or {}
    return {k.removeprefix("f:") for part in DATA for k in (fields.get(part) or {}) if k.startswith("f:")}


def edited_keys(obj: dict[str, Any]) -> list[str]:
    """The data keys the newest write (not a status write, not the creation) set, sorted; [] when not known."""
    created = parse_time(meta(obj).creation_timestamp)
    dated = [
        (when, e)
        for e in (obj.get("metadata") or {}).get("managedFields") or []
        if isinstance(e, dict) and not e.get("subresource") and (when := parse_time(e.get("time"))) is not None
    ]
    if not dated:
        return []
    when, newest = max(dated, key=lambda pair: pair[0])
    if created is not None and when <= created:
        return []  # the creation's own entry: nothing was edited since
    entries = [e for _, e in dated]
    keys = owned_keys(newest)
    everyone = set().union(*(owned_keys(e) for e in entries))
    if not keys or (keys == everyone and len(keys) > 1):
        return []
    return sorted(keys)


def keys_text(keys: list[str]) -> str:
    """'key TIMEOUT_MS', 'keys A, B', 'keys A, B, C and 2 more'; '' for none."""
    if not keys:
        return ""
    shown = ", ".join(keys[:MAX_KEYS]) + (f" and {len(keys) - MAX_KEYS} more" if len(keys) > MAX_KEYS else "")
    return f"{'key' if len(keys) == 1 else 'keys'} {shown}"

"""Helpers the controllers share: owner references, label matching, template hashing, time stamps.

Layer: sim (the simulated cluster; apart from the product).
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from typing import Any

from incident_response.sim import selectors

Obj = dict[str, Any]
Matcher = Callable[[dict[str, str]], bool]

# Annotations the deployment controller owns; never copied from a Deployment onto its ReplicaSets.
REVISION = "deployment.kubernetes.io/revision"
REVISION_HISTORY = "deployment.kubernetes.io/revision-history"
DESIRED_REPLICAS = "deployment.kubernetes.io/desired-replicas"
MAX_REPLICAS = "deployment.kubernetes.io/max-replicas"
LAST_APPLIED = "kubectl.kubernetes.io/last-applied-configuration"
CONTROLLER_ANNOTATIONS = frozenset({REVISION, REVISION_HISTORY, DESIRED_REPLICAS, MAX_REPLICAS, LAST_APPLIED})
POD_TEMPLATE_HASH = "pod-template-hash"

_SAFE_ALPHABET = "bcdfghjklmnpqrstvwxz2456789"


def meta(obj: Obj) -> Obj:
    m = obj.get("metadata")
    return m if isinstance(m, dict) else {}


def labels_of(obj: Obj) -> dict[str, str]:
    labels = meta(obj).get("labels")
    return labels if isinstance(labels, dict) else {}


def annotations_of(obj: Obj) -> dict[str, str]:
    annotations = meta(obj).get("annotations")
    return annotations if isinstance(annotations, dict) else {}


def uid_of(obj: Obj) -> str:
    return str(meta(obj).get("uid", ""))


def terminating(obj: Obj) -> bool:
    return "deletionTimestamp" in meta(obj)


def controller_uid(obj: Obj) -> str | None:
    for ref in meta(obj).get("ownerReferences") or []:
        if isinstance(ref, dict) and ref.get("controller"):
            return str(ref.get("uid"))
    return None


def owner_reference(owner: Obj) -> Obj:
    return {
        "apiVersion": owner.get("apiVersion", ""),
        "kind": owner.get("kind", ""),
        "name": meta(owner).get("name", ""),
        "uid": uid_of(owner),
        "controller": True,
        "blockOwnerDeletion": True,
    }


def int_of(value: Any, default: int = 0) -> int:
    if isinstance(value, bool):
        return default
    if isinstance(value, int):
        return value
    try:
        return int(str(value))
    except ValueError:
        return default


def replicas_of(obj: Obj, default: int = 1) -> int:
    spec = obj.get("spec") or {}
    return int_of(spec.get("replicas"), default) if spec.get("replicas") is not None else default


def scaled_value(value: Any, total: int, round_up: bool) -> int:
    """An int-or-percent (maxSurge "25%") resolved against `total`, rounding as upstream does."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    text = str(value).strip()
    if text.endswith("%"):
        pct = int_of(text[:-1])
        exact = pct * total / 100
        return math.ceil(exact) if round_up else math.floor(exact)
    return int_of(text)


# ----- label selectors: the API server's own parser (sim/selectors.py), as plain callables -----


def selector_from_map(selector: dict[str, str] | None) -> Matcher:
    """A Service-style map selector (callers skip empty maps, which select nothing for a Service)."""
    return selectors.selector_from_spec({"matchLabels": selector or {}}).matches


def selector_from_spec(selector: Obj | None) -> Matcher:
    """A metav1 LabelSelector; a missing or unparseable selector selects nothing (as workload controllers do)."""
    if not isinstance(selector, dict):
        return lambda labels: False
    try:
        return selectors.selector_from_spec(selector).matches
    except selectors.SelectorError:
        return lambda labels: False


def parse_selector(text: str) -> Matcher | None:
    """A kubectl label selector string (a=b,c!=d,e in (x,y),f,!g); None when it is empty or does not parse."""
    try:
        parsed = selectors.parse_label_selector(text)
    except selectors.SelectorError:
        return None
    return None if parsed.is_everything else parsed.matches


# ----- templates -----


def template_hash(template: Obj, collision_count: int = 0) -> str:
    """A stable pod-template-hash in upstream's shape: FNV-32a of the template, digits safe-encoded."""
    data = json.dumps(template, sort_keys=True, separators=(",", ":")) + (
        str(collision_count) if collision_count else ""
    )
    value = 0x811C9DC5
    for byte in data.encode():
        value = ((value ^ byte) * 0x01000193) & 0xFFFFFFFF
    return "".join(_SAFE_ALPHABET[ord(c) % len(_SAFE_ALPHABET)] for c in str(value))


def without_hash(template: Obj) -> Obj:
    """The template with the pod-template-hash label removed (how rollback finds an old ReplicaSet)."""
    labels = (template.get("metadata") or {}).get("labels") or {}
    if POD_TEMPLATE_HASH not in labels:
        return template
    out = dict(template)
    out_meta = dict(template.get("metadata") or {})
    out_meta["labels"] = {k: v for k, v in labels.items() if k != POD_TEMPLATE_HASH}
    if not out_meta["labels"]:
        del out_meta["labels"]
    out["metadata"] = out_meta
    return out


def semantic(value: Any) -> Any:
    """`value` without null, empty maps and empty lists, at any depth: what apimachinery's Semantic.DeepEqual
    ignores (kubectl round-trips objects through Go structs, which drop an empty `annotations: {}`)."""
    if isinstance(value, dict):
        out = {k: semantic(v) for k, v in value.items()}
        return {k: v for k, v in out.items() if v is not None and v != {} and v != []}
    if isinstance(value, list):
        return [semantic(v) for v in value]
    return value


def same_template(a: Obj, b: Obj) -> bool:
    """Whether two pod templates are equal as the controllers compare them (EqualIgnoreHash's DeepEqual)."""
    return a == b or semantic(a) == semantic(b)


def condition(obj: Obj, kind: str) -> Obj | None:
    for cond in (obj.get("status") or {}).get("conditions") or []:
        if isinstance(cond, dict) and cond.get("type") == kind:
            return cond
    return None


def set_condition(conditions: list[Obj], new: Obj, now: str, refresh: bool = False) -> list[Obj]:
    """Replace the condition of new["type"]; lastTransitionTime moves only when the status changes, and
    lastUpdateTime only when reason or message change (or `refresh` asks for it)."""
    out = [c for c in conditions if c.get("type") != new["type"]]
    old = next((c for c in conditions if c.get("type") == new["type"]), None)
    merged = dict(new)
    if old is not None and old.get("status") == new.get("status"):
        merged["lastTransitionTime"] = old.get("lastTransitionTime", now)
        same = all(old.get(k) == new.get(k) for k in ("reason", "message"))
        if "lastUpdateTime" in new and same and not refresh:
            merged["lastUpdateTime"] = old.get("lastUpdateTime", now)
    else:
        merged["lastTransitionTime"] = now
    if old is not None and all(old.get(k) == merged.get(k) for k in merged) and set(old) == set(merged):
        merged = old
    index = next((i for i, c in enumerate(conditions) if c.get("type") == new["type"]), len(out))
    out.insert(min(index, len(out)), merged)
    return out

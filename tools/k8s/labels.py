"""Label selectors as kubectl takes them (`app=web,version!=bad,tier in (a,b),!canary`), parsed and matched locally.

Planners list objects with the selector on the server; they match locally only to predict what a change would do
(which pods a Service would still select once a label is gone, whether a ReplicaSet selector uses a label).

Layer: tools.k8s.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Literal

from incident_response.tools.core import errors
from incident_response.tools.k8s.views import meta

Op = Literal["=", "!=", "in", "notin", "exists", "!"]

_KEY = r"[A-Za-z0-9]([-A-Za-z0-9_./]*[A-Za-z0-9])?"
_VALUE = r"([A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?)?"
_SET = re.compile(rf"^\s*({_KEY})\s+(in|notin)\s*\(([^)]*)\)\s*$")
_EQ = re.compile(rf"^\s*({_KEY})\s*(==|=|!=)\s*({_VALUE})\s*$")
_EXISTS = re.compile(rf"^\s*(!?)\s*({_KEY})\s*$")
_VALUE_ONLY = re.compile(rf"^{_VALUE}$")


@dataclass(frozen=True)
class Requirement:
    key: str
    op: Op
    values: tuple[str, ...] = ()

    def matches(self, labels: dict[str, str]) -> bool:
        present = self.key in labels
        value = labels.get(self.key)
        if self.op == "=":
            return value == self.values[0]
        if self.op == "!=":
            return value != self.values[0]
        if self.op == "in":
            return value in self.values
        if self.op == "notin":
            return value not in self.values
        if self.op == "exists":
            return present
        return not present

    def text(self) -> str:
        if self.op in ("=", "!="):
            return f"{self.key}{self.op}{self.values[0]}"
        if self.op in ("in", "notin"):
            return f"{self.key} {self.op} ({','.join(self.values)})"
        return self.key if self.op == "exists" else f"!{self.key}"


Selector = tuple[Requirement, ...]


def _split(text: str) -> list[str]:
    """Split on commas outside parentheses (empty parts kept: the caller refuses them, as kubectl does)."""
    parts, depth, current = [], 0, ""
    for ch in text:
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        if ch == "," and depth == 0:
            parts.append(current)
            current = ""
        else:
            current += ch
    parts.append(current)
    return parts


def parse(text: str) -> Selector:
    """Parse a kubectl label selector; raises InvalidArgument with kubectl's kind of hint."""
    if any(ord(ch) < 0x20 or ord(ch) == 0x7F for ch in text):
        raise errors.InvalidArgument(
            f"label selector {text!r} contains a control character (a newline?); give it on one line"
        )
    if not text.strip():
        raise errors.InvalidArgument("the label selector is empty; name the pods, e.g. app=web,version=bad")
    requirements: list[Requirement] = []
    for part in _split(text):
        if not part.strip():
            raise errors.InvalidArgument(
                f"label selector {text!r} has an empty requirement (two commas in a row, or a comma at either end); "
                "use kubectl's form (app=web,version=bad)"
            )
        if m := _SET.match(part):
            values = tuple(v.strip() for v in m.group(4).split(",") if v.strip())
            if not values or not all(_VALUE_ONLY.match(v) for v in values):
                raise errors.InvalidArgument(f"label selector {text!r}: {part.strip()!r} needs a list of values")
            requirements.append(Requirement(m.group(1), "in" if m.group(3) == "in" else "notin", values))
        elif m := _EQ.match(part):
            op: Op = "!=" if m.group(3) == "!=" else "="
            requirements.append(Requirement(m.group(1), op, (m.group(4),)))
        elif m := _EXISTS.match(part):
            requirements.append(Requirement(m.group(2), "!" if m.group(1) else "exists"))
        else:
            raise errors.InvalidArgument(
                f"label selector {text!r} is not valid at {part.strip()!r}; use kubectl's form (app=web,version=bad)"
            )
    return tuple(requirements)


def text(selector: Selector) -> str:
    return ",".join(r.text() for r in selector)


def matches(selector: Selector, labels: dict[str, str] | None) -> bool:
    return all(r.matches(labels or {}) for r in selector)


def from_map(labels: dict[str, str] | None) -> Selector:
    """A Service-style selector map; empty means it selects nothing (Services without selectors)."""
    return tuple(Requirement(k, "=", (str(v),)) for k, v in sorted((labels or {}).items()))


def from_spec(spec: dict[str, Any] | None) -> Selector:
    """A LabelSelector object (matchLabels + matchExpressions), as ReplicaSets and NetworkPolicies hold them."""
    spec = spec or {}
    out = list(from_map(spec.get("matchLabels")))
    ops: dict[str, Op] = {"In": "in", "NotIn": "notin", "Exists": "exists", "DoesNotExist": "!"}
    for expr in spec.get("matchExpressions") or []:
        op = ops.get(str(expr.get("operator")))
        if op is not None:
            out.append(Requirement(str(expr.get("key")), op, tuple(str(v) for v in expr.get("values") or [])))
    return tuple(out)


def keys(selector: Selector) -> set[str]:
    return {r.key for r in selector}


def equalities(selector: Selector) -> dict[str, str]:
    """The `key=value` requirements, as a label map (what a NetworkPolicy's matchLabels can hold)."""
    return {r.key: r.values[0] for r in selector if r.op == "="}


def labels_of(obj: dict[str, Any]) -> dict[str, str]:
    return dict(meta(obj).labels)


def without(selector: Selector, key: str) -> Selector:
    return tuple(r for r in selector if r.key != key)

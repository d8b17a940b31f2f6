"""Field selectors as the kube-apiserver parses and evaluates them (k8s.io/apimachinery/pkg/fields), with the
per-resource field-label conversions merged into one resolver.

Layer: sim (the simulated cluster; apart from the product).
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from typing import Any

from .selector_validation import SelectorError

# ---------------------------------------------------------------------------------------------------------------
# Field selectors


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _path_getter(*path: str, default: str = "") -> Callable[[Mapping[str, Any]], str]:
    def get(obj: Mapping[str, Any]) -> str:
        node: Any = obj
        for part in path:
            if not isinstance(node, Mapping) or part not in node:
                return default
            node = node[part]
        return _text(node) if node is not None else default

    return get


# Field label -> how to read it. One table for all kinds: fields that do not exist on a kind read as "".
# Booleans read "false" when absent, as the upstream conversions format the Go zero value.
FIELD_RESOLVERS: dict[str, Callable[[Mapping[str, Any]], str]] = {
    "metadata.name": _path_getter("metadata", "name"),
    "metadata.namespace": _path_getter("metadata", "namespace"),
    "spec.nodeName": _path_getter("spec", "nodeName"),
    "spec.unschedulable": _path_getter("spec", "unschedulable", default="false"),
    "spec.restartPolicy": _path_getter("spec", "restartPolicy"),
    "spec.schedulerName": _path_getter("spec", "schedulerName"),
    "spec.serviceAccountName": _path_getter("spec", "serviceAccountName"),
    "spec.hostNetwork": _path_getter("spec", "hostNetwork", default="false"),
    "status.phase": _path_getter("status", "phase"),
    "status.podIP": _path_getter("status", "podIP"),
    "status.nominatedNodeName": _path_getter("status", "nominatedNodeName"),
    "reason": _path_getter("reason"),
    "type": _path_getter("type"),
    "source": _path_getter("source", "component"),
    "reportingComponent": _path_getter("reportingComponent"),
    **{
        f"involvedObject.{f}": _path_getter("involvedObject", f)
        for f in ("kind", "name", "namespace", "uid", "apiVersion", "resourceVersion", "fieldPath")
    },
}
SUPPORTED_FIELDS = frozenset(FIELD_RESOLVERS)


@dataclass(frozen=True)
class FieldRequirement:
    field: str
    value: str
    negated: bool = False

    def matches(self, obj: Mapping[str, Any]) -> bool:
        return (FIELD_RESOLVERS[self.field](obj) == self.value) != self.negated

    def __str__(self) -> str:
        return f"{self.field}{'!=' if self.negated else '='}{escape_field_value(self.value)}"


@dataclass(frozen=True)
class FieldSelector:
    requirements: tuple[FieldRequirement, ...] = ()

    @property
    def is_everything(self) -> bool:
        return not self.requirements

    def matches(self, obj: Mapping[str, Any]) -> bool:
        return all(r.matches(obj) for r in self.requirements)

    def __str__(self) -> str:
        return ",".join(str(r) for r in self.requirements)


def escape_field_value(value: str) -> str:
    return value.replace("\\", "\\\\").replace(",", "\\,").replace("=", "\\=")


def _unescape_field_value(value: str) -> str:
    out: list[str] = []
    chars = iter(value)
    for ch in chars:
        if ch == "\\":
            nxt = next(chars, "")
            if nxt not in ("\\", ",", "="):
                raise SelectorError(f"invalid field selector: invalid escape sequence: \\{nxt}")
            out.append(nxt)
        elif ch in ",=":
            raise SelectorError(f"invalid field selector: unescaped character in value: {ord(ch)}")
        else:
            out.append(ch)
    return "".join(out)


def _split_terms(text: str) -> list[str]:
    # Commas separate terms unless escaped with a backslash.
    terms, current, escaped = [], [], False
    for ch in text:
        if escaped:
            current.append(ch)
            escaped = False
        elif ch == "\\":
            current.append(ch)
            escaped = True
        elif ch == ",":
            terms.append("".join(current))
            current = []
        else:
            current.append(ch)
    terms.append("".join(current))
    return terms


def _split_term(term: str) -> tuple[str, str, str] | None:
    # The first operator occurrence wins; at one position "!=" and "==" are tried before "=".
    for i in range(len(term)):
        for op in ("!=", "==", "="):
            if term.startswith(op, i):
                return term[:i], op, term[i + len(op) :]
    return None


def parse_field_selector(text: str, supported: Collection[str] | None = None) -> FieldSelector:
    """Parse a ``fieldSelector`` query value. ``supported`` narrows the accepted fields for one resource."""
    allowed = SUPPORTED_FIELDS if supported is None else frozenset(supported) & SUPPORTED_FIELDS
    reqs: list[FieldRequirement] = []
    for term in sorted(_split_terms(text)):
        if not term:
            continue
        split = _split_term(term)
        if split is None:
            raise SelectorError(f"invalid selector: '{text}'; can't understand '{term}'")
        field, op, raw = split
        value = _unescape_field_value(raw)
        if field not in allowed:
            raise SelectorError(f"field label not supported: {field}")
        reqs.append(FieldRequirement(field, value, negated=op == "!="))
    return FieldSelector(tuple(reqs))

"""Shared helpers for the Table printers: safe field access, time formatting, label and selector formatting.

Everything here mirrors a small piece of upstream Go (apimachinery's duration and labels packages,
printers.go helpers) so that the cells the simulator serves read exactly as a real kube-apiserver's.

Layer: sim (the simulated cluster; apart from the product).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

Obj = Mapping[str, Any]
Cell = str | int | bool
RowFn = Callable[[Obj, datetime], list[Cell]]

NONE = "<none>"
UNKNOWN = "<unknown>"
UNSET = "<unset>"


# --- safe access: objects are plain JSON dicts and may be partial, so nothing here raises ---


def get(obj: Any, *path: str) -> Any:
    """Walk nested dicts; None as soon as a step is missing or not a dict."""
    cur = obj
    for key in path:
        if not isinstance(cur, Mapping):
            return None
        cur = cur.get(key)
    return cur


def get_str(obj: Any, *path: str) -> str:
    value = get(obj, *path)
    return value if isinstance(value, str) else ""


def get_int(obj: Any, *path: str, default: int = 0) -> int:
    value = get(obj, *path)
    # bool is an int subclass in Python; JSON booleans are never counts.
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    return default


def get_list(obj: Any, *path: str) -> list[Any]:
    value = get(obj, *path)
    return value if isinstance(value, list) else []


def get_dicts(obj: Any, *path: str) -> list[Mapping[str, Any]]:
    """A list field's dict items only, so malformed entries are skipped rather than crashing a row."""
    return [item for item in get_list(obj, *path) if isinstance(item, Mapping)]


def get_map(obj: Any, *path: str) -> Mapping[str, Any]:
    value = get(obj, *path)
    return value if isinstance(value, Mapping) else {}


def name_of(obj: Obj) -> str:
    return get_str(obj, "metadata", "name")


# --- time ---


def parse_time(value: Any) -> datetime | None:
    """RFC3339 (metav1.Time) or RFC3339 with microseconds (metav1.MicroTime); None when absent or unparsable."""
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if not isinstance(value, str) or not value:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _aware(now: datetime) -> datetime:
    return now if now.tzinfo else now.replace(tzinfo=UTC)


def human_duration(delta: timedelta) -> str:
    """k8s.io/apimachinery/pkg/util/duration.HumanDuration: ~2-3 significant figures, e.g. 45s, 3m5s, 2d3h."""
    total_us = (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds
    # Go's int(d.Seconds()) truncates toward zero; up to 2s of clock skew reads as "0s".
    seconds = math.trunc(total_us / 1_000_000)
    if seconds < -1:
        return "<invalid>"
    if seconds < 0:
        return "0s"
    if seconds < 60 * 2:
        return f"{seconds}s"
    return _human_minutes_and_up(seconds)


def _human_minutes_and_up(seconds: int) -> str:
    minutes = seconds // 60
    if minutes < 10:
        rest = seconds % 60
        return f"{minutes}m" if rest == 0 else f"{minutes}m{rest}s"
    if minutes < 60 * 3:
        return f"{minutes}m"
    hours = seconds // 3600
    if hours < 8:
        rest = minutes % 60
        return f"{hours}h" if rest == 0 else f"{hours}h{rest}m"
    if hours < 48:
        return f"{hours}h"
    if hours < 24 * 8:
        rest = hours % 24
        return f"{hours // 24}d" if rest == 0 else f"{hours // 24}d{rest}h"
    if hours < 24 * 365 * 2:
        return f"{hours // 24}d"
    if hours < 24 * 365 * 8:
        rest = (hours // 24) % 365
        return f"{hours // 24 // 365}y" if rest == 0 else f"{hours // 24 // 365}y{rest}d"
    return f"{hours // 24 // 365}y"


def since(value: Any, now: datetime) -> str:
    """printers.go translateTimestampSince: `<unknown>` for a zero/missing time."""
    when = parse_time(value)
    if when is None:
        return UNKNOWN
    return human_duration(_aware(now) - when)


def age(obj: Obj, now: datetime) -> str:
    return since(get(obj, "metadata", "creationTimestamp"), now)


def rfc3339_utc(value: Any) -> str:
    """Go's Time.UTC().Format(time.RFC3339); a missing time is Go's zero time."""
    when = parse_time(value)
    if when is None:
        return "0001-01-01T00:00:00Z"
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


# --- labels and selectors (k8s.io/apimachinery/pkg/labels, metav1.FormatLabelSelector) ---


def format_labels(labels: Any) -> str:
    """labels.FormatLabels: sorted `k=v` pairs, `<none>` when empty."""
    if not isinstance(labels, Mapping) or not labels:
        return NONE
    return ",".join(f"{key}={labels[key]}" for key in sorted(labels))


class SelectorError(ValueError):
    """A LabelSelector that metav1.LabelSelectorAsSelector would reject."""


_OPERATORS = {"In": " in ", "NotIn": " notin ", "Exists": "", "DoesNotExist": ""}


def _requirement(key: str, operator: str, values: list[str]) -> str:
    if operator not in _OPERATORS:
        raise SelectorError(f"{operator!r} is not a valid label selector operator")
    if operator in ("Exists", "DoesNotExist"):
        if values:
            raise SelectorError("values set must be empty for exists and does not exist")
        return f"!{key}" if operator == "DoesNotExist" else key
    if not values:
        raise SelectorError("for 'in', 'notin' operators, values set can't be empty")
    return f"{key}{_OPERATORS[operator]}({','.join(sorted(values))})"


def selector_string(selector: Any) -> str:
    """labels.Selector.String() of metav1.LabelSelectorAsSelector: requirements sorted by key; "" for nil/empty."""
    if not isinstance(selector, Mapping):
        return ""
    reqs: list[tuple[str, str]] = [(str(k), f"{k}={v}") for k, v in get_map(selector, "matchLabels").items()]
    for expr in get_dicts(selector, "matchExpressions"):
        key = get_str(expr, "key")
        values = [str(v) for v in get_list(expr, "values")]
        reqs.append((key, _requirement(key, get_str(expr, "operator"), values)))
    # Go sorts with sort.Sort (not stable); ties between equal keys are rare enough to ignore.
    return ",".join(text for _, text in sorted(reqs, key=lambda r: r[0]))


def format_label_selector(selector: Any) -> str:
    """metav1.FormatLabelSelector: `<none>` for an empty selector, `<error>` for an invalid one."""
    try:
        text = selector_string(selector)
    except SelectorError:
        return "<error>"
    return text or NONE


def int_or_string(value: Any) -> str | None:
    """intstr.IntOrString.String(); None when the field is absent."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int | str):
        return str(value)
    return None


def quantity(value: Any) -> str:
    """resource.Quantity.String() for the values the simulator stores (already-canonical strings or numbers)."""
    if isinstance(value, bool):
        return "0"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if value.is_integer():
            return str(int(value))
        return f"{round(value * 1000)}m"
    if isinstance(value, str) and value:
        return value
    return "0"


def containers_cells(containers: list[Mapping[str, Any]]) -> tuple[str, str]:
    """printers.go layoutContainerCells: names and images, comma separated."""
    names = ",".join(get_str(c, "name") for c in containers)
    images = ",".join(get_str(c, "image") for c in containers)
    return names, images


def join_host_port(host: str, port: int) -> str:
    """net.JoinHostPort: IPv6 literals get brackets."""
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


# --- column definitions ---


@dataclass(frozen=True)
class Column:
    name: str
    type: str
    description: str
    priority: int = 0
    format: str = ""

    def as_dict(self) -> dict[str, Any]:
        # metav1.TableColumnDefinition has no omitempty fields: all five keys are always serialized.
        return {
            "name": self.name,
            "type": self.type,
            "format": self.format,
            "description": self.description,
            "priority": self.priority,
        }


@dataclass(frozen=True)
class Printer:
    columns: tuple[Column, ...]
    cells: RowFn
    # TableRowConditions (only pods use them: Completed for Succeeded/Failed).
    conditions: Callable[[Obj], list[dict[str, str]]] | None = None


# ObjectMeta swagger docs, as printers.go reads them via metav1.ObjectMeta{}.SwaggerDoc().
NAME_DOC = (
    "Name must be unique within a namespace. Is required when creating resources, although some resources may "
    "allow a client to request the generation of an appropriate name automatically. Name is primarily intended "
    "for creation idempotence and configuration definition. Cannot be updated. More info: "
    "https://kubernetes.io/docs/concepts/overview/working-with-objects/names#names"
)
CREATION_DOC = (
    "CreationTimestamp is a timestamp representing the server time when this object was created. It is not "
    "guaranteed to be set in happens-before order across separate operations. Clients may not set this value. "
    "It is represented in RFC3339 form and is in UTC.\n\nPopulated by the system. Read-only. Null for lists. "
    "More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#metadata"
)
CONTAINERS_DOC = "Names of each container in the template."
IMAGES_DOC = "Images referenced by each container in the template."

NAME_COLUMN = Column("Name", "string", NAME_DOC, format="name")
AGE_COLUMN = Column("Age", "string", CREATION_DOC)

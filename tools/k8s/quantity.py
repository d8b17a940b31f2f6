"""Kubernetes quantities ("250m", "512Mi") and ages, as numbers and as kubectl prints them.

Layer: tools.k8s.
"""

from __future__ import annotations

import functools
import re
from datetime import datetime, timedelta
from typing import Any

_QUANTITY = re.compile(r"^([+-]?[0-9.]+(?:[eE][+-]?[0-9]+)?)([a-zA-Z]*)$")
_SUFFIX: dict[str, float] = {
    "": 1,
    "n": 1e-9,
    "u": 1e-6,
    "m": 1e-3,
    "k": 1e3,
    "M": 1e6,
    "G": 1e9,
    "T": 1e12,
    "P": 1e15,
    "E": 1e18,
    "Ki": 2.0**10,
    "Mi": 2.0**20,
    "Gi": 2.0**30,
    "Ti": 2.0**40,
    "Pi": 2.0**50,
    "Ei": 2.0**60,
}


def parse_quantity(value: Any) -> float | None:
    """A quantity in base units (cores, bytes); None when absent or unparseable."""
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value)
    return _parse_text(str(value))


@functools.lru_cache(maxsize=4096)
def _parse_text(text: str) -> float | None:
    """Cached: a namespace read parses the same few requests and limits once per pod (10,000 times)."""
    match = _QUANTITY.match(text.strip())
    if not match or match.group(2) not in _SUFFIX:
        return None
    try:
        return float(match.group(1)) * _SUFFIX[match.group(2)]
    except ValueError:
        return None


def cpu_text(cores: float | None) -> str:
    return "-" if cores is None else f"{round(cores * 1000)}m"


def memory_text(size: float | None) -> str:
    if size is None:
        return "-"
    for unit, factor in (("Gi", 2**30), ("Mi", 2**20), ("Ki", 2**10)):
        if size >= factor:
            return f"{size / factor:.0f}{unit}"
    return f"{size:.0f}"


def percent(part: float | None, whole: float | None) -> int | None:
    if part is None or not whole:
        return None
    return round(100 * part / whole)


def parse_time(value: Any) -> datetime | None:
    if not value or not isinstance(value, str):
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None


def age_seconds(value: Any, now: datetime) -> int | None:
    when = parse_time(value)
    return None if when is None else max(0, int((now - when).total_seconds()))


def human_age(seconds: int | None) -> str:
    """kubectl's short duration: 45s, 12m, 3h20m, 5d."""
    if seconds is None:
        return "<unknown>"
    delta = timedelta(seconds=seconds)
    if seconds < 120:
        return f"{seconds}s"
    minutes = seconds // 60
    if minutes < 10:
        rest = seconds % 60
        return f"{minutes}m{rest}s" if rest else f"{minutes}m"
    if minutes < 180:
        return f"{minutes}m"
    hours = seconds // 3600
    if hours < 8:
        rest_minutes = minutes % 60
        return f"{hours}h{rest_minutes}m" if rest_minutes else f"{hours}h"
    if delta.days < 2:
        return f"{hours}h"
    return f"{delta.days}d"

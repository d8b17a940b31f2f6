"""The incident contract: annotations that give simulated pods and nodes their behaviour.

Pod behaviours are read from the pod's own annotations (they come from the pod template, so a rollback to an
old template restores the old behaviour), over what the cluster's image catalogue says its containers' images do: a
scenario can make a release crash through its image alone, so the template difference a tool reports is the one a
real cluster would show (the image), not a simulator annotation (the shipped scenarios use only the catalogue for
pods). The pod's own annotations win. Deployment load is
read from the Deployment's metadata through the pod's owner chain (pod -> ReplicaSet -> Deployment), so changing it
needs no rollout.

Layer: sim (the simulated cluster; apart from the product).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

PREFIX = "sim.incident-response.dev/"
BEHAVIOR = PREFIX + "behavior"  # pod: healthy | crashloop | image-pull-error | not-ready | oom | complete
MEMORY_NEED = PREFIX + "memory-need"  # pod: memory the app needs (quantity); oom below it
CPU_MILLICORES = PREFIX + "cpu-millicores"  # pod: CPU the pod uses
MEMORY_BYTES = PREFIX + "memory-bytes"  # pod: memory the pod uses (quantity or bytes)
# pod: memory the app leaks per hour of running (quantity): its use climbs from memory-bytes (or 40% of the limit)
# and the container is OOMKilled when it reaches its limit, after hours; a restart starts the climb over
MEMORY_GROWTH = PREFIX + "memory-growth"
LOAD_MILLICORES = PREFIX + "load-millicores"  # deployment: total CPU load shared by its serving pods
POISONS = PREFIX + "poisons"  # pod: label selector of same-namespace pods this pod breaks while reachable
LOG_LINES = PREFIX + "log-lines"  # pod: lines (newline-separated) the app prints when it starts
# pod (not-ready): the error line it prints every second instead of its default (a redis health check timing out)
NOT_READY_LINE = PREFIX + "not-ready-line"
# image (catalogue): comma-separated env var names the app exits at start without (a configuration error): a
# release that drops one crashes through its env, the template difference a real cluster would show
NEEDS_ENV = PREFIX + "needs-env"
NODE_CONDITION = PREFIX + "condition"  # node: NotReady | MemoryPressure | DiskPressure
# deployment: a ReplicaSet it creates is dated this many minutes back (with its rollout and pods)
ROLLED_OUT_MINUTES_AGO = PREFIX + "rolled-out-minutes-ago"

HEALTHY = "healthy"
CRASHLOOP = "crashloop"
IMAGE_PULL_ERROR = "image-pull-error"
NOT_READY = "not-ready"
OOM = "oom"
COMPLETE = "complete"  # the container does its work and exits 0 (a batch pod; restarted only under Always)
BEHAVIORS = (HEALTHY, CRASHLOOP, IMAGE_PULL_ERROR, NOT_READY, OOM, COMPLETE)

NODE_CONDITIONS = ("NotReady", "MemoryPressure", "DiskPressure")

DEFAULT_MEMORY_BYTES = 64 * 1024 * 1024

_QUANTITY = re.compile(r"^([+-]?[0-9.]+(?:[eE][+-]?[0-9]+)?)([a-zA-Z]*)$")
_SUFFIX = {
    "": 1,
    "m": 0.001,
    "k": 10**3,
    "M": 10**6,
    "G": 10**9,
    "T": 10**12,
    "P": 10**15,
    "E": 10**18,
    "Ki": 2**10,
    "Mi": 2**20,
    "Gi": 2**30,
    "Ti": 2**40,
    "Pi": 2**50,
    "Ei": 2**60,
}


def parse_quantity(value: Any) -> float | None:
    """A Kubernetes quantity ("250m", "512Mi", 2) as a number of base units; None if unparseable."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int | float):
        return float(value)
    match = _QUANTITY.match(str(value).strip())
    if not match or match.group(2) not in _SUFFIX:
        return None
    try:
        return float(match.group(1)) * _SUFFIX[match.group(2)]
    except ValueError:
        return None


def millicores(value: Any) -> int | None:
    amount = parse_quantity(value)
    return None if amount is None else round(amount * 1000)


def bytes_of(value: Any) -> int | None:
    amount = parse_quantity(value)
    return None if amount is None else int(amount)


@dataclass(frozen=True)
class PodBehavior:
    """What a pod's annotations ask of the simulated kubelet."""

    kind: str = HEALTHY
    memory_need: int | None = None
    cpu_millicores: int | None = None
    memory_bytes: int | None = None
    memory_growth: int | None = None  # bytes leaked per hour of running
    poisons: str | None = None
    log_lines: tuple[str, ...] = ()
    not_ready_line: str | None = None
    missing_env: str | None = None  # a variable its image needs that its container's env does not set: it crashes


_CACHE: dict[tuple[tuple[str, str], ...], PodBehavior] = {}


# image reference -> the behaviour annotations a pod running it gets (what the release's code does when it runs)
Images = Mapping[str, Mapping[str, str]]


def pod_behavior(pod: dict[str, Any], images: Images | None = None) -> PodBehavior:
    values: dict[str, str] = {}
    missing: str | None = None
    if images:
        for container in (pod.get("spec") or {}).get("containers") or ():
            does = images.get(str(container.get("image", ""))) or {}
            for key, value in does.items():
                values.setdefault(key, value)
            if missing is None and does.get(NEEDS_ENV):
                missing = _missing_env(container, does[NEEDS_ENV])
    annotations = pod.get("metadata", {}).get("annotations") or {}
    values.update((k, str(v)) for k, v in annotations.items() if k.startswith(PREFIX))
    relevant = (*sorted(values.items()), ("", missing or ""))
    cached = _CACHE.get(relevant)
    if cached is not None:
        return cached
    # An app missing a setting it needs exits at start, unless the pod's own annotation says what it does.
    kind = values.get(BEHAVIOR, CRASHLOOP if missing else HEALTHY).strip().lower()
    behavior = PodBehavior(
        kind=kind if kind in BEHAVIORS else HEALTHY,
        memory_need=bytes_of(values.get(MEMORY_NEED)),
        cpu_millicores=int(values[CPU_MILLICORES]) if _is_int(values.get(CPU_MILLICORES)) else None,
        memory_bytes=bytes_of(values.get(MEMORY_BYTES)),
        memory_growth=growth if (growth := bytes_of(values.get(MEMORY_GROWTH))) else None,
        poisons=values.get(POISONS) or None,
        log_lines=tuple(values[LOG_LINES].split("\n")) if values.get(LOG_LINES) else (),
        not_ready_line=values.get(NOT_READY_LINE) or None,
        missing_env=missing if kind == CRASHLOOP else None,
    )
    if len(_CACHE) < 4096:
        _CACHE[relevant] = behavior
    return behavior


def _missing_env(container: Mapping[str, Any], needs: str) -> str | None:
    """The first of `needs` (comma-separated names) the container's env does not set (envFrom is not read)."""
    have = {str(e.get("name")) for e in container.get("env") or () if isinstance(e, Mapping)}
    return next((n for n in (x.strip() for x in needs.split(",")) if n and n not in have), None)


def load_millicores(obj: dict[str, Any] | None) -> int | None:
    """The total load a Deployment (or ReplicaSet) carries, from its metadata annotation."""
    if obj is None:
        return None
    value = (obj.get("metadata", {}).get("annotations") or {}).get(LOAD_MILLICORES)
    return int(str(value)) if _is_int(value) else None


def rolled_out_minutes_ago(obj: dict[str, Any]) -> int | None:
    """How many minutes back a Deployment's new revision is dated; None when it is not (or not a whole number)."""
    value = (obj.get("metadata", {}).get("annotations") or {}).get(ROLLED_OUT_MINUTES_AGO)
    return int(str(value).strip()) if _is_int(value) and int(str(value).strip()) > 0 else None


def node_condition(node: dict[str, Any]) -> str | None:
    value = (node.get("metadata", {}).get("annotations") or {}).get(NODE_CONDITION)
    return str(value) if value in NODE_CONDITIONS else None


def _is_int(value: Any) -> bool:
    return value is not None and str(value).strip().isdigit()

"""Canary pairs by their shape, whatever the naming convention: two Deployments whose pods one Service selects.

The shipped convention (<app>-canary/<app>-stable, or version=canary/stable) is one of many: teams label the halves
track=, variant=, stage= or name the new one -next, -v2, -preview. A pair is two Deployments behind one Service
(its selector matches both pod templates, and no third one); which half is the canary is read from role hints in
their labels or names, else (for two versions of one app: the same containers and image repositories) from age:
the one first rolled out in the last 2 hours beside one running for longer is the canary. Health is the rules'
business (a failing canary beside a healthy stable is pulled: rollback_canary). The Service's name is the pair's
`app`, what rollback_canary(app=...) takes.

Layer: tools.playbook.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from incident_response.tools.k8s import labels
from incident_response.tools.k8s.backends import name_of, service_selector
from incident_response.tools.k8s.quantity import parse_time
from incident_response.tools.k8s.views import meta

RECENT = timedelta(hours=2)
ROLE_KEYS = ("version", "track", "variant", "stage", "release", "channel")
CANARY_WORDS = ("canary", "next", "preview", "new", "candidate", "rc")
STABLE_WORDS = ("stable", "prod", "production", "primary", "main", "current", "live", "ga")
CANARY_SUFFIXES = tuple(f"-{w}" for w in ("canary", "next", "preview", "new", "candidate", "v2", "rc"))
STABLE_SUFFIXES = tuple(f"-{w}" for w in ("stable", "primary", "main", "current", "live"))


def pod_labels(deployment: dict[str, Any]) -> dict[str, str]:
    template = (deployment.get("spec") or {}).get("template") or {}
    return dict(meta(template).labels)


def hinted_role(deployment: dict[str, Any]) -> str | None:
    """'canary' or 'stable' from a role label of its pods or the end of its name; None when nothing says."""
    tags = pod_labels(deployment)
    for key in ROLE_KEYS:
        value = tags.get(key, "").lower()
        if value in CANARY_WORDS:
            return "canary"
        if value in STABLE_WORDS:
            return "stable"
    name = name_of(deployment)
    if name.endswith(CANARY_SUFFIXES):
        return "canary"
    if name.endswith(STABLE_SUFFIXES):
        return "stable"
    return None


def images(deployment: dict[str, Any]) -> dict[str, str]:
    """container name -> image repository (no tag or digest)."""
    spec = ((deployment.get("spec") or {}).get("template") or {}).get("spec") or {}
    found = {}
    for container in spec.get("containers") or []:
        image = str(container.get("image") or "").split("@", 1)[0]
        path, _, last = image.rpartition("/")
        found[str(container.get("name"))] = f"{path}/{last.split(':', 1)[0]}" if path else last.split(":", 1)[0]
    return found


def same_app(first: dict[str, Any], second: dict[str, Any]) -> bool:
    """With no role named anywhere, only two versions of one app are a pair: the same containers of the same image
    repositories (a canary changes the tag), not two components that happen to share a Service."""
    return images(first) == images(second)


def first_rollout(deployment: dict[str, Any], replicasets: list[dict[str, Any]]) -> datetime | None:
    """When it first ran: its creation, or its oldest ReplicaSet's when that is older (an adopted history)."""
    uid = meta(deployment).uid
    times = [parse_time(meta(deployment).creation_timestamp)]
    times += [
        parse_time(meta(rs).creation_timestamp)
        for rs in replicasets
        if any(ref.get("uid") == uid for ref in (rs.get("metadata") or {}).get("ownerReferences") or [])
    ]
    known = [t for t in times if t is not None]
    return min(known) if known else None


def roles(
    pair: tuple[dict[str, Any], dict[str, Any]], replicasets: list[dict[str, Any]], now: datetime
) -> tuple[dict[str, Any], dict[str, Any]] | None:
    """(canary, stable) of two Deployments, or None when neither hints nor age tell them apart."""
    first, second = pair
    hints = (hinted_role(first), hinted_role(second))
    if hints in (("canary", "stable"), ("canary", None), (None, "stable")):
        return first, second
    if hints in (("stable", "canary"), (None, "canary"), ("stable", None)):
        return second, first
    if hints != (None, None) or not same_app(first, second):
        return None
    one, other = first_rollout(first, replicasets), first_rollout(second, replicasets)
    if one is None or other is None:
        return None
    newer, older = (first, second) if one > other else (second, first)
    newest, oldest = max(one, other), min(one, other)
    if now - newest <= RECENT < now - oldest:
        return newer, older
    return None


def service_pairs(
    deployments: list[dict[str, Any]],
    services: list[dict[str, Any]],
    replicasets: list[dict[str, Any]],
    now: datetime,
) -> list[tuple[str, dict[str, Any], dict[str, Any], list[str]]]:
    """(app = the Service's name, canary, stable, Services selecting both), one per pair, by Service name."""
    found: dict[tuple[str, str], tuple[str, dict[str, Any], dict[str, Any], list[str]]] = {}
    for service in sorted(services, key=name_of):
        selector = service_selector(service)
        if not selector:
            continue
        behind = [d for d in deployments if labels.matches(selector, pod_labels(d))]
        if len(behind) != 2:
            continue
        split = roles((behind[0], behind[1]), replicasets, now)
        if split is None:
            continue
        canary, stable = split
        key = (name_of(canary), name_of(stable))
        if key in found:
            found[key][3].append(name_of(service))
            continue
        found[key] = (name_of(service), canary, stable, [name_of(service)])
    return list(found.values())

"""Pods waiting for a ReadWriteOnce volume that is attached to another node (Multi-Attach).

A block volume attaches to one node at a time. A pod placed on another node stays ContainerCreating, and only the
attach/detach controller's Warning FailedAttachVolume event on it says why: 'Multi-Attach error for volume "pvc-..."
Volume is already used by pod(s) NAME' (pods of the same namespace that hold it), or 'Volume is already exclusively
attached to one node and can't be attached to another'. Who holds it tells the move:
- a pod of another template (a rollout surged a new pod onto another node): the rollout cannot finish while the old
  pod holds the volume (strategy Recreate lets the old pod go first; a rollback ends the stuck rollout);
- a pod of the same template (replicas added): more replicas of it never start on other nodes; scale back;
- a pod being deleted that is never confirmed gone (its node is down): it holds the volume until force-deleted once
  the node is fenced, and the volume detaches 6 minutes later (at once with the out-of-service taint).

Layer: tools.k8s.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Literal

from incident_response.tools.core.errors import truncate
from incident_response.tools.core.masking import mask_text
from incident_response.tools.k8s.mounts import creating
from incident_response.tools.k8s.views import meta

MULTI_ATTACH = re.compile(r'Multi-Attach error for volume "([^"\s]{1,253})" (.*)$')
USED_BY = re.compile(r"Volume is already used by pod\(s\) (.+?)(?: and \d+ pod\(s\) in different namespaces)?$")
TEMPLATE_HASH = "pod-template-hash"

Holder = Literal["terminating", "other_template", "same_template", "unknown"]


@dataclass(frozen=True)
class AttachWait:
    """A pod waiting for `volume`, and what holds it: `holders` (pods of the namespace named by the event, as
    "NAME on NODE"), `held_by` the case that decides the move."""

    pod: str
    volume: str
    holders: tuple[str, ...]
    held_by: Holder
    message: str


def _hash(pod: dict[str, Any]) -> str | None:
    value = meta(pod).labels.get(TEMPLATE_HASH)
    return str(value) if value else None


def attach_waits(events: list[dict[str, Any]], pods: list[dict[str, Any]]) -> dict[str, AttachWait]:
    """Pod -> its latest Multi-Attach wait, for those of `pods` still ContainerCreating."""
    if not any(e.get("reason") == "FailedAttachVolume" for e in events):
        return {}  # no pod waits on an attach: the pods are not looked at
    by_name = {str(meta(p).name): p for p in pods}
    told = {str((e.get("involvedObject") or {}).get("name") or "") for e in events}
    waiting = {name for name in told if name in by_name and creating(by_name[name])}
    found: dict[str, AttachWait] = {}
    for event in sorted(events, key=lambda e: str(e.get("lastTimestamp") or e.get("eventTime") or "")):
        name, message = str((event.get("involvedObject") or {}).get("name") or ""), str(event.get("message") or "")
        match = MULTI_ATTACH.search(message) if event.get("reason") == "FailedAttachVolume" else None
        if name not in waiting or match is None:
            continue
        used = USED_BY.match(match.group(2))
        named = [n.strip() for n in used.group(1).split(",")] if used else []
        holders = [by_name[n] for n in named if n in by_name]
        found[name] = AttachWait(
            pod=name,
            volume=match.group(1),
            holders=tuple(f"{meta(h).name} on {(h.get('spec') or {}).get('nodeName') or 'no node'}" for h in holders),
            held_by=_held_by(by_name[name], holders),
            # quoted in reasons: an event is anyone's to write, so masked and cut as other event messages are
            message=truncate(mask_text(" ".join(message.split())), 300),
        )
    return found


def _held_by(pod: dict[str, Any], holders: list[dict[str, Any]]) -> Holder:
    if not holders:
        return "unknown"
    if any(meta(h).deletion_timestamp for h in holders):
        return "terminating"
    if any(_hash(h) != _hash(pod) for h in holders):
        return "other_template"
    return "same_template"


def attach_move(wait: AttachWait, component: str) -> str:
    """What unblocks the wait, in words (a sentence), by who holds the volume."""
    held = ", ".join(wait.holders) or "a pod on another node"
    if wait.held_by == "terminating":
        return (
            f"The pod holding it ({held}) is being deleted and keeps the volume until it is gone, which a node that "
            "is down never confirms: once the human confirms that node is fenced or powered off, force-delete it "
            "(delete_pod force=true); the volume detaches 6 minutes later, at once if the node carries the "
            "node.kubernetes.io/out-of-service taint"
        )
    if wait.held_by == "other_template":
        return (
            f"The rollout of {component} started a new pod on another node while the old revision's pod ({held}) "
            "holds the ReadWriteOnce volume, so the rollout cannot finish. Nothing shows the release bad: a rollback "
            "ends the stuck rollout, or strategy Recreate (or maxSurge 0) lets the old pod go first (a short outage)"
        )
    if wait.held_by == "same_template":
        return (
            f"The ReadWriteOnce volume is held by {held}: replicas of {component} on other nodes never start, so "
            f"scale it back to {len(wait.holders)} (more replicas would wait too)"
        )
    return "A pod on another node holds the ReadWriteOnce volume: more replicas would wait too"

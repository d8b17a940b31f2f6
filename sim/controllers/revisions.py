"""ControllerRevisions: the revision history of StatefulSets and DaemonSets (upstream's controller/history).

Each revision stores the pod template as the strategic-merge patch kubectl applies on `rollout undo`:
`{"spec":{"template":{"$patch":"replace",...}}}`, with keys sorted as Go's encoding/json writes a map, so that
kubectl's byte comparison ("current template already matches revision N") holds. A rollback to an older
template reuses that revision and renumbers it, as upstream does.

Layer: sim (the simulated cluster; apart from the product).
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from incident_response.sim.controllers.common import (
    Obj,
    annotations_of,
    int_of,
    meta,
    owner_reference,
    template_hash,
    uid_of,
)
from incident_response.sim.resources import CONTROLLERREVISIONS
from incident_response.sim.store import Store

REVISION_HASH = "controller-revision-hash"


# Fields of a pod template that are Go maps (omitted when empty); an empty object anywhere else is a pointer to
# a struct (securityContext: {}, emptyDir: {}), which Go writes back as {}.
_MAPS = frozenset({"labels", "annotations", "nodeSelector", "limits", "requests", "matchLabels", "overhead"})


def _go(value: Any, key: str = "") -> Any:
    if isinstance(value, dict):
        out = {k: _go(v, k) for k, v in value.items()}
        return {k: v for k, v in out.items() if v is not None and v != [] and not (v == {} and k in _MAPS)}
    if isinstance(value, list):
        return [_go(v) for v in value]
    return value


def _go_template(template: Obj) -> Obj:
    """The template as kubectl re-encodes it from Go structs: nulls, empty lists and empty maps dropped, a zero
    creationTimestamp written as null, every container's `resources` present."""
    out: Obj = _go(copy.deepcopy(template))
    out.setdefault("metadata", {})["creationTimestamp"] = None
    spec = out.get("spec")
    if isinstance(spec, dict):
        for key in ("containers", "initContainers"):
            for container in spec.get(key) or []:
                if isinstance(container, dict):
                    container.setdefault("resources", {})
    return out


def _sorted(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _sorted(value[k]) for k in sorted(value)}
    if isinstance(value, list):
        return [_sorted(v) for v in value]
    return value


def patch_of(template: Obj) -> Obj:
    """The revision's data for a pod template (getPatch in the DaemonSet and StatefulSet controllers)."""
    patch: Obj = _sorted({"spec": {"template": {**_go_template(template), "$patch": "replace"}}})
    return patch


def template_of(revision: Obj) -> Obj:
    """The pod template a revision records (its data without the `$patch` directive)."""
    data = ((revision.get("data") or {}).get("spec") or {}).get("template") or {}
    return {k: copy.deepcopy(v) for k, v in data.items() if k != "$patch"}


def number(revision: Obj) -> int:
    return int_of(revision.get("revision"), 0)


def same(revision: Obj, template: Obj) -> bool:
    return json.dumps(revision.get("data"), sort_keys=True) == json.dumps(patch_of(template), sort_keys=True)


@dataclass
class History:
    """One workload's revisions: the one for its current template (`update`) and all of them."""

    update: Obj
    revisions: list[Obj]


def sync_history(store: Store, owner: Obj, owned: list[Obj], collisions: int = 0) -> History:
    """Find or create the revision of the owner's current template, numbered after every other one."""
    template = (owner.get("spec") or {}).get("template") or {}
    namespace = str(meta(owner).get("namespace", ""))
    matching = sorted((r for r in owned if same(r, template)), key=number)
    others = [r for r in owned if not any(r is m for m in matching)]
    latest = max((number(r) for r in others), default=0)
    if matching:
        current = matching[-1]
        if number(current) <= latest:  # an older template again (a rollback): it becomes the newest revision
            wanted = latest + 1
            current = store.mutate(
                CONTROLLERREVISIONS,
                namespace,
                str(meta(current)["name"]),
                lambda r: r.__setitem__("revision", wanted),
            )
        return History(current, [*others, current])
    current = _create(store, owner, template, latest + 1, collisions)
    return History(current, [*others, current])


def _create(store: Store, owner: Obj, template: Obj, revision: int, collisions: int) -> Obj:
    data = patch_of(template)
    namespace = str(meta(owner).get("namespace", ""))
    while True:
        digest = template_hash(data, collisions)
        name = f"{meta(owner).get('name')}-{digest}"
        if store.peek(CONTROLLERREVISIONS, namespace, name) is None:
            break
        collisions += 1
    labels = dict((template.get("metadata") or {}).get("labels") or {})
    labels[REVISION_HASH] = digest
    body: Obj = {
        "metadata": {
            "name": name,
            "namespace": namespace,
            "labels": labels,
            "ownerReferences": [owner_reference(owner)],
        },
        "data": data,
        "revision": revision,
    }
    annotations = dict(annotations_of(owner))
    if annotations:
        body["metadata"]["annotations"] = annotations
    return store.create(CONTROLLERREVISIONS, body)


def hash_of(revision: Obj) -> str:
    return str((meta(revision).get("labels") or {}).get(REVISION_HASH, ""))


def truncate(store: Store, owner: Obj, history: History, live: Callable[[Obj], bool]) -> None:
    """Delete the oldest revisions beyond revisionHistoryLimit that no pod runs (and that are not current)."""
    limit = int_of((owner.get("spec") or {}).get("revisionHistoryLimit"), 10)
    idle = sorted(
        (r for r in history.revisions if r is not history.update and not live(r)),
        key=number,
    )
    for revision in idle[: max(len(idle) - limit, 0)]:
        namespace, name = meta(revision).get("namespace"), str(meta(revision)["name"])
        if store.peek(CONTROLLERREVISIONS, namespace, name) is not None:
            store.remove(CONTROLLERREVISIONS, namespace, name)


def owned_by(revision: Obj, owner: Obj) -> bool:
    refs = meta(revision).get("ownerReferences") or []
    return any(ref.get("controller") and ref.get("uid") == uid_of(owner) for ref in refs)

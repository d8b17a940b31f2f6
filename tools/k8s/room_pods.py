"""A pod as node room reads it: where it is bound, what it requests, whose it is. Every pod of a cluster is read
for room (a node's free capacity is its allocatable minus the requests of every pod bound there), so each is kept
as this much only: 150,000 pods are a few dozen MB this way, where whole objects would be GBs.

The part keeps the API's shape (the same code reads it): metadata name, namespace, labels, deletionTimestamp and
the controller reference; spec nodeName and each container's resources (init containers are not counted, as
capacity.spec_requests does not count them); status phase. Pods of one controller share their labels and
containers as one object: the parts are read-only.

Layer: tools.k8s.
"""

from __future__ import annotations

from typing import Any

from incident_response.tools.k8s.podslim import Sharing, controller_uid

METADATA_FIELDS = ("name", "namespace", "labels", "deletionTimestamp")


class RoomSharing(Sharing):
    """Sharing, plus one spec part per (controller, node) and one status part per phase: pods of one controller on
    one node hold the same spec part, so a pod costs its metadata and little more."""

    def __init__(self) -> None:
        super().__init__()
        self._parts: dict[tuple[str, ...], dict[str, Any]] = {}

    def part(self, key: tuple[str, ...], build: dict[str, Any]) -> dict[str, Any]:
        kept = self._parts.get(key)
        if kept is not None and kept == build:
            return kept
        self._parts[key] = build
        return build


def room_pod(pod: dict[str, Any], sharing: RoomSharing) -> dict[str, Any]:
    """The part of `pod` node room reads (the argument is left as it was)."""
    metadata = pod.get("metadata") or {}
    spec = pod.get("spec") or {}
    owner = controller_uid(metadata)
    kept: dict[str, Any] = {k: metadata[k] for k in METADATA_FIELDS if k in metadata}
    if "labels" in kept:
        kept["labels"] = sharing.same(owner, "labels", kept["labels"])
    containers = [{"resources": c.get("resources") or {}} for c in spec.get("containers") or [] if isinstance(c, dict)]
    node = str(spec.get("nodeName") or "")
    shared = sharing.same(owner, "containers", containers)
    slim_spec = sharing.part(("spec", owner, node), {"nodeName": spec.get("nodeName"), "containers": shared})
    phase = str((pod.get("status") or {}).get("phase"))
    status = sharing.part(("status", phase), {"phase": (pod.get("status") or {}).get("phase")})
    return {"metadata": sharing.texts(kept), "spec": slim_spec, "status": status}

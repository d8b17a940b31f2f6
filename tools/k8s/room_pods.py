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


def room_pod(pod: dict[str, Any], sharing: Sharing) -> dict[str, Any]:
    """The part of `pod` node room reads (the argument is left as it was)."""
    metadata = pod.get("metadata") or {}
    spec = pod.get("spec") or {}
    owner = controller_uid(metadata)
    kept: dict[str, Any] = {k: metadata[k] for k in METADATA_FIELDS if k in metadata}
    if "labels" in kept:
        kept["labels"] = sharing.same(owner, "labels", kept["labels"])
    containers = [{"resources": c.get("resources") or {}} for c in spec.get("containers") or [] if isinstance(c, dict)]
    slim_spec = sharing.texts({"nodeName": spec.get("nodeName")})
    slim_spec["containers"] = sharing.same(owner, "containers", containers)
    phase = (pod.get("status") or {}).get("phase")
    return {"metadata": sharing.texts(kept), "spec": slim_spec, "status": sharing.texts({"phase": phase})}

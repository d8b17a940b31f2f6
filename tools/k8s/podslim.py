"""A pod read for an assessment, kept small: the fields the tools read, without what only the kubelet needs.

A namespace read keeps every pod for the length of a call; at 10,000 pods the managed fields, volumes, env and probes
of each would be most of the server's memory. The slim pod keeps the API's shape (a dict the same code reads): the
metadata but managedFields and the last-applied annotation; the spec but volumes, its containers reduced to name,
image, resources, ports and restartPolicy; the status but the containers' IDs and the IP lists.
Pods of one controller share equal parts (labels, owner references, containers, scheduling constraints,
conditions) as one object, and all pods of a read share repeated strings: the pods of a read are read-only.

Layer: tools.k8s.
"""

from __future__ import annotations

from typing import Any

CONTAINER_FIELDS = ("name", "image", "resources", "ports", "restartPolicy")  # restartPolicy: a sidecar init container
DROPPED_STATUS_FIELDS = ("containerID",)  # imageID stays: the digest a pod runs proves a tag pushed again
DROPPED_POD_STATUS_FIELDS = ("hostIPs", "podIPs")  # podIP and hostIP say it for single-stack clusters; none reads these
LAST_APPLIED = "kubectl.kubernetes.io/last-applied-configuration"
SHARED_SPEC_FIELDS = ("containers", "initContainers", "tolerations", "nodeSelector", "affinity")


class Sharing:
    """Equal parts of the pods of one read, kept once per controller: a later pod's part that equals the kept one is
    replaced by it (a dict comparison, at C speed), one that differs is kept as it is."""

    def __init__(self) -> None:
        self._kept: dict[tuple[str, str], Any] = {}
        self._strings: dict[str, str] = {}

    def texts(self, item: dict[str, Any]) -> dict[str, Any]:
        """The dict with one string object for each value many pods repeat (a phase, a node name, a start time): a
        string value is looked up, other values are kept (this runs 10,000s of times)."""
        same = self._strings.setdefault
        return {k: same(v, v) if v.__class__ is str else v for k, v in item.items()}

    def same(self, owner: str, part: str, value: Any) -> Any:
        key = (owner, part)
        kept = self._kept.get(key)
        if kept is not None and kept == value:
            return kept
        self._kept[key] = value
        return value


def slim_pod(pod: dict[str, Any], sharing: Sharing | None = None) -> dict[str, Any]:
    """The pod without the fields no tool reads (the argument is left as it was)."""
    sharing = sharing or Sharing()
    slim = dict(pod)
    metadata = pod.get("metadata")
    owner = ""
    if isinstance(metadata, dict):
        metadata = {k: v for k, v in metadata.items() if k != "managedFields"}
        annotations = metadata.get("annotations")
        if isinstance(annotations, dict) and LAST_APPLIED in annotations:
            metadata["annotations"] = {k: v for k, v in annotations.items() if k != LAST_APPLIED}
        owner = controller_uid(metadata)
        for part in ("labels", "ownerReferences"):
            if part in metadata:
                metadata[part] = sharing.same(owner, part, metadata[part])
        slim["metadata"] = metadata
    spec = pod.get("spec")
    if isinstance(spec, dict):
        spec = sharing.texts(spec)
        for key in ("volumes", "ephemeralContainers"):
            spec.pop(key, None)
        for key in ("containers", "initContainers"):
            containers = spec.get(key)
            if isinstance(containers, list):
                spec[key] = [_slim(c, keep=CONTAINER_FIELDS) for c in containers]
        for key in SHARED_SPEC_FIELDS:
            if key in spec:
                spec[key] = sharing.same(owner, key, spec[key])
        slim["spec"] = spec
    status = pod.get("status")
    if isinstance(status, dict):
        status = sharing.texts(status)
        for key in DROPPED_POD_STATUS_FIELDS:
            status.pop(key, None)
        if "conditions" in status:  # pods started together carry equal conditions
            status["conditions"] = sharing.same(owner, "conditions", status["conditions"])
        for key in ("containerStatuses", "initContainerStatuses"):
            statuses = status.get(key)
            if isinstance(statuses, list):
                status[key] = [sharing.texts(_slim(s, drop=DROPPED_STATUS_FIELDS)) for s in statuses]
        slim["status"] = status
    return slim


def controller_uid(metadata: dict[str, Any]) -> str:
    """The uid of the pod's controller, "" for a pod without one (such pods share parts with each other)."""
    for ref in metadata.get("ownerReferences") or []:
        if isinstance(ref, dict) and ref.get("controller"):
            return str(ref.get("uid") or "")
    return ""


def _slim(item: Any, *, keep: tuple[str, ...] = (), drop: tuple[str, ...] = ()) -> Any:
    if not isinstance(item, dict):
        return item
    if keep:
        return {k: item[k] for k in keep if k in item}
    return {k: v for k, v in item.items() if k not in drop}

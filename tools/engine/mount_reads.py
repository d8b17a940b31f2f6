"""The FailedMount events of a workload's pods that wait on a missing ConfigMap/Secret volume (tools/k8s/mounts.py),
read only when one of them is still ContainerCreating: the rollback checks link them to config as they do a
CreateContainerConfigError.

Layer: tools.engine.
"""

from __future__ import annotations

from typing import Any

from incident_response.tools.core import errors
from incident_response.tools.engine.event_reads import read_events
from incident_response.tools.k8s.mounts import creating, mount_failures
from incident_response.tools.kube.client import Kube


def read_mount_failures(kube: Kube, namespace: str, pods: list[dict[str, Any]]) -> dict[str, str]:
    """Pod -> its FailedMount message ({} when no pod waits, or events may not be read)."""
    if not any(creating(p) for p in pods):
        return {}
    try:
        events = read_events(kube, namespace, "reason=FailedMount").items
    except errors.Forbidden:
        return {}
    return mount_failures(events, pods)

"""The FailedMount events of a workload's pods that wait on a missing ConfigMap/Secret volume (tools/k8s/mounts.py),
read only when one of them is still ContainerCreating, and the pull failures of those that cannot pull their image
(tools/k8s/pull_failures.py): the rollback checks link them to config as they do a CreateContainerConfigError.

Layer: tools.engine.
"""

from __future__ import annotations

from typing import Any

from incident_response.tools.core import errors
from incident_response.tools.engine.event_reads import WARNINGS, read_events
from incident_response.tools.k8s.mounts import creating, mount_failures
from incident_response.tools.k8s.pull_failures import pulling
from incident_response.tools.kube.client import Kube


def read_mount_failures(kube: Kube, namespace: str, pods: list[dict[str, Any]]) -> dict[str, str]:
    """Pod -> its FailedMount message, or its pull the registry refused ({} when no pod waits on either, or events
    may not be read)."""
    mounting, pull = any(creating(p) for p in pods), any(pulling(p) for p in pods)
    if not mounting and not pull:
        return {}
    try:
        # A refused pull is told by two reasons (Failed, FailedToRetrieveImagePullSecret): the Warnings hold both.
        events = read_events(kube, namespace, WARNINGS if pull else "reason=FailedMount").items
    except errors.Forbidden:
        return {}
    return mount_failures(events, pods)

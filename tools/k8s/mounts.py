"""Pods waiting on a ConfigMap or Secret volume that does not exist: the kubelet leaves them ContainerCreating and says
why only in a Warning FailedMount event on the pod ('MountVolume.SetUp failed for volume "files" : configmap
"checkout-files" not found'), never in the pod's status.

Layer: tools.k8s.
"""

from __future__ import annotations

import re
from typing import Any

from incident_response.tools.k8s.pull_failures import pull_refusals
from incident_response.tools.k8s.views import meta

MISSING = re.compile(r'\b(?:configmap|secret) "[^"]+" not found')


def creating(pod: dict[str, Any]) -> bool:
    """A pod (not being deleted) with a container still waiting to be created (ContainerCreating)."""
    statuses = (pod.get("status") or {}).get("containerStatuses") or []
    waiting = [(c.get("state") or {}).get("waiting") or {} for c in statuses]
    return not meta(pod).deletion_timestamp and any(w.get("reason") == "ContainerCreating" for w in waiting)


def mount_failures(events: list[dict[str, Any]], pods: list[dict[str, Any]]) -> dict[str, str]:
    """Pod -> its latest FailedMount message naming a missing ConfigMap/Secret, for those of `pods` still creating
    (one that mounted since does not fail on it); and for those that cannot pull, a pull their registry refused
    (pull_failures.PullRefusal.text(): the pull Secret is the config then)."""
    refused = {name: refusal.text() for name, refusal in pull_refusals(events, pods).items()}
    named = {str((e.get("involvedObject") or {}).get("name") or "") for e in events if e.get("reason") == "FailedMount"}
    waiting = {name for p in pods if (name := str(meta(p).name)) in named and creating(p)} if named else set()
    found: dict[str, str] = {}
    for event in sorted(events, key=lambda e: str(e.get("lastTimestamp") or e.get("eventTime") or "")):
        name, message = str((event.get("involvedObject") or {}).get("name") or ""), str(event.get("message") or "")
        if event.get("reason") == "FailedMount" and name in waiting and MISSING.search(message):
            found[name] = message
    return found | refused

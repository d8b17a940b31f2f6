"""Since when a workload's pods have been failing, read only when it can matter to the rollback checks: a ConfigMap
its pods read changed in the window. Then one read of the namespace's Warning events dates the failure (its oldest
still-recurring series, tools/k8s/failure_age.py), so the checks can tell an edit made before the failure began (the
likely cause) from one made after it.

Layer: tools.engine.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from incident_response.tools.core import errors
from incident_response.tools.k8s.changes import recent
from incident_response.tools.k8s.failure_age import failing_since
from incident_response.tools.k8s.last_change import last_change
from incident_response.tools.k8s.views import meta

if TYPE_CHECKING:
    from incident_response.tools.kube.client import Kube

WORKLOAD = "workload"


def failure_start(
    kube: Kube,
    namespace: str,
    pods: list[dict[str, Any]],
    configmaps: dict[str, dict[str, Any]] | None,
    now: datetime,
) -> datetime | None:
    """When the pods' oldest still-recurring Warning series began; None when no ConfigMap read changed in the window
    (nothing is read then), no such series exists, or events are not readable."""
    if not pods or not any(recent(last_change(c), now) for c in (configmaps or {}).values()):
        return None
    from incident_response.tools.engine.event_reads import read_warnings  # loads the client seam

    try:
        events = read_warnings(kube, namespace).items
    except errors.Forbidden:
        return None
    names = {str(meta(p).name): WORKLOAD for p in pods}
    return failing_since(events, names, {WORKLOAD}, now).get(WORKLOAD)

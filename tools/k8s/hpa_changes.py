"""HorizontalPodAutoscalers whose bounds or targets a person changed in the last 2 hours: the change list's entry for
them (review-assist8 I6). A cost cut that lowers an HPA's maximum during a peak looks, minutes later, like an HPA
pinned at its maximum; the autoscaler's own resize that follows is no change of anyone's (changes.AUTOSCALERS), so
without this line the edit that caused it is nowhere.

Layer: tools.k8s.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from incident_response.tools.k8s.changes import Change, recent
from incident_response.tools.k8s.last_change import last_change
from incident_response.tools.k8s.views import meta

KIND = "HorizontalPodAutoscaler"


def bounds_text(hpa: dict[str, Any]) -> str:
    spec = hpa.get("spec") or {}
    return f"{spec.get('minReplicas', 1)}..{spec.get('maxReplicas', '?')}"


def hpa_changes(hpas: list[dict[str, Any]], now: datetime) -> list[Change]:
    """'HorizontalPodAutoscaler web edited (bounds now 2..3)': each HPA whose spec was written in the window after
    its creation (a new HPA is 'created (bounds 2..3)')."""
    found = []
    for hpa in hpas:
        change = last_change(hpa, owning=("spec",))
        if change is None or not recent(change, now):
            continue
        what = f"created (bounds {bounds_text(hpa)})" if change.created else f"edited (bounds now {bounds_text(hpa)})"
        found.append(Change(KIND, str(meta(hpa).name), what, change.at, change.manager))
    return found


def edited(changes: list[Change], hpa: str) -> Change | None:
    """The change list's edit of HPA `hpa` by someone else (not this server's override), if any."""
    return next((c for c in changes if (c.kind, c.name) == (KIND, hpa) and not c.ours), None)

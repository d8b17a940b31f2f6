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
from incident_response.tools.k8s.quantity import parse_time
from incident_response.tools.k8s.scale_history import Step, chain, steps_of
from incident_response.tools.k8s.views import meta

KIND = "HorizontalPodAutoscaler"


def bounds_text(hpa: dict[str, Any]) -> str:
    spec = hpa.get("spec") or {}
    return f"{spec.get('minReplicas', 1)}..{spec.get('maxReplicas', '?')}"


def hpa_changes(
    hpas: list[dict[str, Any]],
    now: datetime,
    events: list[dict[str, Any]] | None = None,
    replicasets: list[dict[str, Any]] | None = None,
) -> list[Change]:
    """'HorizontalPodAutoscaler web edited (bounds now 2..3; web scaled down 6 -> 3 since)': each HPA whose spec was
    written in the window after its creation (a new HPA is 'created (bounds 2..3)'). `events` (ScalingReplicaSet)
    and `replicasets` say whether its deployment was scaled down after the edit: the edit's effect."""
    found = []
    for hpa in hpas:
        change = last_change(hpa, owning=("spec",))
        if change is None or not recent(change, now):
            continue
        what = f"created (bounds {bounds_text(hpa)})" if change.created else f"edited (bounds now {bounds_text(hpa)}"
        if not change.created:
            target = str(((hpa.get("spec") or {}).get("scaleTargetRef") or {}).get("name") or "")
            down = scaled_down_since(target, change.at, events or [], replicasets or [])
            what += f"; {target} scaled down {down[0]} -> {down[1]} since)" if down else ")"
        found.append(Change(KIND, str(meta(hpa).name), what, change.at, change.manager))
    return found


def scaled_down_since(
    deployment: str, since: datetime, events: list[dict[str, Any]], replicasets: list[dict[str, Any]]
) -> tuple[int, int] | None:
    """(count before, count after) of the deployment's scale-downs from `since` on, by its ReplicaSets' events read
    as scale_history reads them: events are anyone's to write (review-landed8 R2: a forged "Scaled down ... from 6
    to 3" made a harmless edit the cause), so a ReplicaSet whose steps break the chain, outnumber its generation's
    changes, or end at another count than its replicas now tells nothing."""
    downs: list[Step] = []
    for rs in replicasets:
        if not any(r.get("kind") == "Deployment" and r.get("name") == deployment for r in meta(rs).owner_references):
            continue
        metadata = rs.get("metadata") or {}
        created = parse_time(metadata.get("creationTimestamp"))
        steps = [s for s in steps_of(events, str(meta(rs).name)) if created is None or s.when >= created]
        kept, broken = chain(steps)
        generation = metadata.get("generation")
        changes = [s for s in kept if s.before not in (None, 0)]
        if broken or (isinstance(generation, int) and len(changes) > max(generation - 1, 0)):
            continue
        if not kept or kept[-1].after != int((rs.get("spec") or {}).get("replicas") or 0):
            continue
        downs += [s for s in kept if s.down and s.before is not None and s.after < s.before and s.when >= since]
    if not downs:
        return None
    downs.sort(key=lambda s: s.when)
    return int(downs[0].before or 0), downs[-1].after


def edited(changes: list[Change], hpa: str) -> Change | None:
    """The change list's edit of HPA `hpa` by someone else (not this server's override), if any."""
    return next((c for c in changes if (c.kind, c.name) == (KIND, hpa) and not c.ours), None)

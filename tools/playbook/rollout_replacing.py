"""Right after a mitigation, a Deployment still rolling out: the previous revision's failing pods are being replaced.

A confirmed rollback puts the good template in the spec at once; the controller then brings the old revision's
pods down over the whole rollout (seconds to minutes on a real cluster). Counting those crash-looping pods as the
service's failures would say DEGRADED ("act again") while the fix is doing its work. Bounded: only while the rollout
is under way and not past its progress deadline, only pods of ReplicaSets other than the spec's template's, and only
when none of the current revision's own pods fails.

Layer: tools.playbook.
"""

from __future__ import annotations

import dataclasses
from datetime import datetime, timedelta
from typing import Any

from incident_response.tools.k8s.views import meta
from incident_response.tools.k8s.workloads import RolloutProgress, revision_of, template_without_hash
from incident_response.tools.playbook.recovery_checks import PodFacts


def _controller(pod: dict[str, Any]) -> str | None:
    return next((str(ref.get("uid")) for ref in meta(pod).owner_references if ref.get("controller")), None)


def being_replaced(
    deploy: dict[str, Any],
    replicasets: list[dict[str, Any]],
    pods: list[dict[str, Any]],
    facts: list[PodFacts],
    progress: RolloutProgress,
    mitigated_at: datetime | None,
    now: datetime,
    window: timedelta,
) -> tuple[list[PodFacts], str | None]:
    """(the facts, the previous revisions' failing pods marked replaced; what the rollout is doing), or the facts
    unchanged and None when the exemption does not hold."""
    if mitigated_at is None or now - mitigated_at > window or progress.done or progress.failed:
        return facts, None
    template = (deploy.get("spec") or {}).get("template") or {}
    current = [
        rs for rs in replicasets if (rs.get("spec") or {}).get("template") and template_without_hash(rs) == template
    ]
    if len(current) != 1:
        return facts, None
    uid = str(meta(current[0]).uid)
    ours = [(_controller(pod) == uid, f) for pod, f in zip(pods, facts, strict=True)]
    if any(mine and f.active and f.failing for mine, f in ours):
        return facts, None  # the revision rolled out fails on its own: DEGRADED, as without a rollout
    old = [f for mine, f in ours if not mine and f.active and (f.failing or f.crash_looping or f.recent_exits)]
    if not old:
        return facts, None
    by_rs = {str(meta(rs).uid): revision_of(rs) for rs in replicasets}
    revisions = sorted({str(by_rs.get(_controller(p) or "")) for p, f in zip(pods, facts, strict=True) if f in old})
    updated = sum(1 for mine, f in ours if mine and f.active)
    note = (
        f"rollout to revision {revision_of(current[0])} under way: {updated} of {progress.desired} updated; the "
        f"failing pods are revision {', '.join(revisions)}'s, being replaced"
    )
    marked = [dataclasses.replace(f, replaced=True) if any(f is o for o in old) else f for f in facts]
    return marked, note

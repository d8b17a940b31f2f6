"""The Deployments rolled out in the last 2 hours (or with an unfinished rollout whose new pods alone fail), with
what each rollout changed in the pod template (StatefulSets and DaemonSets: tools/assess/workload_rollouts.py).

Layer: tools.assess.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from incident_response.tools.k8s.unfinished import only_new_fail, unfinished_rollout
from incident_response.tools.k8s.views import meta
from incident_response.tools.k8s.workloads import (
    RECENT_ROLLOUT_SECONDS,
    images_of,
    revision_of,
    rolling_back,
    rollout_time,
    spec_replicaset,
    template_differences,
)
from incident_response.tools.playbook.decision import RecentRollout


def recent_rollouts(
    deployments: list[dict[str, Any]],
    replicasets: list[dict[str, Any]],
    failing: dict[str, list[str]],
    now: datetime,
    changed: dict[str, list[str]] | None = None,
) -> list[RecentRollout]:
    """The deployments rolled out in the last 2 hours; `changed` gets what each rollout changed in the pod template
    (the evidence names it: a checksum/config bump changes no image)."""
    found = []
    by_owner: dict[str, list[dict[str, Any]]] = {}  # one pass over the ReplicaSets, not one per deployment
    for rs in replicasets:
        for ref in meta(rs).owner_references:
            if ref.get("controller") and ref.get("uid"):
                by_owner.setdefault(str(ref["uid"]), []).append(rs)
    for deploy in deployments:
        revision = revision_of(deploy)
        owned = by_owner.get(str(meta(deploy).uid), [])
        when = rollout_time(deploy, owned)
        if revision is None or when is None:
            continue  # a new deployment (revision 1) counts: it is a deploy, though with nothing to roll back to
        seconds = (now - when).total_seconds()
        name = str(meta(deploy).name)
        # An unfinished rollout whose new pods alone fail is the current change whatever its age (F27).
        unfinished = unfinished_rollout(deploy, owned)
        stalled = unfinished is not None and only_new_fail(unfinished, failing.get(name, []))
        if seconds > RECENT_ROLLOUT_SECONDS and not stalled:
            continue
        earlier = [rs for rs in owned if (revision_of(rs) or 0) < revision]
        previous = sorted(earlier, key=lambda rs: revision_of(rs) or 0)
        brought_back = spec_replicaset(deploy, owned)
        if brought_back is not None and (number := revision_of(brought_back)) is not None and number < revision:
            # A rollback's write the controller has not yet observed: the spec already holds the revision brought
            # back (renumbered on its next pass); the one undone is what came before it.
            previous = [rs for rs in owned if revision_of(rs) == revision]
            revision, seconds = number, 0.0  # written, not yet observed: it began now, not when the undone one did
        if changed is not None and previous:
            changed[name] = template_differences(
                (previous[-1].get("spec") or {}).get("template") or {}, (deploy.get("spec") or {}).get("template") or {}
            )
        found.append(
            RecentRollout(
                deployment=name,
                revision=revision,
                minutes_ago=max(0, int(seconds // 60)),
                images=images_of((deploy.get("spec") or {}).get("template") or {}),
                previous_images=images_of((previous[-1].get("spec") or {}).get("template") or {}) if previous else [],
                failing_pods=len(failing.get(name, [])),
                unavailable_replicas=int((deploy.get("status") or {}).get("unavailableReplicas") or 0),
                rolling_back=rolling_back(deploy, owned, failing.get(name, [])),
                unfinished=stalled and seconds > RECENT_ROLLOUT_SECONDS,
            )
        )
    return found

"""A deployment's Demand (tools/playbook/sizing.py) from the cluster's objects as plain dicts: its pods and their
usage, its HPA, and the replica counts it is shown to have had before (kubectl's last-applied manifest, a
scale-down of its current ReplicaSet in its events, the count the revision before ran at).

Layer: tools.playbook.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from incident_response.tools.k8s import backends
from incident_response.tools.k8s.hpa_formula import hpa_wanted
from incident_response.tools.k8s.quantity import parse_time
from incident_response.tools.k8s.scale_history import latest_cut
from incident_response.tools.k8s.usage import PodUsage, pod_resources
from incident_response.tools.k8s.views import meta
from incident_response.tools.k8s.workloads import (
    current_replicas,
    current_replicaset,
    owned_by,
    revision_of,
    template_spec,
)
from incident_response.tools.playbook.sizing import Demand, HpaCount, Previous

PINNED_PERCENT = 95  # CPU at or above this share of the limit is throttled: a floor on demand
LAST_APPLIED = "kubectl.kubernetes.io/last-applied-configuration"
DESIRED_REPLICAS = "deployment.kubernetes.io/desired-replicas"


def scaled_down(
    events: list[dict[str, Any]],
    replicaset: str,
    below: int,
    generation: int | None = None,
    created: datetime | None = None,
) -> tuple[Previous | None, str, tuple[str, ...]]:
    """The latest scale-down of the deployment's current ReplicaSet from more than `below` replicas (a capacity cut:
    kubectl scale, an edit; a rollout only scales old ReplicaSets down) its ScalingReplicaSet events show, read as
    a chain (tools/k8s/scale_history.py): (the count, the event's message, the doubts about the events)."""
    cut = latest_cut(events, replicaset, below, generation, created)
    if cut is None:
        return None, "", ()
    if cut.before is None:
        return None, "", cut.doubts
    where = f'it was scaled down from {cut.before}: event "{cut.message}"'
    return Previous(cut.before, where, claimed_by=cut.message), cut.message, cut.doubts


def previous_count(
    deployment: dict[str, Any], replicasets: list[dict[str, Any]], events: list[dict[str, Any]] | None = None
) -> Previous | None:
    """The replica count the deployment is shown to have had before, above its current one. The recorded state
    first: the manifest last applied with kubectl, the count its deployment had when the revision before was
    replaced (that ReplicaSet's desired-replicas annotation), the larger of the two; only when neither shows more
    than now, a scale-down of its current ReplicaSet in its ScalingReplicaSet events (which any workload allowed to
    create events can write: read as a chain, never the largest claim). None when nothing shows more than now."""
    now = current_replicas(deployment)
    recorded: list[Previous] = []
    applied = meta(deployment).annotations.get(LAST_APPLIED)
    if applied:
        try:
            manifest = json.loads(str(applied))
        except ValueError:
            manifest = None
        replicas = ((manifest or {}).get("spec") or {}).get("replicas") if isinstance(manifest, dict) else None
        if isinstance(replicas, int) and not isinstance(replicas, bool) and replicas > now:
            recorded.append(Previous(replicas, f"the manifest last applied asks for {replicas} ({LAST_APPLIED})"))
    revision = revision_of(deployment) or 0
    older = sorted(
        (rs for rs in replicasets if owned_by(rs, deployment) and (revision_of(rs) or revision) < revision),
        key=lambda rs: revision_of(rs) or 0,
    )
    for rs in reversed(older):
        value = str(meta(rs).annotations.get(DESIRED_REPLICAS) or "")
        if value.isdigit() and int(value) > now:
            recorded.append(
                Previous(
                    int(value),
                    f"revision {revision_of(rs)} ran with {value} replicas (ReplicaSet {meta(rs).name}'s "
                    f"{DESIRED_REPLICAS})",
                )
            )
        break  # the revision just before the current one: older counts are older news
    current = current_replicaset(deployment, replicasets)
    cut: Previous | None = None
    message = ""
    doubts: tuple[str, ...] = ()
    if events and current is not None:
        generation = meta(current).raw.get("generation")
        known = generation if isinstance(generation, int) and not isinstance(generation, bool) else None
        created = parse_time(meta(current).creation_timestamp)
        cut, message, doubts = scaled_down(events, str(meta(current).name), now, known, created)
    found = max(recorded, key=lambda p: p.replicas, default=None)  # the first of equals: the manifest
    if found is None:
        found = cut
    elif cut is not None and cut.replicas != found.replicas:
        doubts = (*doubts, f'"{message}" claims {cut.replicas}, the recorded count is taken')
    if found is None or not doubts:
        return found
    return Previous(found.replicas, f"{found.where}; events disagree: {'; '.join(doubts)}", found.claimed_by)


def hpa_count(hpa: dict[str, Any]) -> HpaCount:
    spec, status = hpa.get("spec") or {}, hpa.get("status") or {}
    desired = status.get("desiredReplicas")
    return HpaCount(
        name=str(meta(hpa).name),
        max_replicas=int(spec.get("maxReplicas") or 0),
        desired=int(desired) if isinstance(desired, int) else None,
        formula=hpa_wanted(hpa),
    )


def pod_cpu_limit(deployment: dict[str, Any]) -> float | None:
    return pod_resources({"spec": template_spec(deployment)})["cpu_limits"]


def demand_of(
    deployment: dict[str, Any],
    pods: list[dict[str, Any]],
    usage: list[PodUsage],
    replicasets: list[dict[str, Any]],
    *,
    hpa: HpaCount | None = None,
    fits: int | None = None,
    bound: int | None = None,
    events: list[dict[str, Any]] | None = None,
) -> Demand:
    """The Demand of a deployment from its pods (not terminating), their usage rows, its ReplicaSets, its HPA and
    its ScalingReplicaSet events."""
    names = {str(meta(p).name) for p in pods}
    rows = [u for u in usage if u.name in names and u.cpu_cores is not None]
    pinned = [u for u in rows if (u.cpu_percent_of_limit or 0) >= PINNED_PERCENT]
    unready = [p for p in pods if (p.get("status") or {}).get("phase") == "Running" and not backends.ready(p)]
    return Demand(
        deployment=str(meta(deployment).name),
        replicas=current_replicas(deployment),
        measured=len(rows),
        pinned=len(pinned),
        unready=len(unready) if pinned else 0,
        load=sum(u.cpu_cores or 0.0 for u in rows) if rows else None,
        cpu_limit=pod_cpu_limit(deployment),
        hpa=hpa,
        previous=previous_count(deployment, replicasets, events),
        fits=fits,
        bound=bound,
    )

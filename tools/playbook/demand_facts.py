"""A deployment's Demand (tools/playbook/sizing.py) from the cluster's objects as plain dicts: its pods and their
usage, its HPA, and the replica counts it is shown to have had before (kubectl's last-applied manifest, a
scale-down of its current ReplicaSet in its events, the count the revision before ran at).

Layer: tools.playbook.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from typing import Any

from incident_response.tools.k8s import backends
from incident_response.tools.k8s.events import event_time
from incident_response.tools.k8s.hpa_formula import hpa_wanted
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
# The deployment controller's message, "Scaled down replica set web-6d4f from 6 to 2" (older releases: "... to 2";
# some write "... to 2 from 6").
SCALED = re.compile(
    r"^Scaled (?P<direction>up|down) replica set (?P<rs>\S+) "
    r"(?:from (?P<before>\d+) to \d+|to \d+(?: from (?P<after_before>\d+))?)$"
)


def scaled_down(events: list[dict[str, Any]], replicaset: str, below: int) -> Previous | None:
    """The latest ScalingReplicaSet event that scaled the deployment's current ReplicaSet down from more than
    `below` replicas (a capacity cut: kubectl scale, an edit; a rollout only scales old ReplicaSets down)."""
    latest: tuple[datetime, Previous] | None = None
    for event in events:
        match = SCALED.match(str(event.get("message") or "").strip())
        if event.get("reason") != "ScalingReplicaSet" or match is None or match.group("rs") != replicaset:
            continue
        before = match.group("before") or match.group("after_before")
        if match.group("direction") != "down" or before is None or int(before) <= below:
            continue
        when = event_time(event) or datetime.min.replace(tzinfo=UTC)
        message = str(event.get("message")).strip()
        found = Previous(int(before), f'it was scaled down from {before}: event "{message}"')
        if latest is None or when >= latest[0]:
            latest = (when, found)
    return latest[1] if latest is not None else None


def previous_count(
    deployment: dict[str, Any], replicasets: list[dict[str, Any]], events: list[dict[str, Any]] | None = None
) -> Previous | None:
    """The largest replica count the deployment is shown to have had before, above its current one: the manifest
    last applied with kubectl, a recent scale-down of its current ReplicaSet (its ScalingReplicaSet events), and
    the count its deployment had when an earlier revision was replaced (that ReplicaSet's desired-replicas
    annotation). None when nothing shows more than now."""
    now = current_replicas(deployment)
    found: list[Previous] = []
    current = current_replicaset(deployment, replicasets)
    if events and current is not None and (cut := scaled_down(events, str(meta(current).name), now)) is not None:
        found.append(cut)
    applied = meta(deployment).annotations.get(LAST_APPLIED)
    if applied:
        try:
            manifest = json.loads(str(applied))
        except ValueError:
            manifest = None
        replicas = ((manifest or {}).get("spec") or {}).get("replicas") if isinstance(manifest, dict) else None
        if isinstance(replicas, int) and not isinstance(replicas, bool) and replicas > now:
            found.append(Previous(replicas, f"the manifest last applied asks for {replicas} ({LAST_APPLIED})"))
    revision = revision_of(deployment) or 0
    older = sorted(
        (rs for rs in replicasets if owned_by(rs, deployment) and (revision_of(rs) or revision) < revision),
        key=lambda rs: revision_of(rs) or 0,
    )
    for rs in reversed(older):
        value = str(meta(rs).annotations.get(DESIRED_REPLICAS) or "")
        if value.isdigit() and int(value) > now:
            found.append(
                Previous(
                    int(value),
                    f"revision {revision_of(rs)} ran with {value} replicas (ReplicaSet {meta(rs).name}'s "
                    f"{DESIRED_REPLICAS})",
                )
            )
        break  # the revision just before the current one: older counts are older news
    return max(found, key=lambda p: p.replicas, default=None)  # the first of equals: the manifest, then the event


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

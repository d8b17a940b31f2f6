"""What changed in a namespace in the last 2 hours besides rollouts: the on-call engineer's first question.

A pod-template rollout is one kind of change; incidents start as often from a Service selector edited, a
NetworkPolicy applied, a ConfigMap edited in place, a deployment scaled by hand, a PodDisruptionBudget tightened.
Each is read from what the API server keeps: the object's creation, its managedFields (which manager last wrote
which fields, and when) and, for replica counts, the deployment controller's ScalingReplicaSet events (the only
place the count before a hand scale survives). Pure: the reads are in tools/assess/changes.py.

Layer: tools.k8s.
"""

from __future__ import annotations

import re
from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from incident_response.tools.k8s import nginx_canary
from incident_response.tools.k8s.last_change import LastChange, by_whom, last_change
from incident_response.tools.k8s.quantity import human_age, parse_time
from incident_response.tools.k8s.scale_history import first_count
from incident_response.tools.k8s.views import meta
from incident_response.tools.k8s.workloads import RECENT_ROLLOUT_SECONDS, selector_string

SCALED = re.compile(r"Scaled (?:up|down) replica set (\S+) (?:from (\d+) )?to (\d+)(?: from (\d+))?")
# Managers that resize a deployment on their own (an HPA): their resizes are the autoscaler working, not a change.
AUTOSCALERS = ("kube-controller-manager", "horizontal-pod-autoscaler", "keda", "cluster-autoscaler")
WRITE_SECONDS = 120  # a replicas write this close to the scaling events is the scale's own
# This server's own field manager (tools/kube/client.FIELD_MANAGER): its writes are this incident's mitigations, listed
# as changes but never blamed for a failure nor proposed for undoing (restore_measure does that).
OURS = "incident-response-mcp"


@dataclass
class Change:
    """One change of the last 2 hours: `kind name what`, when and by whom."""

    kind: str  # Service, NetworkPolicy, ConfigMap, PodDisruptionBudget, Deployment
    name: str
    what: str  # "updated (selector now app=inventroy)", "created", "scaled 2 -> 0"
    at: datetime
    manager: str | None = None
    subresource: str | None = None
    before: int | None = None  # replica changes: the count before (None: not known)
    after: int | None = None
    selects: list[str] = field(default_factory=list)  # components whose pods it selects (policies, budgets)
    keys: list[str] = field(default_factory=list)  # a ConfigMap's data keys its last write set (config_keys)
    then: str = ""  # what it does now, said after who made it ("every request for shop.example.com goes to ...")

    def text(self, now: datetime) -> str:
        """'Deployment inventory scaled 2 -> 0 3m ago by kubectl (via scale)'."""
        who = by_whom(LastChange(self.at, self.manager, False, self.subresource))
        return f"{self.kind} {self.name} {self.what} {self.ago(now)} ago{who}" + (f": {self.then}" if self.then else "")

    @property
    def ours(self) -> bool:
        return self.manager == OURS

    def line(self) -> str:
        """'Deployment inventory scaled 2 -> 0 by kubectl (via scale)': a timeline line (its time is beside it)."""
        who = by_whom(LastChange(self.at, self.manager, False, self.subresource))
        return f"{self.kind} {self.name} {self.what}{who}" + (f": {self.then}" if self.then else "")

    def ago(self, now: datetime) -> str:
        return human_age(max(0, int((now - self.at).total_seconds())))

    def minutes_ago(self, now: datetime) -> int:
        return max(0, int((now - self.at).total_seconds() // 60))


def recent(change: LastChange | None, now: datetime) -> bool:
    return change is not None and (now - change.at).total_seconds() <= RECENT_ROLLOUT_SECONDS


def object_change(kind: str, obj: dict[str, Any], now: datetime, what: str = "changed") -> Change | None:
    """The object's creation or last write, when recent."""
    found = last_change(obj)
    if found is None or not recent(found, now):
        return None
    return Change(kind, str(meta(obj).name), "created" if found.created else what, found.at, found.manager)


def service_changes(services: list[dict[str, Any]], now: datetime) -> list[Change]:
    """Services whose selector was set in the window (created with it, or edited since)."""
    found = []
    for service in services:
        selector = (service.get("spec") or {}).get("selector") or {}
        if not selector:
            continue
        change = last_change(service, owning=("spec", "selector"))
        if change is None or not recent(change, now):
            continue
        # managedFields time is the manager's last write of any of its fields: the selector is what it is now,
        # not necessarily what that write changed.
        shown = selector_string({"matchLabels": selector})
        what = f"created with selector {shown}" if change.created else f"updated (selector now {shown})"
        found.append(Change("Service", str(meta(service).name), what, change.at, change.manager))
    return found


def ingress_backends(ingress: dict[str, Any]) -> list[tuple[int, int, str]]:
    """(rule index, path index, Service name) of every path's backend: what switch_ingress_backend addresses."""
    found = []
    for i, rule in enumerate((ingress.get("spec") or {}).get("rules") or []):
        for j, path in enumerate(((rule or {}).get("http") or {}).get("paths") or []):
            service = (((path or {}).get("backend") or {}).get("service") or {}).get("name")
            if service:
                found.append((i, j, str(service)))
    return found


def canary_change(ingress: dict[str, Any], now: datetime, ready: Collection[str] | None = None) -> Change | None:
    """An nginx canary Ingress whose weight (or canary annotation) was written in the window, by the manager owning
    the annotation (kubectl-annotate, helm...): 'weight now 100, edited 12m ago by kubectl-annotate: every request for
    shop.example.com goes to Service web-canary' (review-assist8 I3: an annotation edit sent every user there)."""
    edit = nginx_canary.weight_edit(ingress, now)
    if edit is None:
        return None
    split, at, manager, created = edit
    what = f"created with weight {split.raw}," if created else f"weight now {split.raw}, edited"
    then = nginx_canary.routed_text(split)
    if ready is not None and split.weight > 0 and not any(s in ready for s in split.services):
        then = nginx_canary.idle_text(split)
    return Change("Ingress", split.ingress, f"(nginx canary) {what}", at, manager, then=then)


def ingress_changes(
    ingresses: list[dict[str, Any]], now: datetime, ready: Collection[str] | None = None
) -> list[Change]:
    """Ingresses whose rules (their backends) were set in the window: a blue/green cut-over is one; and nginx canary
    Ingresses whose weight (or canary annotation) was, with the share of requests it now sends. `ready`: the
    Services with a ready endpoint (None: not known)."""
    found = []
    for ingress in ingresses:
        weighted = canary_change(ingress, now, ready)
        if weighted is not None:
            found.append(weighted)
        change = last_change(ingress, owning=("spec", "rules"))
        if change is None or not recent(change, now) or not (backends := ingress_backends(ingress)):
            continue
        if weighted is not None and change.created:
            continue  # a canary created in the window: its weight's line says it
        shown = ", ".join(dict.fromkeys(service for _, _, service in backends))
        what = f"created with backend {shown}" if change.created else f"updated (backend now {shown})"
        found.append(Change("Ingress", str(meta(ingress).name), what, change.at, change.manager))
    return found


def scale_changes(
    deployments: list[dict[str, Any]],
    replicasets: list[dict[str, Any]],
    events: list[dict[str, Any]],
    rolled_out: set[str],
    now: datetime,
    autoscaled: frozenset[str] = frozenset(),
) -> list[Change]:
    """Replica counts changed by hand in the window: ScalingReplicaSet events about a deployment's current
    ReplicaSet (not part of a rollout, not an autoscaler's resize), first count to last. The writer is the manager
    owning spec.replicas when its write is the scale's time; an `autoscaled` deployment (an HPA targets it) resized
    with no such write is the HPA at work, not a change."""
    owner_of = {
        str(meta(rs).name): str(ref.get("name"))
        for rs in replicasets
        for ref in meta(rs).owner_references
        if ref.get("controller") and ref.get("kind") == "Deployment"
    }
    steps: dict[str, list[tuple[datetime, int | None, int]]] = {}
    windowed: dict[str, list[dict[str, Any]]] = {}
    latest: dict[str, tuple[datetime, str]] = {}  # deployment -> (when, the ReplicaSet its latest step scaled)
    for event in events:
        if event.get("reason") != "ScalingReplicaSet":
            continue
        matched = SCALED.search(str(event.get("message") or ""))
        when = parse_time(event.get("lastTimestamp")) or parse_time(event.get("eventTime"))
        if matched is None or when is None or (now - when).total_seconds() > RECENT_ROLLOUT_SECONDS:
            continue
        rs, before, after = matched.group(1), matched.group(2) or matched.group(4), int(matched.group(3))
        deployment = owner_of.get(rs) or str((event.get("involvedObject") or {}).get("name"))
        steps.setdefault(deployment, []).append((when, int(before) if before is not None else None, after))
        windowed.setdefault(deployment, []).append(event)
        if deployment not in latest or when >= latest[deployment][0]:
            latest[deployment] = (when, rs)
    found = []
    for deploy in deployments:
        name = str(meta(deploy).name)
        if name in rolled_out or name not in steps:
            continue  # a rollout's own scaling is the rollout (recent_rollouts lists it)
        ordered = sorted(steps[name], key=lambda s: s[0])
        owner = last_change(deploy, owning=("spec", "replicas"))
        if owner is not None and abs((owner.at - ordered[-1][0]).total_seconds()) > WRITE_SECONDS:
            owner = None  # that manager's write is not this scale (an older apply owns the field)
        if owner is not None and owner.manager and owner.manager.startswith(AUTOSCALERS):
            continue
        if owner is None and name in autoscaled:
            continue
        # The first count the events show (a scale from zero, or a creation, says none), read as a chain: events can
        # be forged (any workload with events create), and a forged "from 60" must not become the count to go back to.
        before = first_count(windowed[name], latest[name][1])
        after = int((deploy.get("spec") or {}).get("replicas") or 0)
        if before == after:
            continue
        what = f"scaled {before} -> {after}" if before is not None else f"scaled to {after}"
        manager = owner.manager if owner is not None else None
        subresource = owner.subresource if owner is not None else None
        found.append(Change("Deployment", name, what, ordered[-1][0], manager, subresource, before, after))
    return found


def newest_first(changes: list[Change]) -> list[Change]:
    return sorted(changes, key=lambda c: (c.at, c.kind, c.name), reverse=True)

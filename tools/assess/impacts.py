"""How each component's users are hurt (outage, below its minimum, degraded, at risk), and which components a
succeeded command of the current incident acted on: the inputs of the playbook's ranking of problems.

Layer: tools.assess.
"""

from __future__ import annotations

import logging
import re
import sqlite3
from typing import Any

from incident_response.tools.assess.drained import drained_components
from incident_response.tools.assess.hpas import hpa_row
from incident_response.tools.assess.observation import Observation
from incident_response.tools.assess.workload_minimum import KINDS, availabilities, counts
from incident_response.tools.engine.deps import Deps
from incident_response.tools.k8s.backends import name_of, service_selector
from incident_response.tools.k8s.backends import ready as pod_ready
from incident_response.tools.k8s.label_index import LabelIndex
from incident_response.tools.k8s.labels import matches as label_matches
from incident_response.tools.k8s.nginx_canary import split_text
from incident_response.tools.k8s.views import meta
from incident_response.tools.playbook.ranking import ComponentImpact, scaled

logger = logging.getLogger(__name__)


def impacts_of(seen: Observation) -> dict[str, ComponentImpact]:
    """How each component's users are hurt: behind a Service with no ready endpoint (outage), a deployment below
    (or StatefulSet, DaemonSet) below the available minimum its rolling update or disruption budget promises, or
    degraded (some pods failing, the minimum holds)."""
    found: dict[str, ComponentImpact] = {}
    # Every kind read the same way (tools/assess/workload_minimum.py): a DaemonSet with none of its pods available
    # is below its minimum as a deployment would be, not "degraded".
    for seen_as in availabilities({**seen.workloads, "deployments": seen.deployments}):
        name, kind, unit = seen_as.name, seen_as.kind, seen_as.unit()
        counted = f"{seen_as.available} of {seen_as.wanted} {unit} available"
        if seen_as.short():
            found[name] = ComponentImpact(
                "below_minimum", f"{kind} {name} has {counted}, below its minimum of {seen_as.minimum} ({seen_as.why})"
            )
        elif name in seen.facts.failing or name in seen.facts.unavailable:
            failing = len(seen.facts.failing.get(name, []))
            evicted = seen.facts.evicted.get(name, (0, ""))[0]
            if evicted >= failing and seen_as.available >= seen_as.wanted and name not in seen.facts.unavailable:
                # Only an eviction's leftovers fail, already replaced: nothing serves less, the cause may recur.
                found[name] = ComponentImpact("at_risk", f"{kind} {name}: {evicted} evicted pods left, {counted}")
                continue
            found[name] = weighted(seen, name) or ComponentImpact(
                "degraded", f"{kind} {name}: {failing} pods failing, {counted} (its minimum is {seen_as.minimum})"
            )
    index = LabelIndex(seen.pods)
    for service in seen.services:
        selector = service_selector(service)
        if not selector:
            continue
        behind = index.matching(selector)
        served = {seen.components[str(meta(pod).name)] for pod in behind}
        for kind, workload in workload_objects(seen):  # one with no pod at all serves nothing, too
            labels = ((((workload.get("spec") or {}).get("template") or {}).get("metadata") or {}).get("labels")) or {}
            if counts(kind, workload)[0] and label_matches(selector, labels):
                served.add(str(meta(workload).name))
        if not served or any(pod_ready(pod) for pod in behind):
            continue
        text = f"service {name_of(service)} has no ready endpoint ({len(behind)} pods behind it, none ready)"
        for component in served:
            found[component] = ComponentImpact("outage", text)
    return found


def weighted(seen: Observation, name: str) -> ComponentImpact | None:
    """A failing canary an nginx canary Ingress sends every request of its hosts to (weight 100, its Service with a
    ready endpoint): its users are the host's users, an outage-class problem (review-assist8 I3), not one ranked by the
    canary Deployment's own minimum. With no ready endpoint there, ingress-nginx keeps the requests on the main
    backend."""
    for pair in seen.facts.canaries:
        if pair.canary != name or pair.split is None or pair.split[0].percent < 100:
            continue
        split, service = pair.split
        selector = next((service_selector(s) for s in seen.services if name_of(s) == service), None)
        pods = [pod for pod in seen.pods if selector and label_matches(selector, meta(pod).labels)]
        if any(pod_ready(pod) for pod in pods):
            failing = len(seen.facts.failing.get(name, []))
            text = (
                f"{split_text(split, service)}, and {failing} of its {len(pods)} pods fail: every user of it hits them"
            )
            return ComponentImpact("outage", text)
    return None


def workload_objects(seen: Observation) -> list[tuple[str, dict[str, Any]]]:
    """(kind, object) of every Deployment, StatefulSet and DaemonSet read."""
    read = {**seen.workloads, "deployments": seen.deployments}
    return [(kind, workload) for kind, resource in KINDS.items() for workload in read.get(resource, [])]


CRASHING = ("CrashLoopBackOff", "Error", "OOMKilled", "ImagePullBackOff", "ErrImagePull", "CreateContainerConfigError")


RESTARTED = re.compile(r", ([1-9][0-9]*) restarts\)$")


def crashing(line: str) -> bool:
    """'web-1 CrashLoopBackOff (0/1 ready, 3 restarts)': a failing pod's line that shows its own failure (a crash
    status, or restarts: a replacement that only started is not one)."""
    status = (line.split(" ") + ["", ""])[1]
    return status in CRASHING or status.startswith(("Init:Error", "Init:Crash")) or RESTARTED.search(line) is not None


def mitigated_components(deps: Deps, seen: Observation) -> frozenset[str]:
    """Components a succeeded command of the current incident acted on in this namespace: a Deployment (StatefulSet,
    DaemonSet), the deployment an HPA scales, the components behind a Service, those whose pods a drain evicted."""
    try:
        rows = deps.scope().commands(
            deps.journal.commands(states=["succeeded"], incident=deps.journal.current_incident(seen.namespace))
        )
    except (OSError, sqlite3.Error) as e:
        logger.warning("could not read the journal's mitigations: %s", e)
        return frozenset()
    found: set[str] = set()
    for row in rows:
        target = row.plan.get("target") or {}
        if target.get("kind") == "Node":  # a drain moved pods of the namespace: their replacements are verified
            moved = drained_components(
                row.plan, seen.namespace, seen.components, seen.replicasets, seen.facts.workloads
            )
            # ... unless they fail on their own elsewhere: the drain did not act on that failure (a node drained for
            # maintenance while a bad deploy crash-loops: review-assist8 I8).
            found |= {c for c in moved if not any(crashing(line) for line in seen.facts.failing.get(c, []))}
            continue
        if target.get("namespace") != seen.namespace:
            continue
        kind, name = str(target.get("kind") or ""), str(target.get("name") or "")
        if kind in ("Deployment", "StatefulSet", "DaemonSet"):
            found.add(name)
        elif kind == "HorizontalPodAutoscaler":
            found.update(scaled(hpa_row(h).target) for h in seen.hpas if meta(h).name == name)
        elif kind == "Service":
            service = next((s for s in seen.services if meta(s).name == name), None)
            if service is not None and (selector := service_selector(service)):
                found.update(
                    seen.components[str(meta(p).name)]
                    for p in seen.pods
                    if label_matches(selector, dict(meta(p).labels))
                )
    return frozenset(found)

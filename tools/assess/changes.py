"""The reads behind recent_changes (tools/k8s/changes.py words them): NetworkPolicies, Ingresses,
PodDisruptionBudgets, the deployment controller's ScalingReplicaSet events, and the ConfigMaps the workloads' pod
templates read (metadata only, each by name: an edit breaks nothing until the pods restart, and "what changed in
the last hour" needs it before they do; review-assist7 H11a). Services, deployments and ReplicaSets come from the
assessment's own reads. A read these credentials may not make is noted as a blind spot, never a failure.

Layer: tools.assess.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from incident_response.tools.core import errors
from incident_response.tools.engine.event_reads import read_events
from incident_response.tools.engine.reads import configmap_metadata
from incident_response.tools.k8s import backends, labels
from incident_response.tools.k8s.changes import (
    Change,
    ingress_changes,
    newest_first,
    object_change,
    scale_changes,
    service_changes,
)
from incident_response.tools.k8s.config_key_reads import reads_edit
from incident_response.tools.k8s.config_keys import edited_keys, keys_text
from incident_response.tools.k8s.hpa_changes import hpa_changes
from incident_response.tools.k8s.template_diff import config_refs
from incident_response.tools.k8s.views import meta
from incident_response.tools.kube.client import Kube
from incident_response.tools.kube.paging import list_all
from incident_response.tools.playbook.scale_claims import mark_claims

MAX_CHANGES = 20


def read_kind(kube: Kube, resource: str, namespace: str, blind: list[str]) -> list[dict[str, Any]]:
    try:
        return list_all(kube, resource, namespace).items
    except errors.Forbidden:
        blind.append(resource)
        return []


def scaling_events(kube: Kube, namespace: str) -> list[dict[str, Any]]:
    """The deployment controller's ScalingReplicaSet events (Normal: the Warning read does not have them)."""
    try:
        return read_events(kube, namespace, "reason=ScalingReplicaSet").items
    except errors.Forbidden:
        return []


Read = tuple[list[Any], list[Any], list[Any]]  # policies, scaling events, ingresses


def changes_read(kube: Kube, namespace: str, blind: list[str]) -> Callable[[], Read]:
    """The namespace-wide reads (policies, scaling events, ingresses), to run beside the pods' pages (the assessment
    reads the disruption budgets with the workloads)."""

    def read() -> Read:
        return (
            read_kind(kube, "networkpolicies", namespace, blind),
            scaling_events(kube, namespace),
            read_kind(kube, "ingresses", namespace, blind),
        )

    return read


def serving_services(services: list[dict[str, Any]], pods: list[dict[str, Any]]) -> set[str]:
    """The Services that select a Ready pod (a ready endpoint): where an Ingress's share of requests can go."""
    up = [pod for pod in pods if backends.ready(pod) and not backends.terminating(pod)]
    found = set()
    for service in services:
        selector = backends.service_selector(service)
        if selector and any(labels.matches(selector, meta(pod).labels) for pod in up):
            found.add(str(meta(service).name))
    return found


def recent_changes(
    kube: Kube,
    namespace: str,
    now: datetime,
    read: Read,
    *,
    budgets: list[dict[str, Any]],
    services: list[dict[str, Any]],
    deployments: list[dict[str, Any]],
    replicasets: list[dict[str, Any]],
    pods: list[dict[str, Any]],
    components: dict[str, str],
    templates: dict[str, dict[str, Any]],
    rolled_out: set[str],
    autoscaled: frozenset[str] = frozenset(),
    hpas: list[dict[str, Any]] | None = None,
    blind: list[str] | None = None,
) -> list[Change]:
    """Every non-rollout change of the last 2 hours, newest first (at most MAX_CHANGES). `templates`: the pod
    template of each workload (the ConfigMaps they read are read; the pods read are slim, without env and
    volumes). `blind`: told "configmaps" when these credentials may not read them (their edits cannot be listed)."""
    policies, events, ingresses = read
    found = (
        service_changes(services, now)
        # which Services serve is asked of every pod: only when an Ingress's canary weight needs it
        + ingress_changes(ingresses, now, serving_services(services, pods) if ingresses else set())
        + hpa_changes(hpas or [], now, events, replicasets)
    )
    scales = scale_changes(deployments, replicasets, events, rolled_out, now, autoscaled)
    mark_claims(scales, deployments, replicasets)
    found += scales
    for kind, objects, key in (
        ("NetworkPolicy", policies, "podSelector"),
        ("PodDisruptionBudget", budgets, "selector"),
    ):
        for obj in objects:
            change = object_change(kind, obj, now)
            if change is not None:
                change.selects = selected(((obj.get("spec") or {}).get(key)), pods, components)
                if kind == "NetworkPolicy":
                    change.what += admits_text(obj, change.selects, pods, components, objects)
                found.append(change)
    readers: dict[str, list[str]] = {}
    for component, template in sorted(templates.items()):
        for name in config_refs(template)["ConfigMap"]:
            readers.setdefault(name, []).append(component)
    configmaps = configmap_metadata(kube, namespace, set(readers)) if readers else {}
    if configmaps is None and blind is not None:
        blind.append("configmaps")
    for name, obj in (configmaps or {}).items():
        change = object_change("ConfigMap", obj, now, "updated")
        if change is not None:
            keys = edited_keys(obj) if change.what == "updated" else []
            affected = [c for c in readers[name] if reads_edit(templates[c], name, keys)]
            change.selects, change.keys = affected, keys
            said = [keys_text(keys)] if keys else []
            readers_text = f"read by {listed(readers[name])}" + (
                "" if affected else ", not that key" if len(keys) == 1 else ", not those keys"
            )
            change.what += f" ({'; '.join([*said, readers_text])})"
            found.append(change)
    return newest_first(found)[:MAX_CHANGES]


def listed(names: list[str]) -> str:
    """'a, b, c and 2 more'."""
    more = f" and {len(names) - 3} more" if len(names) > 3 else ""
    return ", ".join(names[:3]) + more


def admits_text(
    policy: dict[str, Any],
    selects: list[str],
    pods: list[dict[str, Any]],
    components: dict[str, str],
    policies: list[dict[str, Any]],
) -> str:
    """' (ingress to payments only from checkout)': whom a policy's ingress rules still admit, so the human sees who
    else lost access (review-assist7 H10: a lockdown that left out a caller read as a bare "created"). Empty for a
    policy that restricts no ingress or whose rules admit sources this namespace's pods cannot show."""
    spec = policy.get("spec") or {}
    if "Ingress" not in (spec.get("policyTypes") or ["Ingress"]) or not selects:
        return ""
    for other in policies:  # policies are additive: another one over the same pods may admit more
        if other is not policy and set(selected((other.get("spec") or {}).get("podSelector"), pods, components)) & set(
            selects
        ):
            return ""
    sources: set[str] = set()
    for rule in spec.get("ingress") or []:
        peers = rule.get("from") or []
        if not peers:
            return ""  # a rule open to every source restricts nothing
        for peer in peers:
            if "podSelector" not in peer or "namespaceSelector" in peer:
                return ""  # other namespaces or address blocks: not judged from this namespace's pods
            sources.update(selected(peer.get("podSelector"), pods, components))
    to = ", ".join(selects[:5])
    if not sources:
        return f" (ingress to {to} denied to every pod)"
    return f" (ingress to {to} only from {', '.join(sorted(sources)[:5])})"


def selected(selector: dict[str, Any] | None, pods: list[dict[str, Any]], components: dict[str, str]) -> list[str]:
    """The components whose pods a LabelSelector object picks (an empty one picks every pod)."""
    parsed = labels.from_spec(selector)
    return sorted({components[str(meta(p).name)] for p in pods if labels.matches(parsed, meta(p).labels)})

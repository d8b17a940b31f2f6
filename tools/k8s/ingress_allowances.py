"""Which existing NetworkPolicies admit ingress to given pods: what a deny-all policy next to them cannot take away.

NetworkPolicies are additive (Kubernetes docs, "Network Policies"; NetworkPolicySpec.ingress): a pod selected by any
policy with policyType Ingress accepts the union of the ingress rules of every such policy. A policy with
`ingress: []` only isolates; it denies nothing another policy admits. policyTypes defaults to Ingress.

Layer: tools.k8s.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from incident_response.tools.k8s import labels
from incident_response.tools.k8s.views import meta

MAX_SOURCES = 3


@dataclass
class Allowance:
    policy: str
    pods: list[str]  # the target pods it selects
    sources: list[str]  # what its rules admit: "pods app=web", "any source", "10.0.0.0/8"


def selects_ingress(policy: dict[str, Any], pod_labels: dict[str, str]) -> bool:
    spec = policy.get("spec") or {}
    if "Ingress" not in (spec.get("policyTypes") or ["Ingress"]):
        return False
    return labels.matches(labels.from_spec(spec.get("podSelector")), pod_labels)


def peer_text(peer: dict[str, Any]) -> str:
    if (block := peer.get("ipBlock")) is not None:
        excepted = block.get("except") or []
        return f"{block.get('cidr')}" + (f" except {', '.join(map(str, excepted))}" if excepted else "")
    parts = []
    if (namespaces := peer.get("namespaceSelector")) is not None:
        chosen = labels.text(labels.from_spec(namespaces))
        parts.append(f"namespaces {chosen}" if chosen else "every namespace")
    if (pods := peer.get("podSelector")) is not None:
        chosen = labels.text(labels.from_spec(pods))
        parts.append(f"pods {chosen}" if chosen else "every pod")
    return " / ".join(parts) or "any source"


def rule_text(rule: dict[str, Any]) -> str:
    peers = rule.get("from") or []
    source = "any source" if not peers else ", ".join(peer_text(p) for p in peers)
    ports = [f"{p.get('port', 'every port')}/{p.get('protocol', 'TCP')}" for p in rule.get("ports") or []]
    return source + (f" on {', '.join(ports)}" if ports else "")


def ingress_allowances(policies: list[dict[str, Any]], pods: list[dict[str, Any]]) -> list[Allowance]:
    """The policies with ingress rules that select any of `pods`: each keeps admitting what its rules say."""
    found = []
    for policy in policies:
        rules = (policy.get("spec") or {}).get("ingress") or []
        if not rules:
            continue
        selected = sorted(str(meta(p).name) for p in pods if selects_ingress(policy, dict(meta(p).labels)))
        if selected:
            sources = [rule_text(r) for r in rules]
            found.append(Allowance(str(meta(policy).name), selected, sources))
    return sorted(found, key=lambda a: a.policy)


def allowance_text(allowance: Allowance) -> str:
    sources = "; ".join(allowance.sources[:MAX_SOURCES]) + (
        f"; {len(allowance.sources) - MAX_SOURCES} more rules" if len(allowance.sources) > MAX_SOURCES else ""
    )
    return f"NetworkPolicy {allowance.policy} admits ingress to {', '.join(allowance.pods[:5])} from {sources}"

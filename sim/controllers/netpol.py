"""NetworkPolicy ingress as upstream defines it: which pods may open connections to a pod.

Policies are additive (kubernetes.io/docs/concepts/services-networking/network-policies, NetworkPolicySpec.ingress):
a pod selected by no policy with policyType Ingress accepts everything; a pod selected by one or more accepts a
connection when at least one ingress rule of ANY of those policies admits it. A policy with no ingress rules only
makes its pods isolated, it denies nothing another policy admits. policyTypes defaults to Ingress (plus Egress when
egress rules are given). Simplified: ports are not modelled (a rule admits its sources on every port), and a
namespaceSelector sees only the automatic kubernetes.io/metadata.name label (traffic here stays in one namespace).

Layer: sim (the simulated cluster; apart from the product).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable

from incident_response.sim.controllers.common import Obj, labels_of, meta, selector_from_spec

NAMESPACE_NAME = "kubernetes.io/metadata.name"


def selects(policy: Obj, pod: Obj) -> bool:
    """The policy applies to the pod's ingress: same namespace, podSelector matches, Ingress among its types."""
    if meta(policy).get("namespace") != meta(pod).get("namespace"):
        return False
    spec = policy.get("spec") or {}
    types = spec.get("policyTypes") or ["Ingress"]
    if "Ingress" not in types:
        return False
    selector = spec.get("podSelector") or {}
    return selector_from_spec(selector)(labels_of(pod))


def admits(policy: Obj, source: Obj) -> bool:
    """Some ingress rule of the policy admits connections from `source` (a pod)."""
    for rule in (policy.get("spec") or {}).get("ingress") or []:
        peers = rule.get("from") or []
        if not peers or any(peer_matches(peer, policy, source) for peer in peers):
            return True
    return False


def peer_matches(peer: Obj, policy: Obj, source: Obj) -> bool:
    block = peer.get("ipBlock")
    if block is not None:
        return in_block(str((source.get("status") or {}).get("podIP") or ""), block)
    namespaces = peer.get("namespaceSelector")
    source_ns = str(meta(source).get("namespace", ""))
    if namespaces is None:
        in_namespace = source_ns == meta(policy).get("namespace")
    else:
        in_namespace = selector_from_spec(namespaces)({NAMESPACE_NAME: source_ns})
    pods = peer.get("podSelector")
    return in_namespace and (pods is None or selector_from_spec(pods)(labels_of(source)))


def in_block(ip: str, block: Obj) -> bool:
    try:
        address = ipaddress.ip_address(ip)
        inside = address in ipaddress.ip_network(str(block.get("cidr")), strict=False)
        excepted = (ipaddress.ip_network(str(e), strict=False) for e in block.get("except") or [])
        return inside and not any(address in network for network in excepted)
    except ValueError:
        return False


def ingress_allowed(policies: Iterable[Obj], target: Obj, source: Obj) -> bool:
    """May `source` open a connection to `target`? Yes when no policy isolates the target's ingress, or when one of
    the policies that do admits the source."""
    selecting = [p for p in policies if selects(p, target)]
    return not selecting or any(admits(p, source) for p in selecting)

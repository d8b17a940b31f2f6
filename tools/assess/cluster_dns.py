"""Cluster DNS, read from every namespace's assessment: when Service kube-system/kube-dns has no ready endpoint, every
name lookup in the cluster fails, whatever the namespace itself shows (review-assist8 I10: coredns crash-looping
after a rollout; the owners of shop asked about shop, and its assessment said NONE). One GET of one Endpoints object;
a server that may not read it (an allow-list, team RBAC) says nothing about it.

Layer: tools.assess.
"""

from __future__ import annotations

from typing import NamedTuple

from incident_response.tools.core import errors
from incident_response.tools.kube.client import Kube

DNS_NAMESPACE, DNS_SERVICE = "kube-system", "kube-dns"


class DnsOutage(NamedTuple):
    detail: str  # what users see
    reachable: bool  # kube-system is within the server's allow-list: its assessment is the next call


def dns_outage(kube: Kube, namespace: str, allowed: tuple[str, ...] = ()) -> DnsOutage | None:
    """What users of `namespace` see when cluster DNS has no ready endpoint, else None (also when unreadable, or
    when the assessment is of kube-system itself: its own rules judge coredns there). `allowed`: the server's
    namespace allow-list (empty: all)."""
    if namespace == DNS_NAMESPACE:
        return None
    try:
        endpoints = kube.get("endpoints", DNS_SERVICE, DNS_NAMESPACE)
    except errors.IncidentError:
        return None
    subsets = endpoints.get("subsets") or []
    ready = sum(len(s.get("addresses") or []) for s in subsets)
    if ready:
        return None
    waiting = sum(len(s.get("notReadyAddresses") or []) for s in subsets)
    detail = (
        f"cluster DNS is down: Service {DNS_NAMESPACE}/{DNS_SERVICE} has no ready endpoint ({waiting} not ready): "
        "every name lookup in the cluster fails"
    )
    return DnsOutage(detail, not allowed or DNS_NAMESPACE in allowed)

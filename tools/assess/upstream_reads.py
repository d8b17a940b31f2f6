"""The one log read behind "roll back the dependency the callers' errors name" (review-assist8 I2): only when rule 5
would scale a deployment that did not roll out while another did in the last 2 hours, the tail of at most
CALLER_PODS of its Ready pods is read (masked as every log is) for an error naming that deployment's Service.

Layer: tools.assess.
"""

from __future__ import annotations

from typing import Any

from incident_response.tools.assess.poison_reads import read_log
from incident_response.tools.k8s.backends import name_of, ready, service_selector
from incident_response.tools.k8s.labels import matches
from incident_response.tools.k8s.views import meta
from incident_response.tools.kube.client import Kube
from incident_response.tools.playbook.decision import Facts
from incident_response.tools.playbook.rules import framework
from incident_response.tools.playbook.upstream_blame import blaming_line, fresh_elsewhere, scale_candidate

SCALE_RULES = ("overloaded: HPA at max", "overloaded: CPU near limits")
CALLER_PODS = 2  # each costs a log read and a pod read: a small sample, newest first (the errors are current)


def services_of(
    deployment: str, services: list[dict[str, Any]], pod_labels: dict[str, tuple[str, dict[str, str]]]
) -> list[str]:
    """Services whose endpoints are `deployment`'s pods: their selector picks some of its pods and no other pod."""
    found = []
    for service in services:
        selector = service_selector(service)
        picked = {c for c, labels in pod_labels.values() if selector and matches(selector, labels)}
        if picked == {deployment}:
            found.append(name_of(service))
    return found


def upstream_errors(
    kube: Kube, facts: Facts, services: list[dict[str, Any]], pods: list[dict[str, Any]], components: dict[str, str]
) -> dict[str, str]:
    """Rolled-out deployment -> "CALLER_POD: LINE", the caller's newest log line naming its Service as the upstream
    of an error; empty when rule 5 has no such caller, or its logs name none (nothing is read then but the tail)."""
    caller = scale_candidate(facts)
    if caller is None or not (rollouts := fresh_elsewhere(facts, caller)):
        return {}
    if framework(facts).rule not in SCALE_RULES:  # another rule decides first: its SCALE is not what is proposed
        return {}
    labels = {name_of(p): (components.get(name_of(p), ""), meta(p).labels or {}) for p in pods}
    upstreams = {r.deployment: found for r in rollouts if (found := services_of(r.deployment, services, labels))}
    if not upstreams:
        return {}
    callers = sorted(
        (p for p in pods if components.get(name_of(p)) == caller and ready(p)),
        key=lambda p: str(meta(p).creation_timestamp or ""),
        reverse=True,
    )
    blamed: dict[str, str] = {}
    for pod in callers[:CALLER_PODS]:
        # Only what the caller logged since the rollouts: an older timeout naming the Service blames no rollout.
        since = (max(r.minutes_ago for r in rollouts) + 1) * 60
        lines = (read_log(kube, facts.namespace, name_of(pod), previous=False, since_seconds=since) or "").splitlines()
        for deployment, names in upstreams.items():
            if deployment not in blamed and (line := blaming_line(lines, names, facts.namespace)):
                blamed[deployment] = f"{name_of(pod)}: {line}"
        if len(blamed) == len(upstreams):
            break
    return blamed

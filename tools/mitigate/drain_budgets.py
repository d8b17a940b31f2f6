"""Which of a drain's evictions a PodDisruptionBudget refuses.

Layer: tools.mitigate.
"""

from __future__ import annotations

from typing import Any

from incident_response.tools.k8s import backends, labels
from incident_response.tools.k8s.views import meta


def _count(status: dict[str, Any], key: str) -> int:
    value = status.get(key)
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def blocked_by_budgets(pods: list[dict[str, Any]], pdbs: list[dict[str, Any]]) -> tuple[list[str], set[str]]:
    """(warnings, names of pods whose eviction the API server would refuse now), in the order of `pods`."""
    warnings: list[str] = []
    blocked: set[str] = set()
    for pdb in pdbs:
        namespace = meta(pdb).namespace
        selector = labels.from_spec((pdb.get("spec") or {}).get("selector"))
        status = pdb.get("status") or {}
        allowed = _count(status, "disruptionsAllowed")
        healthy_budget = _count(status, "currentHealthy") >= _count(status, "desiredHealthy")
        over = []
        for pod in pods:
            if meta(pod).namespace != namespace or not labels.matches(selector, labels.labels_of(pod)):
                continue
            if not backends.ready(pod):
                if not healthy_budget:
                    over.append(backends.name_of(pod))
            elif allowed > 0:
                allowed -= 1
            else:
                over.append(backends.name_of(pod))
        if over:
            blocked.update(over)
            warnings.append(
                f"PodDisruptionBudget {namespace}/{backends.name_of(pdb)} allows no more disruptions now, so the API "
                f"server will refuse to evict {', '.join(over)} (429). Those evictions come last: execution stops "
                "there with the node cordoned and the other pods moved. Plan the drain again once replacements are "
                "Ready."
            )
    return warnings, blocked

"""Which evictions a PodDisruptionBudget refuses now, as the API server's eviction subresource decides (pure).

A Ready pod uses one of the budget's disruptionsAllowed. A running pod that is not Ready passes under
spec.unhealthyPodEvictionPolicy AlwaysAllow, or under the default IfHealthyBudget while the application is not
disrupted (currentHealthy >= desiredHealthy > 0); otherwise it needs a disruption like a Ready pod. Pending and
finished pods disrupt nothing. A deletion is never limited by a budget. The drain planner
(tools/mitigate/drain_budgets.py) and the assessment's node rule read evictions through this one rule.

Layer: tools.k8s.
"""

from __future__ import annotations

from typing import Any

from incident_response.tools.k8s import backends, labels
from incident_response.tools.k8s.views import meta


def count(status: dict[str, Any], key: str) -> int:
    value = status.get(key)
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def unhealthy_may_go(pdb: dict[str, Any]) -> bool:
    status = pdb.get("status") or {}
    if (pdb.get("spec") or {}).get("unhealthyPodEvictionPolicy") == "AlwaysAllow":
        return True
    desired = count(status, "desiredHealthy")
    return desired > 0 and count(status, "currentHealthy") >= desired


def refused_by(pdb: dict[str, Any], pods: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The pods (of the budget's namespace, in the order given) whose eviction `pdb` refuses now."""
    namespace = meta(pdb).namespace
    selector = labels.from_spec((pdb.get("spec") or {}).get("selector"))
    allowed = count(pdb.get("status") or {}, "disruptionsAllowed")
    free_unhealthy = unhealthy_may_go(pdb)
    over: list[dict[str, Any]] = []
    for pod in pods:
        if meta(pod).namespace != namespace or not labels.matches(selector, labels.labels_of(pod)):
            continue
        if (pod.get("status") or {}).get("phase") in ("Pending", "Succeeded", "Failed"):
            continue
        if not backends.ready(pod) and free_unhealthy:
            continue
        if allowed > 0:
            allowed -= 1
        else:
            over.append(pod)
    return over


def refused_evictions(pods: list[dict[str, Any]], pdbs: list[dict[str, Any]]) -> dict[str, str]:
    """Pod name -> the budget (its name) that refuses its eviction now."""
    return {backends.name_of(pod): str(meta(pdb).name) for pdb in pdbs for pod in refused_by(pdb, pods)}

"""Which of a drain's evictions a PodDisruptionBudget refuses, and the way out when re-planning cannot help.

As upstream's eviction subresource: a Ready pod uses one of the budget's disruptionsAllowed. A running pod that is
not Ready passes under spec.unhealthyPodEvictionPolicy AlwaysAllow, or under the default IfHealthyBudget while the
application is not disrupted (currentHealthy >= desiredHealthy > 0); otherwise it needs a disruption like a Ready
pod. Pending and finished pods disrupt nothing. A budget whose own not-Ready pods are refused never heals by
waiting: their replacements start only once they are gone. Deleting them is not subject to budgets.

The eviction rule itself is tools/k8s/budgets.py (the assessment reads it too).

Layer: tools.mitigate.
"""

from __future__ import annotations

from typing import Any

from incident_response.tools.core.plan_warnings import PlanWarning, warning
from incident_response.tools.k8s import backends, labels
from incident_response.tools.k8s.budgets import count, refused_by
from incident_response.tools.k8s.views import meta


def owner_name(pod: dict[str, Any]) -> str:
    """The workload a pod belongs to: a ReplicaSet's Deployment by the pod-template-hash suffix, else its owner."""
    ref = backends.controller_of(pod) or {}
    name = str(ref.get("name") or "")
    suffix = labels.labels_of(pod).get("pod-template-hash")
    if ref.get("kind") == "ReplicaSet" and suffix and name.endswith(f"-{suffix}"):
        return f"deployment {name[: -len(suffix) - 1]}"
    return f"{str(ref.get('kind') or 'its workload').lower()} {name}".strip()


def way_out(pdb: dict[str, Any], stuck: list[dict[str, Any]]) -> tuple[str, str]:
    """(brief, whole) of what to do when the budget's own not-Ready pods are refused."""
    status = pdb.get("status") or {}
    current, desired = count(status, "currentHealthy"), count(status, "desiredHealthy")
    names = ", ".join(backends.name_of(p) for p in stuck)
    owners = sorted({owner_name(p) for p in stuck})
    short = max(desired - current, 1)
    brief = (
        f"{names} not Ready ({current} healthy, needs {desired}): re-planning will not help; delete_pod them or scale "
        f"{' / '.join(owners)} up by {short}+ first"
    )
    return brief, (
        f"{names} {'is' if len(stuck) == 1 else 'are'} not Ready and the budget is below its minimum ({current} "
        f"healthy, needs {desired}), so the eviction is refused until it is healthy, and replacements start only once "
        "these pods are gone: planning the drain again will not help. Either delete them (delete_pod: a deletion is "
        "not subject to PodDisruptionBudgets; the controller replaces them), or scale "
        f"{' / '.join(owners)} up by {short} or more first (the budget then allows the eviction)."
    )


def never_allows(pdb: dict[str, Any], over: list[dict[str, Any]]) -> tuple[str, str] | None:
    """A budget that wants every one of its pods healthy (minAvailable equal to the replicas, maxUnavailable 0)
    refuses every eviction even when all are Ready: waiting changes nothing, one more replica does."""
    status = pdb.get("status") or {}
    expected, desired = count(status, "expectedPods"), count(status, "desiredHealthy")
    if not expected or desired < expected:
        return None
    owners = " / ".join(sorted({owner_name(p) for p in over}))
    brief = f"it needs all {expected} pods healthy, so never allows one: scale {owners} up by one first, or relax it"
    return brief, (
        f"The budget needs all {expected} of its pods healthy (desiredHealthy {desired}): it never allows an "
        f"eviction, so planning the drain again will not help. Scale {owners} up by one first (the budget then "
        "allows one eviction; restore the count afterwards), or ask its owners to relax the budget."
    )


def blocked_by_budgets(pods: list[dict[str, Any]], pdbs: list[dict[str, Any]]) -> tuple[list[PlanWarning], set[str]]:
    """(warnings, names of pods whose eviction the API server would refuse now), in the order of `pods`."""
    warnings: list[PlanWarning] = []
    blocked: set[str] = set()
    for pdb in pdbs:
        namespace = meta(pdb).namespace
        over = refused_by(pdb, pods)
        if not over:
            continue
        blocked.update(backends.name_of(p) for p in over)
        stuck = [p for p in over if not backends.ready(p)]
        brief, then = (
            way_out(pdb, stuck)
            if stuck
            else never_allows(pdb, over)
            or ("re-plan once replacements are Ready", "Plan the drain again once replacements are Ready.")
        )
        refused = ", ".join(backends.name_of(p) for p in over)
        warnings.append(
            warning(
                "budget",
                f"PDB {namespace}/{backends.name_of(pdb)} refuses evicting {refused} now (429); they go last and the "
                f"drain stops there: {brief}",
                f"PodDisruptionBudget {namespace}/{backends.name_of(pdb)} allows no more disruptions now, so the API "
                f"server will refuse to evict {refused} (429). Those evictions come last: execution stops there with "
                f"the node cordoned and the other pods moved. {then}",
            )
        )
    return warnings, blocked

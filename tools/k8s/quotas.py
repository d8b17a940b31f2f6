"""ResourceQuota arithmetic on plain dicts: what a pod of a template charges, how many more a quota holds, and the
refusal the quota admission wrote into a ReplicaSet's (and its Deployment's) ReplicaFailure condition.

Layer: tools.k8s.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from typing import Any

from incident_response.tools.k8s.quantity import parse_quantity

# "pods "api-7d9c-" is forbidden: exceeded quota: compute, requested: requests.cpu=200m, used: ..., limited: ..."
_EXCEEDED = re.compile(r"exceeded quota: ([^,]+), requested: (\S+), used: (\S+), limited: (\S+)")
_MUST_SPECIFY = re.compile(r"failed quota: ([^:]+): (must specify .+)")
# What every container must set once a quota limits it (the pod evaluator's Constraints); others are charged if set.
_MUST_SET = ("requests.cpu", "cpu", "requests.memory", "memory", "limits.cpu", "limits.memory")
_UNSET = "unset (the quota needs it)"
_ORDER = ("pods", "count/pods", *_MUST_SET)  # which limit is named when several allow the same count


@dataclass
class QuotaRefusal:
    """A pod create the quota admission refused: which quota, and (for an exceeded one) per resource what one pod
    asked, what was used and the limit, in the quota's own words."""

    quota: str
    message: str
    requested: dict[str, str] = field(default_factory=dict)
    used: dict[str, str] = field(default_factory=dict)
    limited: dict[str, str] = field(default_factory=dict)
    missing_field: str = ""  # "must specify limits.cpu for: web" when a container leaves a quota'd resource unset

    def needed(self, pods: int) -> dict[str, str]:
        """The hard values that would hold `pods` more pods like the refused one (used + pods x requested)."""
        out = {}
        for key, asked in self.requested.items():
            each, now = parse_quantity(asked), parse_quantity(self.used.get(key, "0"))
            if each is not None and now is not None:
                out[key] = amount_text(key, now + each * pods)
        return out


def _pairs(text: str) -> dict[str, str]:
    return dict(part.split("=", 1) for part in text.split(",") if "=" in part)


def parse_refusal(message: str) -> QuotaRefusal | None:
    """The quota refusal in a FailedCreate message or ReplicaFailure condition; None if it is another failure."""
    found = _EXCEEDED.search(message)
    if found is not None:
        quota, requested, used, limited = found.groups()
        return QuotaRefusal(quota.strip(), message, _pairs(requested), _pairs(used), _pairs(limited))
    missing = _MUST_SPECIFY.search(message)
    if missing is not None:
        return QuotaRefusal(missing.group(1).strip(), message, missing_field=missing.group(2).strip())
    return None


def replica_failure(deployment: dict[str, Any]) -> QuotaRefusal | None:
    """The quota refusal a Deployment's ReplicaFailure condition reports (its ReplicaSet could not create pods)."""
    for cond in (deployment.get("status") or {}).get("conditions") or []:
        if cond.get("type") == "ReplicaFailure" and cond.get("status") == "True":
            return parse_refusal(str(cond.get("message") or ""))
    return None


def amount_text(key: str, amount: float) -> str:
    """A quantity as a quota writes it: CPU in millicores, memory in Mi (rounded up), counts as integers."""
    if key.endswith("cpu"):
        return f"{math.ceil(round(amount * 1000, 6))}m"
    if key.endswith("memory") or key.endswith("storage"):
        return f"{math.ceil(round(amount / 2**20, 6))}Mi"
    return str(math.ceil(round(amount, 6)))


def _container_amounts(container: dict[str, Any]) -> tuple[dict[str, float], dict[str, float]]:
    resources = container.get("resources") or {}
    limits = {k: q for k, v in (resources.get("limits") or {}).items() if (q := parse_quantity(v)) is not None}
    requests = dict(limits)  # a request left unset is its limit (the API server's defaulting)
    requests.update(
        {k: q for k, v in (resources.get("requests") or {}).items() if (q := parse_quantity(v)) is not None}
    )
    return requests, limits


def _extended(resource: str) -> bool:
    """An extended resource (`nvidia.com/gpu`): quota limits it only as `requests.<name>`."""
    return "/" in resource and not resource.startswith(("kubernetes.io/", "requests."))


def pod_charge(pod_spec: dict[str, Any]) -> dict[str, float]:
    """What one pod of this spec charges a quota, as the pod evaluator counts it: pods 1; cpu, memory and
    ephemeral-storage as requests (bare and `requests.`) and `limits.`; hugepages and extended resources as
    `requests.`; summed over containers (an init container's counts when larger)."""
    totals: list[dict[str, float]] = [{}, {}]
    for container in pod_spec.get("containers") or []:
        for index, amounts in enumerate(_container_amounts(container)):
            for key, amount in amounts.items():
                totals[index][key] = totals[index].get(key, 0.0) + amount
    for container in pod_spec.get("initContainers") or []:
        for index, amounts in enumerate(_container_amounts(container)):
            for key, amount in amounts.items():
                totals[index][key] = max(totals[index].get(key, 0.0), amount)
    requests, limits = totals
    charge = {"pods": 1.0, "count/pods": 1.0}
    for resource in ("cpu", "memory", "ephemeral-storage"):
        if resource in requests:
            charge[resource] = charge[f"requests.{resource}"] = requests[resource]
        if resource in limits:
            charge[f"limits.{resource}"] = limits[resource]
    for resource, amount in requests.items():
        if resource.startswith("hugepages-"):
            charge[resource] = charge[f"requests.{resource}"] = amount
        elif _extended(resource):
            charge[f"requests.{resource}"] = amount
    return charge


def _scoped_out(quota: dict[str, Any], pod_spec: dict[str, Any]) -> bool | None:
    """Whether the quota's scopes leave pods of this spec out (True), take them (False), or cannot be judged here
    (None: a scopeSelector, or a scope other than the four a pod's spec decides)."""
    spec = quota.get("spec") or {}
    if spec.get("scopeSelector"):
        return None
    containers = [*(pod_spec.get("containers") or []), *(pod_spec.get("initContainers") or [])]
    best_effort = not any((c.get("resources") or {}).get(k) for c in containers for k in ("requests", "limits"))
    terminating = pod_spec.get("activeDeadlineSeconds") is not None
    truth = {
        "BestEffort": best_effort,
        "NotBestEffort": not best_effort,
        "Terminating": terminating,
        "NotTerminating": not terminating,
    }
    scopes = [str(scope) for scope in spec.get("scopes") or []]
    if any(scope not in truth for scope in scopes):
        return None
    return not all(truth[scope] for scope in scopes)


def quota_scopes_take(quota: dict[str, Any], pod_spec: dict[str, Any]) -> bool:
    """Whether the quota charges pods of this spec (a scope this module cannot judge counts as taking them)."""
    return _scoped_out(quota, pod_spec) is not True


def admitted_spec(template: dict[str, Any], pods: list[dict[str, Any]]) -> dict[str, Any]:
    """The pod spec a quota charges: the template's, with a container's resources it leaves unset taken from a live
    pod's same container. A LimitRange's defaults are written into pods at admission, never into the template, so a
    template without requests under a quota on requests.cpu still runs pods, each charged the default."""
    admitted: dict[str, dict[str, Any]] = {}
    for pod in pods:
        spec = pod.get("spec") or {}
        for container in [*(spec.get("containers") or []), *(spec.get("initContainers") or [])]:
            if container.get("resources") and str(container.get("name")) not in admitted:
                admitted[str(container.get("name"))] = container["resources"]

    def filled(container: dict[str, Any]) -> dict[str, Any]:
        if container.get("resources") or str(container.get("name")) not in admitted:
            return container
        return {**container, "resources": admitted[str(container.get("name"))]}

    out = dict(template)
    for key in ("containers", "initContainers"):
        if template.get(key):
            out[key] = [filled(c) for c in template[key]]
    return out


@dataclass(frozen=True)
class QuotaRoom:
    """How many more pods of a template one quota holds, and the resource that limits it."""

    quota: str
    fits: int
    key: str
    used: str
    hard: str
    each: str

    @property
    def unset(self) -> bool:
        """The pods leave a resource the quota limits unset: admission refuses each (no amount of room helps)."""
        return self.each == _UNSET

    def text(self) -> str:
        return f"ResourceQuota {self.quota} ({self.key}: {self.used} used of {self.hard}, each pod {self.each})"


def quota_room(quota: dict[str, Any], pod_spec: dict[str, Any]) -> QuotaRoom | None:
    """How many more pods of `pod_spec` the quota holds, by its tightest resource among every one it limits that
    the pod charges; None when it limits none of them, its scopes leave these pods out, or they cannot be judged."""
    if _scoped_out(quota, pod_spec) is not False:
        return None
    status, spec = quota.get("status") or {}, quota.get("spec") or {}
    hard, used = status.get("hard") or spec.get("hard") or {}, status.get("used") or {}
    charge = pod_charge(pod_spec)
    name = str((quota.get("metadata") or {}).get("name", ""))
    tightest: QuotaRoom | None = None
    for key in sorted(hard, key=lambda k: (_ORDER.index(k) if k in _ORDER else len(_ORDER), k)):
        limit = parse_quantity(hard.get(key))
        if limit is None:
            continue
        each = charge.get(key)
        if each is None and key in _MUST_SET:  # a compute resource the quota limits, unset: admission refuses it
            return QuotaRoom(name, 0, key, str(used.get(key, "0")), str(hard.get(key)), _UNSET)
        if not each:
            continue  # not charged by these pods (another kind's count, storage, a resource they do not ask)
        now = parse_quantity(used.get(key, "0")) or 0.0
        fits = max(int(math.floor(round((limit - now) / each, 6))), 0)
        if tightest is None or fits < tightest.fits:
            tightest = QuotaRoom(name, fits, key, str(used.get(key, "0")), str(hard.get(key)), amount_text(key, each))
    return tightest


def hard_for(quota: dict[str, Any], pod_spec: dict[str, Any], pods: int) -> dict[str, str]:
    """The hard values that would hold `pods` more pods of `pod_spec`, for each resource now too small."""
    spec, status = quota.get("spec") or {}, quota.get("status") or {}
    hard, used = status.get("hard") or spec.get("hard") or {}, status.get("used") or {}
    out = {}
    for key, each in pod_charge(pod_spec).items():
        limit = parse_quantity(hard.get(key))
        if limit is None:
            continue
        want = (parse_quantity(used.get(key, "0")) or 0.0) + each * pods
        if round(want - limit, 6) > 0:
            out[key] = amount_text(key, want)
    return out

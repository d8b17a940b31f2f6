"""ResourceQuota as kube-apiserver's admission plugin and the quota controller apply it.

What an object charges (a pod: `pods`, `count/pods`, `requests.cpu`/`cpu`, `requests.memory`/`memory`,
`limits.cpu`, `limits.memory`, the same for ephemeral-storage, `requests.` for hugepages and extended resources; any
object: `count/<resource>[.<group>]` and the legacy object counts), a namespace's usage, and the admission check: a
create that would take a quota past `hard` is refused 403 Forbidden with upstream's message `pods "web-7d9c-" is
forbidden: exceeded quota: NAME, requested: pods=1, used: pods=3, limited: pods=3`, and a pod that leaves a quota'd
compute resource unset with `failed quota: NAME: must specify limits.cpu for: web`. Amounts are kept in thousandths
(milli) so CPU and counts add up exactly. A LimitRange's defaults are written into a pod before (sim/limitranges.py).

Not modelled: `scopeSelector` (a quota with one is not enforced), PriorityClass and CrossNamespacePodAffinity scopes,
updates (pod resources are immutable here) and the `status unknown for quota` refusal (usage is computed at
admission, so it is always known).

Layer: sim (the simulated cluster; apart from the product).
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from datetime import datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from incident_response.sim import errors
from incident_response.sim.crds import resource_type
from incident_response.sim.resources import BY_KEY, CRDS, PODS, PVCS, RESOURCEQUOTAS, ResourceType
from incident_response.sim.store import Obj, Store

_QUANTITY = re.compile(r"^([+-]?[0-9]+(?:\.[0-9]*)?|[+-]?\.[0-9]+)(?:[eE]([+-]?[0-9]+))?([a-zA-Z]*)$")
_SUFFIX = {
    "n": Decimal("1e-9"),
    "u": Decimal("1e-6"),
    "m": Decimal("1e-3"),
    "": Decimal(1),
    "k": Decimal(10) ** 3,
    "M": Decimal(10) ** 6,
    "G": Decimal(10) ** 9,
    "T": Decimal(10) ** 12,
    "P": Decimal(10) ** 15,
    "E": Decimal(10) ** 18,
    "Ki": Decimal(2) ** 10,
    "Mi": Decimal(2) ** 20,
    "Gi": Decimal(2) ** 30,
    "Ti": Decimal(2) ** 40,
    "Pi": Decimal(2) ** 50,
    "Ei": Decimal(2) ** 60,
}
QUANTITY_PATTERN = "^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$"  # as validation words it

# Legacy object-count names and the resource each counts.
_OBJECT_COUNTS = {
    "pods": "pods",
    "services": "services",
    "configmaps": "configmaps",
    "secrets": "secrets",
    "persistentvolumeclaims": "persistentvolumeclaims",
    "resourcequotas": "resourcequotas",
    "replicationcontrollers": "replicationcontrollers",
}
# The compute resources every container must set once a quota limits them (the pod evaluator's Constraints).
_MUST_SPECIFY = ("requests.cpu", "requests.memory", "limits.cpu", "limits.memory", "cpu", "memory")
_POD_SCOPES = ("Terminating", "NotTerminating", "BestEffort", "NotBestEffort")


# ----- quantities -----


def milli(value: Any) -> int | None:
    """A quantity in thousandths of its unit, rounded up as Quantity.MilliValue does; None if it does not parse."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int):
        return value * 1000
    match = _QUANTITY.match(str(value).strip())
    if match is None or match.group(3) not in _SUFFIX or (match.group(2) and match.group(3)):
        return None
    try:
        amount = Decimal(match.group(1)) * (Decimal(10) ** int(match.group(2) or 0)) * _SUFFIX[match.group(3)]
    except (InvalidOperation, ValueError):
        return None
    return math.ceil(amount * 1000)


def binary(value: Any) -> bool:
    """Whether a quantity is written in binary SI (Ki, Mi, Gi, ...): its sums print that way too."""
    return isinstance(value, str) and value.strip().endswith("i")


def render(amount: int, in_binary: bool = False) -> str:
    """Quantity.String() of `amount` thousandths: 500m, 2, 1536Mi, 1G."""
    if amount % 1000:
        return f"{amount}m"
    whole = amount // 1000
    if whole == 0:
        return "0"
    if in_binary and abs(whole) >= 1024:
        suffixes, base = ("", "Ki", "Mi", "Gi", "Ti", "Pi", "Ei"), 1024
    else:
        suffixes, base = ("", "k", "M", "G", "T", "P", "E"), 1000
    index = 0
    while whole % base == 0 and index < len(suffixes) - 1:
        whole //= base
        index += 1
    return f"{whole}{suffixes[index]}"


def pretty(amounts: dict[str, int], hard_text: dict[str, Any]) -> str:
    """prettyPrint of a ResourceList: `key=value` sorted by key, comma separated."""
    return ",".join(f"{key}={render(amounts.get(key, 0), binary(hard_text.get(key)))}" for key in sorted(amounts))


def canonical_hard(quota: Obj) -> None:
    """Write spec.hard's quantities as the API server stores them (0.5 -> 500m, 1024Mi -> 1Gi); 422 if one does not
    parse."""
    spec = quota.get("spec")
    hard = spec.get("hard") if isinstance(spec, dict) else None
    if not isinstance(hard, dict):
        return
    causes = []
    for key, value in hard.items():
        amount = milli(value)
        if amount is None:
            causes.append(
                (
                    f"spec.hard[{key}]",
                    f"Invalid value: {value!r}: quantities must match the regular expression '{QUANTITY_PATTERN}'",
                )
            )
        elif amount < 0:
            causes.append((f"spec.hard[{key}]", f"Invalid value: {value!r}: must be greater than or equal to 0"))
        else:
            hard[key] = render(amount, binary(value))
    if causes:
        name = str((quota.get("metadata") or {}).get("name", ""))
        raise errors.invalid("ResourceQuota", "", name, causes)


# ----- what one object charges -----


def _container_amounts(container: Obj) -> tuple[dict[str, int], dict[str, int]]:
    """(requests, limits) of a container; a request left unset is its limit (the API server's defaulting)."""
    resources = container.get("resources") or {}
    limits = {k: v for k, v in ((k, milli(x)) for k, x in (resources.get("limits") or {}).items()) if v is not None}
    requests = dict(limits)
    requests.update(
        {k: v for k, v in ((k, milli(x)) for k, x in (resources.get("requests") or {}).items()) if v is not None}
    )
    return requests, limits


def _pod_totals(spec: Obj, which: int) -> dict[str, int]:
    """Sum over containers, then the max with each init container (PodRequests / PodLimits)."""
    total: dict[str, int] = {}
    for container in spec.get("containers") or []:
        for key, amount in _container_amounts(container)[which].items():
            total[key] = total.get(key, 0) + amount
    for container in spec.get("initContainers") or []:
        for key, amount in _container_amounts(container)[which].items():
            total[key] = max(total.get(key, 0), amount)
    return total


def pod_usage(pod: Obj) -> dict[str, int]:
    spec = pod.get("spec") or {}
    out = {"pods": 1000, "count/pods": 1000}
    requests, limits = _pod_totals(spec, 0), _pod_totals(spec, 1)
    for resource in ("cpu", "memory", "ephemeral-storage"):
        if resource in requests:
            out[resource] = out[f"requests.{resource}"] = requests[resource]
        if resource in limits:
            out[f"limits.{resource}"] = limits[resource]
    for resource, amount in requests.items():  # podComputeUsageHelper: hugepages, and extended resources
        if resource.startswith("hugepages-"):
            out[resource] = out[f"requests.{resource}"] = amount
        elif "/" in resource and not resource.startswith(("kubernetes.io/", "requests.")):
            out[f"requests.{resource}"] = amount
    return out


def counts_against_quota(pod: Obj, now: datetime) -> bool:
    """QuotaV1Pod: a finished pod, or one terminating past its grace period (a lost node's), is not charged."""
    if (pod.get("status") or {}).get("phase") in ("Succeeded", "Failed"):
        return False
    meta = pod.get("metadata") or {}
    deleted = meta.get("deletionTimestamp")
    if deleted:
        try:
            since = datetime.fromisoformat(str(deleted).replace("Z", "+00:00"))
        except ValueError:
            return True
        grace = int(meta.get("deletionGracePeriodSeconds") or 0)
        return now <= since + timedelta(seconds=grace)
    return True


def object_usage(res: ResourceType, obj: Obj) -> dict[str, int]:
    """What creating `obj` charges against a quota."""
    if res is PODS:
        return pod_usage(obj)
    out = {f"count/{res.key}": 1000}
    if not res.group and res.plural in _OBJECT_COUNTS:
        out[res.plural] = 1000
    if res is PVCS:
        storage = milli((((obj.get("spec") or {}).get("resources") or {}).get("requests") or {}).get("storage"))
        if storage is not None:
            out["requests.storage"] = storage
    return out


def _qos_best_effort(spec: Obj) -> bool:
    return not any(
        (c.get("resources") or {}).get("requests") or (c.get("resources") or {}).get("limits")
        for c in [*(spec.get("containers") or []), *(spec.get("initContainers") or [])]
    )


def _matches(quota: Obj, res: ResourceType, obj: Obj) -> bool:
    spec = quota.get("spec") or {}
    if spec.get("scopeSelector"):
        return False
    scopes = spec.get("scopes") or []
    if not scopes:
        return True
    if res is not PODS:
        return False
    pod_spec = obj.get("spec") or {}
    truth = {
        "Terminating": pod_spec.get("activeDeadlineSeconds") is not None,
        "BestEffort": _qos_best_effort(pod_spec),
    }
    truth["NotTerminating"] = not truth["Terminating"]
    truth["NotBestEffort"] = not truth["BestEffort"]
    return all(scope in _POD_SCOPES and truth[scope] for scope in scopes)


def _hard(quota: Obj) -> dict[str, int]:
    hard = (quota.get("spec") or {}).get("hard") or {}
    return {key: amount for key, amount in ((k, milli(v)) for k, v in hard.items()) if amount is not None}


def _missing(pod: Obj, required: Iterable[str]) -> str:
    """The pod evaluator's Constraints: each compute resource a quota limits, with the containers that leave it
    unset ("" when none does)."""
    spec = pod.get("spec") or {}
    missing: dict[str, set[str]] = {}
    for container in [*(spec.get("containers") or []), *(spec.get("initContainers") or [])]:
        requests, limits = _container_amounts(container)
        for key in required:
            kind, _, resource = key.rpartition(".")
            given = limits if kind == "limits" else requests
            if (resource or key) not in given:
                missing.setdefault(key, set()).add(str(container.get("name", "")))
    parts = sorted(f"{key} for: {','.join(sorted(names))}" for key, names in missing.items())
    return "; ".join(parts)


# ----- a namespace's quotas -----


class Ledger:
    """A namespace's quotas with their usage, read once: for one admission, one controller pass, or a controller
    creating several pods in a row (`charge` each one it created)."""

    def __init__(self, store: Store, namespace: str, now: datetime, pods: Iterable[Obj] | None = None) -> None:
        self.store = store
        self.namespace = namespace
        self.now = now
        self.quotas = sorted(store.items(RESOURCEQUOTAS, namespace), key=lambda q: str(q["metadata"].get("name")))
        self._pods = pods
        self.used: dict[str, dict[str, int]] = {}
        if self.quotas:
            self._count()

    def _count(self) -> None:
        keys = {key for quota in self.quotas for key in _hard(quota)}
        pods = self._pods if self._pods is not None else self.store.items(PODS, self.namespace)
        pod_keys = keys & {"pods", "count/pods", "cpu", "memory", *_MUST_SPECIFY}
        usages: list[tuple[Obj, dict[str, int]]] = []
        if pod_keys:
            usages = [(p, pod_usage(p)) for p in pods if counts_against_quota(p, self.now)]
        others: dict[str, list[tuple[Obj, dict[str, int]]]] = {}
        for key in keys - pod_keys:
            res = _counted(key, self.store)
            if res is not None and res.key not in others:
                others[res.key] = [(o, object_usage(res, o)) for o in self.store.items(res, self.namespace)]
        for quota in self.quotas:
            hard = _hard(quota)
            used = dict.fromkeys(hard, 0)
            for rows in (usages, *others.values()):
                for obj, usage in rows:
                    if not _matches_row(quota, obj, rows is usages):
                        continue
                    for key, amount in usage.items():
                        if key in used:
                            used[key] += amount
            self.used[str(quota["metadata"].get("name"))] = used

    def status(self, quota: Obj) -> Obj:
        """The status the quota controller writes: hard as given, used in hard's format, keyed as hard."""
        hard_text = (quota.get("spec") or {}).get("hard") or {}
        used = self.used.get(str(quota["metadata"].get("name")), {})
        return {
            "hard": dict(hard_text),
            "used": {key: render(used.get(key, 0), binary(hard_text.get(key))) for key in hard_text},
        }

    def check(self, res: ResourceType, obj: Obj) -> None:
        """403 Forbidden if creating `obj` would leave a quota unsatisfied; nothing is charged."""
        if not self.quotas:
            return
        meta = obj.get("metadata") or {}
        name = str(meta.get("name") or meta.get("generateName") or "")
        delta = object_usage(res, obj)
        matching = [q for q in self.quotas if _matches(q, res, obj)]
        if res is PODS:
            for quota in matching:
                required = [key for key in _hard(quota) if key in _MUST_SPECIFY]
                missing = _missing(obj, required) if required else ""
                if missing:
                    raise _forbidden(res, name, f"failed quota: {quota['metadata']['name']}: must specify {missing}")
        for quota in matching:
            hard = _hard(quota)
            requested = {key: amount for key, amount in delta.items() if key in hard}
            used = self.used.get(str(quota["metadata"].get("name")), {})
            exceeded = sorted(key for key in requested if used.get(key, 0) + requested[key] > hard[key])
            if exceeded:
                text = (quota.get("spec") or {}).get("hard") or {}
                raise _forbidden(
                    res,
                    name,
                    f"exceeded quota: {quota['metadata']['name']}, "
                    f"requested: {pretty({k: requested[k] for k in exceeded}, text)}, "
                    f"used: {pretty({k: used.get(k, 0) for k in exceeded}, text)}, "
                    f"limited: {pretty({k: hard[k] for k in exceeded}, text)}",
                )

    def charge(self, res: ResourceType, obj: Obj) -> None:
        """Count an object just created (so the next `check` in this ledger sees it)."""
        delta = object_usage(res, obj)
        for quota in self.quotas:
            if _matches(quota, res, obj):
                used = self.used.setdefault(str(quota["metadata"].get("name")), {})
                for key in used:
                    used[key] += delta.get(key, 0)


def _matches_row(quota: Obj, obj: Obj, is_pod: bool) -> bool:
    return _matches(quota, PODS, obj) if is_pod else not (quota.get("spec") or {}).get("scopes")


def _counted(key: str, store: Store) -> ResourceType | None:
    """The resource an object-count key counts (`count/deployments.apps`, `services`, a custom resource's
    `count/journalentries.incident-response.dev`), or None."""
    if key.startswith("count/"):
        wanted = key[len("count/") :]
        return BY_KEY.get(wanted) or next(
            (res for crd in store.items(CRDS) if (res := resource_type(crd)) is not None and res.key == wanted), None
        )
    if key == "requests.storage":
        return PVCS
    return BY_KEY.get(_OBJECT_COUNTS.get(key, ""))


def _forbidden(res: ResourceType, name: str, why: str) -> errors.ApiError:
    return errors.ApiError(
        403,
        "Forbidden",
        f'{errors.qualified(res.plural, res.group)} "{name}" is forbidden: {why}',
        kind=res.plural,
        name=name,
        group=res.group,
    )


def admit(store: Store, res: ResourceType, obj: Obj) -> None:
    """The ResourceQuota admission plugin on a create (dry runs too): 403 when a quota would be exceeded."""
    namespace = (obj.get("metadata") or {}).get("namespace")
    if not res.namespaced or not namespace or res.virtual:
        return
    Ledger(store, str(namespace), store.clock()).check(res, obj)

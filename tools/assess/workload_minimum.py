"""The available minimum of a Deployment, StatefulSet or DaemonSet, read the same way for every kind.

The ranking's "below_minimum" means fewer pods available than the workload's owners accept losing: what its rolling
update may take down at once, or what a PodDisruptionBudget over its pods promises, whichever is stricter.
  Deployment   replicas - rollingUpdate.maxUnavailable (default 25%, rounded down as the controller does)
  StatefulSet  replicas - rollingUpdate.maxUnavailable (default 1: the controller replaces one pod at a time)
  DaemonSet    desiredNumberScheduled - rollingUpdate.maxUnavailable (default 1; a percentage rounds up, as the
               DaemonSet controller rounds it)
  any kind     a PodDisruptionBudget selecting its pods: minAvailable (a percentage rounds up), or the pods wanted
               minus its maxUnavailable
An OnDelete StatefulSet or DaemonSet takes the default of its kind (its owners replace one pod at a time too).

Layer: tools.assess.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from incident_response.tools.k8s import labels
from incident_response.tools.k8s.views import meta

KINDS = {"deployment": "deployments", "statefulset": "statefulsets", "daemonset": "daemonsets"}


@dataclass
class Availability:
    kind: str
    name: str
    wanted: int
    available: int
    minimum: int
    why: str  # where the minimum comes from: "maxUnavailable 1", "PodDisruptionBudget db: minAvailable 2"

    def short(self) -> bool:
        return self.wanted > 0 and self.available < self.minimum

    def unit(self) -> str:
        return "pods" if self.kind == "daemonset" else "replicas"


def scaled(value: Any, total: int, default: int, *, round_up: bool) -> int:
    """An int-or-percent field as a count of `total` (the API's GetScaledValueFromIntOrPercent)."""
    if value is None:
        return default
    if isinstance(value, str) and value.endswith("%"):
        try:
            share = total * int(value[:-1]) / 100
        except ValueError:
            return default
        return math.ceil(share) if round_up else math.floor(share)
    try:
        return int(value)
    except (TypeError, ValueError):
        return default


def counts(kind: str, workload: dict[str, Any]) -> tuple[int, int]:
    """(pods wanted, pods available) as the workload's controller reports them."""
    spec, status = workload.get("spec") or {}, workload.get("status") or {}
    if kind == "daemonset":
        return int(status.get("desiredNumberScheduled") or 0), int(status.get("numberAvailable") or 0)
    replicas = spec.get("replicas", 1)
    wanted = replicas if isinstance(replicas, int) else 1
    if kind == "statefulset" and "availableReplicas" not in status:
        return wanted, int(status.get("readyReplicas") or 0)  # an API server older than availableReplicas
    return wanted, int(status.get("availableReplicas") or 0)


def rollout_allowance(kind: str, workload: dict[str, Any], wanted: int) -> int:
    """How many pods its rolling update may take down at once."""
    spec = workload.get("spec") or {}
    if kind == "deployment":
        value = ((spec.get("strategy") or {}).get("rollingUpdate") or {}).get("maxUnavailable", "25%")
        return scaled(value, wanted, 0, round_up=False)
    value = ((spec.get("updateStrategy") or {}).get("rollingUpdate") or {}).get("maxUnavailable")
    return scaled(value, wanted, 1, round_up=kind == "daemonset")


def budget_minimum(pdb: dict[str, Any], wanted: int) -> int:
    spec = pdb.get("spec") or {}
    if spec.get("minAvailable") is not None:
        return scaled(spec["minAvailable"], wanted, 0, round_up=True)
    if spec.get("maxUnavailable") is not None:
        return wanted - scaled(spec["maxUnavailable"], wanted, wanted, round_up=True)
    return 0


def availability(kind: str, workload: dict[str, Any], pdbs: list[dict[str, Any]]) -> Availability:
    wanted, available = counts(kind, workload)
    allowance = rollout_allowance(kind, workload, wanted)
    minimum, why = wanted - allowance, f"maxUnavailable {allowance}"
    template = ((workload.get("spec") or {}).get("template") or {}).get("metadata") or {}
    pod_labels = template.get("labels") or {}
    for pdb in pdbs:
        selector = labels.from_spec((pdb.get("spec") or {}).get("selector"))
        if not selector or not labels.matches(selector, pod_labels):
            continue
        floor = budget_minimum(pdb, wanted)
        if floor > minimum:
            spec = pdb.get("spec") or {}
            field = "minAvailable" if spec.get("minAvailable") is not None else "maxUnavailable"
            minimum, why = floor, f"PodDisruptionBudget {meta(pdb).name}: {field} {spec.get(field)}"
    return Availability(kind, str(meta(workload).name), wanted, available, max(minimum, 0), why)


def availabilities(workloads: dict[str, list[dict[str, Any]]]) -> list[Availability]:
    """Every Deployment, StatefulSet and DaemonSet read (`workloads` by resource, PDBs under poddisruptionbudgets)."""
    pdbs = workloads.get("poddisruptionbudgets", [])
    found = []
    for kind, resource in KINDS.items():
        found += [availability(kind, workload, pdbs) for workload in workloads.get(resource, [])]
    return found

"""What deleting or evicting particular pods costs beyond "a replacement starts" (review-assist F24): the only
ready replica of its workload (the workload is down until the replacement is Ready; no budget stops a delete, and
none guards a drain when no PodDisruptionBudget selects it) and a ReadWriteOnce claim (the volume must detach from
the old node and attach on the new one before the replacement can start).

Layer: tools.mitigate.
"""

from __future__ import annotations

from typing import Any

from incident_response.tools.core import errors
from incident_response.tools.core.plan_warnings import PlanWarning, warning
from incident_response.tools.k8s import backends, labels
from incident_response.tools.k8s.views import meta
from incident_response.tools.kube.client import Kube

MAX_NOTED = 10  # pods a drain notes one by one; the rest are counted
RWO = ("ReadWriteOnce", "ReadWriteOncePod")
WORKLOADS = {"ReplicaSet": "replicasets", "StatefulSet": "statefulsets", "Deployment": "deployments"}


def _get(
    kube: Kube, cache: dict[tuple[str, str, str], dict[str, Any] | None], resource: str, ns: str, name: str
) -> Any:
    key = (resource, ns, name)
    if key not in cache:
        try:
            cache[key] = kube.get(resource, name, ns)
        except (errors.NotFound, errors.Forbidden):
            cache[key] = None
    return cache[key]


def workload_of(kube: Kube, cache: dict[Any, Any], pod: dict[str, Any]) -> tuple[str, dict[str, Any]] | None:
    """('deployment web', its object) for a ReplicaSet's pod (the Deployment owning it), or a StatefulSet's."""
    ref = backends.controller_of(pod)
    ns = str(meta(pod).namespace)
    if ref is None or (resource := WORKLOADS.get(str(ref.get("kind")))) is None:
        return None
    owner = _get(kube, cache, resource, ns, str(ref.get("name")))
    if owner is None:
        return None
    if ref.get("kind") == "ReplicaSet" and (up := backends.controller_of(owner)) and up.get("kind") == "Deployment":
        deploy = _get(kube, cache, "deployments", ns, str(up.get("name")))
        if deploy is not None:
            return f"deployment {up.get('name')}", deploy
    return f"{str(ref.get('kind')).lower()} {ref.get('name')}", owner


def guarded(pod: dict[str, Any], pdbs: list[dict[str, Any]]) -> bool:
    """Whether a PodDisruptionBudget of the pod's namespace selects it (its own warnings then say what it allows)."""
    ns, own = meta(pod).namespace, labels.labels_of(pod)
    return any(
        meta(pdb).namespace == ns and labels.matches(labels.from_spec((pdb.get("spec") or {}).get("selector")), own)
        for pdb in pdbs
        if (pdb.get("spec") or {}).get("selector") is not None
    )


def disruption_notes(
    kube: Kube, pods: list[dict[str, Any]], pdbs: list[dict[str, Any]] | None = None
) -> list[PlanWarning]:
    """One line per cost, naming the pod. `pdbs`: for a drain (evictions), pods a budget selects get no
    only-replica line (the budget's own warning speaks); None for a delete, which no budget limits."""
    cache: dict[Any, Any] = {}
    notes: list[PlanWarning] = []
    leaving_ready: dict[str, list[str]] = {}
    owners: dict[str, dict[str, Any]] = {}
    for pod in pods[:MAX_NOTED]:
        name, ns = backends.name_of(pod), str(meta(pod).namespace)
        found = workload_of(kube, cache, pod) if backends.ready(pod) else None
        if found is not None and (pdbs is None or not guarded(pod, pdbs)):
            leaving_ready.setdefault(found[0], []).append(name)
            owners[found[0]] = found[1]
        for volume in (pod.get("spec") or {}).get("volumes") or []:
            claim = (volume.get("persistentVolumeClaim") or {}).get("claimName")
            pvc = _get(kube, cache, "persistentvolumeclaims", ns, str(claim)) if claim else None
            modes = ((pvc or {}).get("spec") or {}).get("accessModes") or []
            if any(mode in RWO for mode in modes):
                node = (pod.get("spec") or {}).get("nodeName")
                notes.append(
                    warning(
                        "volume",
                        f"Pod {name} mounts PVC {claim} ({'/'.join(m for m in modes if m in RWO)}): the volume must "
                        f"detach from {node} and attach on the new node before its replacement starts.",
                    )
                )
    for workload, names in leaving_ready.items():
        ready = int((owners[workload].get("status") or {}).get("readyReplicas") or 0)
        if ready > len(names):
            continue
        short, down = workload.split(" ", 1)[1], "is down until"
        if len(names) == 1:
            line = f"Pod {names[0]} is the only ready replica of {workload}: {short} {down} its replacement is Ready."
        else:
            line = f"Pods {', '.join(names)} are every ready replica of {workload}: {short} {down} one is Ready again."
        notes.insert(0, warning("last_replica", line))
    if len(pods) > MAX_NOTED:
        notes.append(warning("unchecked", f"({len(pods) - MAX_NOTED} more pods not checked for these costs.)"))
    return notes

"""What the assessment reads of StatefulSets and DaemonSets: which rolled out in the last 2 hours, from their
ControllerRevisions, so a bad StatefulSet or DaemonSet update is found like a bad deployment.

Layer: tools.assess.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from incident_response.tools.k8s import controller_revisions as cr
from incident_response.tools.k8s.quantity import parse_time
from incident_response.tools.k8s.workloads import RECENT_ROLLOUT_SECONDS, images_of
from incident_response.tools.kube.client import Kube
from incident_response.tools.kube.paging import list_all
from incident_response.tools.playbook.decision import RecentRollout

Optional = Callable[[Callable[[], list[dict[str, Any]] | None], str, list[str]], list[dict[str, Any]] | None]


def read_workloads(kube: Kube, namespace: str, optional: Optional, blind: list[str]) -> dict[str, list[dict[str, Any]]]:
    """StatefulSets, DaemonSets, their ControllerRevisions and the PodDisruptionBudgets; a read these credentials may
    not make is noted."""

    def reader(resource: str) -> Callable[[], list[dict[str, Any]] | None]:
        return lambda: list_all(kube, resource, namespace).items

    out: dict[str, list[dict[str, Any]]] = {}
    for resource, what in (
        ("statefulsets", "statefulsets"),
        ("daemonsets", "daemonsets"),
        ("controllerrevisions", "controller revisions"),
        ("poddisruptionbudgets", "pod disruption budgets"),  # the available minimum its owners promise
    ):
        out[resource] = optional(reader(resource), what, blind) or []
    return out


def workload_kinds(read: dict[str, list[dict[str, Any]]]) -> dict[str, str]:
    """Component name -> kind, for the components that are StatefulSets or DaemonSets."""
    return {
        str((w.get("metadata") or {}).get("name")): kind
        for kind, resource in (("statefulset", "statefulsets"), ("daemonset", "daemonsets"))
        for w in read.get(resource, [])
    }


def unavailable(kind: str, workload: dict[str, Any]) -> int:
    spec, status = workload.get("spec") or {}, workload.get("status") or {}
    if kind == "daemonset":
        return int(status.get("numberUnavailable") or 0)
    replicas = spec.get("replicas", 1)
    return max((replicas if isinstance(replicas, int) else 1) - int(status.get("readyReplicas") or 0), 0)


def recent_workload_rollouts(
    read: dict[str, list[dict[str, Any]]], failing: dict[str, list[str]], now: datetime
) -> list[RecentRollout]:
    """StatefulSets and DaemonSets whose current revision was created in the last 2 hours. A revision reused by a
    rollback keeps its first creation time, so a rolled-back workload does not count as recently changed."""
    found = []
    for kind, resource in (("statefulset", "statefulsets"), ("daemonset", "daemonsets")):
        for workload in read.get(resource, []):
            owned = cr.owned_revisions(workload, read.get("controllerrevisions", []))
            current = cr.current_revision(workload, owned)
            if current is None:
                continue
            created = parse_time((current.get("metadata") or {}).get("creationTimestamp"))
            times = [parse_time((r.get("metadata") or {}).get("creationTimestamp")) for r in owned]
            if created is None or any(t is not None and t > created for t in times):
                continue
            seconds = (now - created).total_seconds()
            if seconds > RECENT_ROLLOUT_SECONDS:
                continue
            earlier = [r for r in owned if cr.number(r) < cr.number(current)]
            name = str(workload["metadata"]["name"])
            found.append(
                RecentRollout(
                    deployment=name,
                    kind=kind,
                    revision=cr.number(current),
                    minutes_ago=max(0, int(seconds // 60)),
                    images=images_of((workload.get("spec") or {}).get("template") or {}),
                    previous_images=images_of(cr.template_of(earlier[-1])) if earlier else [],
                    failing_pods=len(failing.get(name, [])),
                    unavailable_replicas=unavailable(kind, workload),
                )
            )
    return found

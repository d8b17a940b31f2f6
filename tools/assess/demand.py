"""A deployment's Demand (tools/playbook/sizing.py) from one read of its namespace, plus the node room read, so
assess_namespace's next call and evaluate_decision's SCALE tree size from the same facts.

Layer: tools.assess.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from incident_response.tools.engine import sizing_reads
from incident_response.tools.k8s import backends, labels
from incident_response.tools.k8s.workloads import current_replicas, managing_hpa, template_spec
from incident_response.tools.playbook.demand_facts import demand_of, hpa_count
from incident_response.tools.playbook.sizing import Demand

if TYPE_CHECKING:
    from incident_response.tools.assess.observation import Observation
    from incident_response.tools.kube.client import Kube


class NodeRoom:
    """The reads a sizing needs beyond the namespace read, made on first use (only a SCALE decision needs them):
    the nodes and the pods holding room on them, once; a deployment's ScalingReplicaSet events."""

    def __init__(self, kube: Kube) -> None:
        self.kube = kube
        self._room: sizing_reads.Room | None = None
        self._read = False
        self._events: dict[tuple[str, str], list[dict[str, Any]]] = {}

    def get(self) -> sizing_reads.Room | None:
        if not self._read:
            self._room, self._read = sizing_reads.node_room(self.kube), True
        return self._room

    def made(self) -> bool:
        """Whether the room was read already (get() then costs nothing)."""
        return self._read

    def scale_events(self, namespace: str, deployment: str) -> list[dict[str, Any]]:
        key = (namespace, deployment)
        if key not in self._events:
            self._events[key] = sizing_reads.scale_events(self.kube, namespace, deployment)
        return self._events[key]


def demand_for(seen: Observation, name: str, room: NodeRoom | None) -> Demand | None:
    """What the namespace read shows about the load of deployment `name`, with the replicas that fit."""
    deploy = seen.deployment(name)
    if deploy is None:
        return None
    pods = [p for p in seen.pods_of(name) if not backends.terminating(p)]
    hpa = managing_hpa(seen.hpas, name)
    selector = labels.from_spec((deploy.get("spec") or {}).get("selector"))
    fits = sizing_reads.fits_of(room.get(), seen.namespace, selector, template_spec(deploy)) if room else None
    return demand_of(
        deploy,
        pods,
        seen.usage,
        seen.replicasets,
        hpa=hpa_count(hpa) if hpa is not None else None,
        fits=fits,
        bound=sizing_reads.replica_bound(current_replicas(deploy)),
        events=room.scale_events(seen.namespace, name) if room else None,
    )

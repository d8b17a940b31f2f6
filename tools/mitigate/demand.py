"""A deployment's Demand read by a planner (scale_deployment, override_hpa, restoring a scale), for the same sizing
assess_namespace and evaluate_decision use: its pods' metrics, its ReplicaSets, node room.

Layer: tools.mitigate.
"""

from __future__ import annotations

from typing import Any

from incident_response.tools.core import errors
from incident_response.tools.engine import sizing_reads
from incident_response.tools.k8s import labels
from incident_response.tools.k8s.usage import pod_usage_rows
from incident_response.tools.k8s.views import meta
from incident_response.tools.k8s.workloads import current_replicas, deployment_selector, template_spec
from incident_response.tools.kube.client import Kube
from incident_response.tools.playbook.demand_facts import demand_of, hpa_count
from incident_response.tools.playbook.sizing import Demand


def read_demand(
    kube: Kube,
    deployment: dict[str, Any],
    pods: list[dict[str, Any]],
    hpa: dict[str, Any] | None = None,
    *,
    room: sizing_reads.Room | None = None,
) -> Demand:
    """What the cluster shows about the deployment's load; `pods` are its pods (not terminating), read already;
    `room` the node room read already (else read here)."""
    namespace = str(meta(deployment).namespace)
    selector = deployment_selector(deployment)
    usage = pod_usage_rows(pods, sizing_reads.pod_metrics(kube, namespace, selector))
    try:
        replicasets = kube.list("replicasets", namespace, label_selector=selector).items
    except errors.Forbidden:
        replicasets = []
    fits = sizing_reads.fits_of(
        room if room is not None else sizing_reads.node_room(kube),
        namespace,
        labels.from_spec((deployment.get("spec") or {}).get("selector")),
        template_spec(deployment),
    )
    return demand_of(
        deployment,
        pods,
        usage,
        replicasets,
        hpa=hpa_count(hpa) if hpa is not None else None,
        fits=fits,
        bound=sizing_reads.replica_bound(current_replicas(deployment)),
        events=sizing_reads.scale_events(kube, namespace, str(meta(deployment).name)),
    )

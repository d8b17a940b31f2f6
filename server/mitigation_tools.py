"""The mitigation planners and the temporary-measure tools, in the order the server lists them.

Every planner only reads and dry-runs; the cluster changes only through confirm_command (their annotations come
from server/catalog.py: kind "plan").

Layer: server (MCP wiring).
"""

from __future__ import annotations

from incident_response.tools.mitigate import (
    canary,
    helm_rollback,
    isolation,
    measures,
    memory,
    nodes,
    pods_delete,
    rollback_workload,
    scaling,
    traffic,
)

PLANNERS = (
    rollback_workload.rollback_workload,
    helm_rollback.rollback_helm_release,
    scaling.scale_deployment,
    scaling.override_hpa,
    memory.set_memory_limit,
    isolation.remove_pods_from_service,
    isolation.isolate_network,
    nodes.cordon_node,
    nodes.uncordon_node,
    nodes.drain_node,
    pods_delete.delete_pod,
    traffic.patch_service_selector,
    traffic.switch_ingress_backend,
    canary.shift_traffic,
    canary.rollback_canary,
    measures.restore_measure,
)

MITIGATION_TOOLS = (*PLANNERS, measures.list_temporary_measures)

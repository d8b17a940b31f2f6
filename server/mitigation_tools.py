"""Registers the mitigation planners of issue 5 (and the temporary-measure tools) through `app.register`.

Every planner only reads and dry-runs; the cluster changes only through confirm_command, so they carry the
server's PLANNING annotations (read-only, not idempotent: each call issues a new token).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from incident_response.tools.engine.deps import Deps
from incident_response.tools.mitigate import (
    canary,
    helm_rollback,
    isolation,
    measures,
    memory,
    nodes,
    pods_delete,
    scaling,
    traffic,
)

if TYPE_CHECKING:
    from incident_response.server.app import ToolSet

PLANNERS = (
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


def register_mitigations(tools: ToolSet, deps: Deps) -> None:
    # Imported here: app.py imports this module, and its register() is the one path every tool goes through.
    from incident_response.server.app import PLANNING, READ_ONLY, register

    for fn in PLANNERS:
        register(tools, deps, fn, PLANNING)
    register(tools, deps, measures.list_temporary_measures, READ_ONLY)

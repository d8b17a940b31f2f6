"""What the server says about each tool besides its schema: a human title, its toolset, what kind of tool it is (which
decides its annotations and the profiles that list it) and whether it returns untrusted text. Names only: nothing
here imports a tool or the MCP SDK, so the CLI can validate `--toolsets` without loading them.

Layer: server (MCP wiring).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from incident_response.tools.engine.deps import Mode

Toolset = Literal["assess", "decide", "mitigate", "confirm", "incident"]
TOOLSETS: tuple[Toolset, ...] = ("assess", "decide", "mitigate", "confirm", "incident")

# read: reads the cluster or the journal. plan: validates, dry-runs and records a pending command (never changes the
# cluster). confirm: runs a pending command. record: writes the server's own journal or pending store.
Kind = Literal["read", "plan", "confirm", "record"]


@dataclass(frozen=True)
class Entry:
    title: str
    toolset: Toolset
    kind: Kind = "read"
    # Returns text the cluster's users or workloads wrote (logs, event messages, change-causes): the model must not
    # take it as instructions.
    untrusted_text: bool = False


CATALOG: dict[str, Entry] = {
    "assess_namespace": Entry("Assess a namespace", "assess", untrusted_text=True),
    "list_pods": Entry("List pods", "assess"),
    "rollout_history": Entry("Rollout history", "assess", untrusted_text=True),
    "rollout_status": Entry("Watch a rollout", "assess"),
    "top_pods": Entry("Pod CPU and memory", "assess"),
    "top_nodes": Entry("Node CPU and memory", "assess"),
    "list_hpas": Entry("List autoscalers", "assess"),
    "get_endpoints": Entry("Service endpoints", "assess"),
    "list_events": Entry("List events", "assess", untrusted_text=True),
    "get_logs": Entry("Container logs", "assess", untrusted_text=True),
    "helm_history": Entry("Helm release history", "assess", untrusted_text=True),
    "server_info": Entry("Server mode and permissions", "assess"),
    "check_rollback_safety": Entry("Rollback safety checklist", "decide"),
    "evaluate_decision": Entry("Walk a decision tree", "decide", untrusted_text=True),
    "rollback_deployment": Entry("Plan a deployment rollback", "mitigate", "plan"),
    "rollback_workload": Entry("Plan a StatefulSet or DaemonSet rollback", "mitigate", "plan"),
    "rollback_helm_release": Entry("Plan a Helm rollback", "mitigate", "plan"),
    "scale_deployment": Entry("Plan scaling a deployment", "mitigate", "plan"),
    "override_hpa": Entry("Plan an autoscaler override", "mitigate", "plan"),
    "set_memory_limit": Entry("Plan a memory limit change", "mitigate", "plan"),
    "remove_pods_from_service": Entry("Plan removing pods from a service", "mitigate", "plan"),
    "isolate_network": Entry("Plan isolating pods", "mitigate", "plan"),
    "cordon_node": Entry("Plan cordoning a node", "mitigate", "plan"),
    "uncordon_node": Entry("Plan uncordoning a node", "mitigate", "plan"),
    "drain_node": Entry("Plan draining a node", "mitigate", "plan"),
    "delete_pod": Entry("Plan deleting a pod", "mitigate", "plan"),
    "patch_service_selector": Entry("Plan a service selector change", "mitigate", "plan"),
    "switch_ingress_backend": Entry("Plan an ingress backend switch", "mitigate", "plan"),
    "shift_traffic": Entry("Plan a canary traffic shift", "mitigate", "plan"),
    "rollback_canary": Entry("Plan a canary rollback", "mitigate", "plan"),
    "restore_measure": Entry("Plan restoring a temporary measure", "mitigate", "plan"),
    "list_temporary_measures": Entry("List temporary measures", "mitigate"),
    "confirm_command": Entry("Run a confirmed command", "confirm", "confirm"),
    "cancel_command": Entry("Cancel a pending command", "confirm", "record"),
    "list_pending_commands": Entry("List pending commands", "confirm"),
    "declare_incident": Entry("Declare or update the incident", "incident", "record"),
    "verify_recovery": Entry("Verify recovery", "incident", untrusted_text=True),
    "incident_handoff": Entry("Incident handoff", "incident", untrusted_text=True),
}

# Listed whatever the toolsets: what the server is and may do is the first thing a client needs.
ALWAYS_LISTED = frozenset({"server_info"})


def read_only(name: str, mode: Mode) -> bool:
    """True when the tool changes nothing. A planner records a pending command (not the cluster); in safe mode it only
    advises (no token), so it is read-only there."""
    entry = CATALOG[name]
    return entry.kind == "read" or (entry.kind == "plan" and mode == "safe")


def idempotent(name: str) -> bool:
    """Calling it twice does what calling it once does: reads, and cancelling (the second finds it cancelled)."""
    return CATALOG[name].kind == "read" or name == "cancel_command"


def listed(name: str, mode: Mode, toolsets: tuple[Toolset, ...], read_only: bool) -> bool:
    """Whether a server in `mode` with these toolsets (empty: all) and profile lists the tool. Safe mode never
    lists confirm_command: it could only refuse there."""
    entry = CATALOG[name]
    if mode == "safe" and entry.kind == "confirm":
        return False
    if read_only and entry.kind != "read":
        return False
    return not toolsets or entry.toolset in toolsets or name in ALWAYS_LISTED


def parse_toolsets(values: list[str]) -> tuple[Toolset, ...]:
    """`--toolsets assess,decide --toolsets incident` -> ("assess", "decide", "incident"); ValueError names a typo."""
    chosen: list[Toolset] = []
    for value in values:
        for name in (part.strip() for part in value.split(",")):
            if not name:
                continue
            match = next((t for t in TOOLSETS if t == name), None)
            if match is None:
                raise ValueError(f"unknown toolset {name!r}: choose from {', '.join(TOOLSETS)}")
            if match not in chosen:
                chosen.append(match)
    return tuple(chosen)

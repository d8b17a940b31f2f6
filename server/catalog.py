"""The tool catalogue: every tool the server has, in the order it lists them, with the module its function lives in,
a human title, its toolset, what kind of tool it is (which decides its annotations and the profiles that list it)
and whether it returns untrusted text. A new tool is a function in tools/ plus an entry here (then regenerate
server/tool_manifest.json). Names only: nothing here imports a tool or the MCP SDK, so the CLI can validate
`--toolsets` and the handshake can list tools without loading them (server/registration.py imports the modules).

Layer: server (MCP wiring).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

from incident_response.tools.core.modes import Mode

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
    # What the model reads: when to use the tool, in a sentence or two (the playbook, SKILL.md, says the rest).
    description: str = ""
    # Argument descriptions the model reads, only where the name does not say it all; the tool's own Field
    # descriptions stay in the code for its readers.
    fields: Mapping[str, str] = field(default_factory=dict)
    # Where the tool function is, under incident_response: the function has the tool's name (server.confirmation's
    # three are built per server, closed over its Deps).
    module: str = field(kw_only=True)


SELECTOR = "e.g. app=web"
LARGE = "past 10x or the ceiling"
WORKLOAD = "workload name, of kind"

CATALOG: dict[str, Entry] = {
    "assess_namespace": Entry(
        "Assess a namespace", "assess", untrusted_text=True,
        description="Call first: what fails, the ONE action to take, its evidence and the next tool.",
        module="tools.assess.namespace",
    ),
    "list_pods": Entry(
        "List pods", "assess", description="Pods with kubectl's STATUS and last termination.",
        fields={"selector": SELECTOR},
        module="tools.assess.pods",
    ),
    "rollout_history": Entry(
        "Rollout history", "assess", untrusted_text=True,
        description="A recent deploy? Which revision was good?",
        fields={"deployment": WORKLOAD, "revision": "show its diff"},
        module="tools.assess.rollouts",
    ),
    "rollout_status": Entry(
        "Watch a rollout", "assess", description="Wait for a rollout to finish.",
        fields={"deployment": WORKLOAD},
        module="tools.assess.rollouts",
    ),
    "top_pods": Entry(
        "Pod CPU and memory", "assess", description="Usage against limits: is it load?",
        fields={"selector": SELECTOR},
        module="tools.assess.metrics",
    ),
    "top_nodes": Entry(
        "Node CPU and memory", "assess", description="Usage and allocation: room to scale?",
        module="tools.assess.metrics",
    ),
    "list_hpas": Entry(
        "List HPAs", "assess", description="Flags those pinned at max.",
        module="tools.assess.hpas",
    ),
    "get_endpoints": Entry(
        "Service endpoints", "assess", description="Does a Service's traffic reach ready pods?",
        module="tools.assess.endpoints",
    ),
    "list_events": Entry(
        "List events", "assess", untrusted_text=True, description="Events, repeats grouped: why pods fail, did "
        "errors stop?", fields={"object": "e.g. pod/web-1"},
        module="tools.assess.events",
    ),
    "get_logs": Entry(
        "Container logs", "assess", untrusted_text=True, description="A container's log tail: why it crashes.",
        fields={"pod_or_deployment": "a pod or deployment/NAME", "previous": "the crashed instance"},
        module="tools.assess.logs",
    ),
    "helm_history": Entry(
        "Helm history", "assess", untrusted_text=True,
        description="Revisions (no values).",
        module="tools.assess.helm",
    ),
    "server_info": Entry(
        "Server info", "assess", description="Mode, cluster and what this server may do.",
        module="tools.assess.identity",
    ),
    "check_rollback_safety": Entry(
        "Rollback safety", "decide", description="Before a rollback (any kind): CLEAR, CHECK_FIRST or "
        "BLOCKED.",
        module="tools.assess.workload_safety",
    ),
    "evaluate_decision": Entry(
        "Walk a decision tree", "decide", untrusted_text=True,
        description="After assess_namespace: PROCEED names the tool to plan; NEEDS_ANSWER: ask the human, pass it "
        "back.",
        module="tools.decide.evaluate",
    ),
    "rollback_deployment": Entry(
        "Plan a deployment rollback", "mitigate", "plan", description="A recent rollout broke it: plan the undo.",
        module="tools.mitigate.rollback",
    ),
    "rollback_workload": Entry(
        "Plan a workload rollback", "mitigate", "plan",
        description="The same for a StatefulSet or DaemonSet.",
        module="tools.mitigate.rollback_workload",
    ),
    "pause_rollout": Entry(
        "Plan a rollout pause", "mitigate", "plan", description="Halt a bad rollout still under way.",
        module="tools.mitigate.pause",
    ),
    "rollback_helm_release": Entry(
        "Plan a Helm rollback", "mitigate", "plan", description="A helm upgrade broke it: plan the rollback.",
        module="tools.mitigate.helm_rollback",
    ),
    "scale_deployment": Entry(
        "Plan scaling a deployment", "mitigate", "plan", description="Healthy pods overwhelmed, no HPA: plan more.",
        fields={"allow_large": LARGE},
        module="tools.mitigate.scaling",
    ),
    "override_hpa": Entry(
        "Plan an HPA override", "mitigate", "plan", description="An HPA pinned at max: plan new bounds.",
        fields={"allow_large": LARGE},
        module="tools.mitigate.scaling",
    ),
    "set_memory_limit": Entry(
        "Plan a memory limit", "mitigate", "plan", description="OOMKilled pods: plan a higher limit.",
        fields={"limit": "e.g. 768Mi"},
        module="tools.mitigate.workload_memory",
    ),
    "remove_pods_from_service": Entry(
        "Plan removing pods from a service", "mitigate", "plan",
        description="Take bad pods out of a Service, kept for debugging.", fields={"selector": "the pods"},
        module="tools.mitigate.isolation",
    ),
    "isolate_network": Entry(
        "Plan isolating pods", "mitigate", "plan", description="Deny all ingress to the selected pods.",
        fields={"selector": "the pods"},
        module="tools.mitigate.isolation",
    ),
    "cordon_node": Entry(
        "Plan cordoning a node", "mitigate", "plan", description="A failing node: no new pods.",
        module="tools.mitigate.nodes",
    ),
    "uncordon_node": Entry(
        "Plan uncordoning a node", "mitigate", "plan", description="A node healthy again.",
        module="tools.mitigate.nodes",
    ),
    "drain_node": Entry(
        "Plan draining a node", "mitigate", "plan", description="Move a failing node's pods elsewhere.",
        fields={"include_outside_allow_list": "the human agreed"},
        module="tools.mitigate.nodes",
    ),
    "delete_pod": Entry(
        "Plan deleting a pod", "mitigate", "plan", description="Restart one stuck pod.",
        fields={"force": "Terminating on a NotReady node"},
        module="tools.mitigate.pods_delete",
    ),
    "patch_service_selector": Entry(
        "Plan a selector change", "mitigate", "plan", description="Route a Service away from bad pods.",
        fields={"selector": "the whole new one"},
        module="tools.mitigate.traffic",
    ),
    "switch_ingress_backend": Entry(
        "Plan an ingress switch", "mitigate", "plan", description="Point an ingress path at a healthy "
        "Service.", fields={"port": "default: keep"},
        module="tools.mitigate.traffic",
    ),
    "shift_traffic": Entry(
        "Plan a traffic shift", "mitigate", "plan", description="Move a Service's traffic to a healthy "
        "deployment.", fields={"allow_large": LARGE},
        module="tools.mitigate.canary",
    ),
    "rollback_canary": Entry(
        "Plan a canary rollback", "mitigate", "plan", description="Pull a failing <app>-canary back to <app>-stable.",
        fields={"allow_large": LARGE},
        module="tools.mitigate.canary",
    ),
    "restore_measure": Entry(
        "Plan a measure's restore", "mitigate", "plan",
        description="Undo a measure once its cause is gone.",
        fields={"restore_despite_condition": "even if its cause remains"},
        module="tools.mitigate.measures",
    ),
    "list_temporary_measures": Entry(
        "List temporary measures", "mitigate", description="Measures in place, with restore commands.",
        module="tools.mitigate.measures",
    ),
    "confirm_command": Entry(
        "Run a confirmed command", "confirm", "confirm", description="Run an approved plan by its token, once.",
        module="server.confirmation",
    ),
    "cancel_command": Entry(
        "Cancel a plan", "confirm", "record", description="Withdraw a plan.",
        module="server.confirmation",
    ),
    "list_pending_commands": Entry(
        "List pending plans", "confirm", description="Plans awaiting approval.",
        module="server.confirmation",
    ),
    "declare_incident": Entry(
        "Declare the incident", "incident", "record",
        description="Declare once impact is known; update by incident_id.",
        fields={"severity": "SEV1 down, SEV2 core broken, SEV3 degraded, SEV4 no impact"},
        module="tools.incident.declare",
    ),
    "verify_recovery": Entry(
        "Verify recovery", "incident", untrusted_text=True, description="After each mitigation: recovered yet?",
        module="tools.assess.recovery",
    ),
    "incident_handoff": Entry(
        "Incident handoff", "incident", untrusted_text=True, description="For root-cause analysis.",
        module="tools.incident.handoff",
    ),
}  # fmt: skip

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

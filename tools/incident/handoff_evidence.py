"""The handoff's evidence: which tools were called, and the kubectl commands that repeat the key reads. Pure.

Layer: tools.incident.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from typing import Any

from incident_response.tools.core import commands
from incident_response.tools.engine.journal import ToolCall
from incident_response.tools.k8s.quantity import parse_time
from incident_response.tools.k8s.workloads import deployment_selector
from incident_response.tools.playbook.handoff_facts import BadRevision, ClusterFacts, clean, first_seen
from incident_response.tools.playbook.handoff_models import (
    MAX_COLLECTED,
    MAX_REPRODUCE,
    MAX_TOOLS,
    DeploymentState,
    Evidence,
    EvidenceItem,
    ToolUse,
)

# Calls about the incident itself, not evidence about the cluster.
NOT_EVIDENCE = ("declare_incident", "incident_handoff")


def tool_usage(calls: list[ToolCall]) -> list[ToolUse]:
    """Per tool, in order of first use: how often it was called and how often it failed."""
    usage: dict[str, ToolUse] = {}
    for call in calls:
        if call.tool in NOT_EVIDENCE:
            continue
        entry = usage.setdefault(call.tool, ToolUse(tool=call.tool, calls=0, errors=0))
        entry.calls += 1
        entry.errors += call.status == "error"
    return list(usage.values())[:MAX_TOOLS]


def text(arguments: dict[str, Any], key: str) -> str | None:
    value = arguments.get(key)
    return value if isinstance(value, str) and value else None


def number(arguments: dict[str, Any], key: str) -> int | None:
    value = arguments.get(key)
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def replay(call: ToolCall, deployments: frozenset[str] = frozenset()) -> Iterator[list[str]]:
    """kubectl argv (without namespace and context) that reads what one read-only tool call read; `deployments` are
    the namespace's, for get_logs given a deployment's bare name (kubectl reads a bare name as a pod's)."""
    args = call.arguments
    if call.tool == "list_pods":
        selector = text(args, "selector")
        yield ["get", "pods", *(["-l", selector] if selector else []), "-o", "wide"]
    elif call.tool in ("rollout_history", "rollout_status") and text(args, "deployment"):
        verb = call.tool.removeprefix("rollout_")
        revision = number(args, "revision") if verb == "history" else None
        kind = text(args, "kind") if text(args, "kind") in ("statefulset", "daemonset") else "deployment"
        yield ["rollout", verb, f"{kind}/{args['deployment']}", *([f"--revision={revision}"] if revision else [])]
    elif call.tool == "list_events":
        fields = ["type=Warning"] if args.get("warnings_only") else []
        if text(args, "object"):
            fields.append(f"involvedObject.name={str(args['object']).rpartition('/')[2]}")
        yield ["get", "events", *(["--field-selector", ",".join(fields)] if fields else []), "--sort-by=.lastTimestamp"]
    elif call.tool == "get_logs" and text(args, "pod_or_deployment"):
        flags = [f"--tail={number(args, 'tail_lines') or 100}", "--timestamps"]
        flags += ["--previous"] if args.get("previous") is True else []
        flags += ["-c", str(args["container"])] if text(args, "container") else []
        target = str(args["pod_or_deployment"])
        yield ["logs", f"deployment/{target}" if target in deployments else target, *flags]
    elif call.tool == "top_pods":
        yield ["top", "pods", f"--sort-by={text(args, 'sort_by') or 'cpu'}"]
    elif call.tool == "list_hpas":
        yield ["get", "hpa"]
    elif call.tool == "get_endpoints" and text(args, "service"):
        yield ["get", "endpoints", str(args["service"])]


def reproduce(
    namespace: str,
    context: str | None,
    calls: list[ToolCall],
    facts: ClusterFacts,
    states: list[DeploymentState],
    bad: list[BadRevision],
) -> list[str]:
    """The playbook's handoff reads for the deployments first, then the reads the tools made, deduplicated."""
    argvs: list[list[str]] = [["get", "events", "--field-selector", "type=Warning", "--sort-by=.lastTimestamp"]]
    for name, deploy in facts.deployments.items():
        selector = deployment_selector(deploy)
        ref = f"{facts.kinds.get(name, 'deployment')}/{name}"
        argvs.append(["get", "pods", *(["-l", selector] if selector else []), "-o", "wide"])
        argvs.append(["rollout", "history", ref])
        argvs += [["rollout", "history", ref, f"--revision={b.revision}"] for b in bad if b.deployment == name]
        argvs.append(["logs", ref, "--tail=50", "--timestamps"])
    argvs += [["get", "endpoints", service] for state in states for service in state.services]
    known = frozenset(facts.deployments) | frozenset(facts.available)
    for call in calls:
        if call.status != "error" and call.arguments.get("namespace") in (None, namespace):
            argvs += list(replay(call, known))
    lines = [commands.kubectl(argv, namespace=namespace, context=context) for argv in argvs]
    if any(c.tool == "top_nodes" and c.status != "error" for c in calls):
        lines.append(commands.kubectl(["top", "nodes"], context=context))
    return list(dict.fromkeys(lines))[:MAX_REPRODUCE]


def events_item(facts: ClusterFacts, states: list[DeploymentState]) -> list[EvidenceItem]:
    if not facts.warnings:
        return []
    reasons: Counter[str] = Counter()
    for event in facts.warnings:
        reasons[str(event.get("reason"))] += int(event.get("count") or 1)
    firsts = sorted(t for t in map(first_seen, facts.warnings) if t is not None)
    lasts = sorted(t for t in (parse_time(e.get("lastTimestamp")) for e in facts.warnings) if t is not None)
    # Dated when they span days (a standing failure's first warning is days old).
    shape = "%H:%M:%S" if len({t.date() for t in firsts + lasts}) <= 1 else "%m-%d %H:%M:%S"
    span = f"; first {firsts[0].strftime(shape)} UTC" if firsts else ""
    span += f", last {lasts[-1].strftime(shape)} UTC" if lasts else ""
    about = ", ".join(s.deployment for s in states) or "the namespace"
    counts = ", ".join(f"{reason} x{count}" for reason, count in reasons.most_common())
    return [EvidenceItem(kind="events", text=clean(f"Warning events about {about}: {counts}{span}"))]


def logs_items(calls: list[ToolCall]) -> list[EvidenceItem]:
    read = []
    for call in calls:
        what = text(call.arguments, "pod_or_deployment")
        if call.tool == "get_logs" and call.status != "error" and what:
            read.append(what + (" (previous container)" if call.arguments.get("previous") is True else ""))
    if not read:
        return []
    return [EvidenceItem(kind="logs", text=clean(f"read with get_logs: {', '.join(dict.fromkeys(read))}"))]


def collected(
    facts: ClusterFacts, states: list[DeploymentState], bad: list[BadRevision], calls: list[ToolCall]
) -> list[EvidenceItem]:
    """Events, logs, metrics, rollouts and nodes the server read, one line each."""
    items = events_item(facts, states) + logs_items(calls)
    items += [EvidenceItem(kind="metrics", text=clean(line)) for lines in facts.load.values() for line in lines]
    items += [
        EvidenceItem(kind="metrics", text=clean(f"{s.deployment} {c.detail}"))
        for s in states
        for c in s.checks
        if c.name == "resources" and c.passed is not None
    ]
    items += [
        EvidenceItem(
            kind="rollout",
            text=clean(
                f"{b.deployment} revision {b.revision} compared with the revision running now: {'; '.join(b.changes)}"
            ),
        )
        for b in bad
        if b.changes
    ]
    items += [
        EvidenceItem(kind="node", text=clean(f"{node}: {'; '.join(lines)}")) for node, lines in facts.nodes.items()
    ]
    return list({item.text: item for item in items}.values())[:MAX_COLLECTED]


def evidence(
    namespace: str,
    context: str | None,
    calls: list[ToolCall],
    facts: ClusterFacts,
    states: list[DeploymentState],
    bad: list[BadRevision],
) -> Evidence:
    return Evidence(
        collected=collected(facts, states, bad, calls),
        tools_called=tool_usage(calls),
        reproduce=reproduce(namespace, context, calls, facts, states, bad),
    )

"""cordon_node, uncordon_node and drain_node: keep new pods off a bad node, then move the running ones away.

`kubectl cordon` is a strategic merge patch of `spec.unschedulable`; `kubectl drain` cordons, then posts one
Eviction per pod (the API server refuses an eviction a PodDisruptionBudget forbids, with 429), skipping DaemonSet
and mirror pods. The plan holds one step per write, so execution stops at the first refused eviction and reports it.

Layer: tools.mitigate.
"""

from __future__ import annotations

import json
from typing import Annotated, Any

from pydantic import Field

from incident_response.tools.core import commands, errors
from incident_response.tools.core.plan_warnings import PlanWarning, warning
from incident_response.tools.engine import sizing_reads
from incident_response.tools.engine.deps import Deps, check_name
from incident_response.tools.engine.pending import Proposal
from incident_response.tools.engine.plan import (
    Change,
    KubeWrite,
    PlanDraft,
    Step,
    Target,
    patch_step,
    pointer,
    precondition,
)
from incident_response.tools.k8s import backends, capacity
from incident_response.tools.k8s.views import meta
from incident_response.tools.kube.client import Kube
from incident_response.tools.kube.paging import list_all
from incident_response.tools.mitigate import pod_disruption, unreachable
from incident_response.tools.mitigate.drain_budgets import blocked_by_budgets
from incident_response.tools.mitigate.isolation import with_heredoc

MIRROR = "kubernetes.io/config.mirror"
NODE_PATHS = [pointer("metadata", "uid"), pointer("spec", "unschedulable")]


def node_command(verb: str, node: str, context: str | None, flags: list[str] | None = None) -> str:
    return str(commands.kubectl([verb, node], context=context, flags=flags or []))


def cordon_step(node: str, context: str | None, *, on: bool) -> Step:
    body = {"spec": {"unschedulable": True if on else None}}
    verb, undo = ("cordon", "uncordon") if on else ("uncordon", "cordon")
    return patch_step(
        f"mark node {node} {'unschedulable' if on else 'schedulable'}",
        node_command(verb, node, context),
        "nodes",
        node,
        None,
        body,
        "strategic",
        undo_command=node_command(undo, node, context),
    )


def schedulable_left(nodes: list[dict[str, Any]], excluding: str) -> list[str]:
    return [backends.name_of(n) for n in nodes if backends.name_of(n) != excluding and capacity.accepts(n, {})]


def outside(pods: list[dict[str, Any]], allowed: tuple[str, ...]) -> list[dict[str, Any]]:
    """The pods in namespaces outside an allow-list (none when the list is empty: every namespace is allowed)."""
    return [p for p in pods if allowed and meta(p).namespace not in allowed]


def pod_key(pod: dict[str, Any]) -> str:
    return f"{(pod.get('metadata') or {}).get('namespace')}/{backends.name_of(pod)}"


def plan_cordon(
    kube: Kube, node: str, *, restores: str | None = None, uncordon: bool = False, allowed: tuple[str, ...] = ()
) -> PlanDraft:
    """`allowed`: the server's namespace allow-list; pods outside it are counted, never named."""
    found = kube.get("nodes", node)
    cordoned = bool((found.get("spec") or {}).get("unschedulable"))
    if cordoned != uncordon:
        state = "already cordoned" if cordoned else "not cordoned"
        raise errors.InvalidArgument(f"node {node} is {state}; nothing to change")
    context = kube.context
    step = cordon_step(node, context, on=not uncordon)
    assert isinstance(step.action, KubeWrite)
    kube.patch("nodes", node, step.action.body, patch_type="strategic", dry_run=True)
    warnings: list[PlanWarning] = []
    if not uncordon:
        pods = kube.list("pods", field_selector=f"spec.nodeName={node}").items
        elsewhere = len(outside(pods, allowed))
        beyond = f", {elsewhere} of them in namespaces outside this server's allow-list" if elsewhere else ""
        warnings.append(
            warning(
                "pods_stay", f"Pods already on {node} keep running ({len(pods)} now{beyond}): drain_node moves them."
            )
        )
        if not schedulable_left(kube.list("nodes").items, node):
            warnings.append(
                warning(
                    "last_node",
                    f"{node} is the last schedulable node: no new pod can be scheduled anywhere after this.",
                )
            )
    return PlanDraft(
        tool="restore_measure" if restores else ("uncordon_node" if uncordon else "cordon_node"),
        summary=f"{'Uncordon' if uncordon else 'Cordon'} node {node}: new pods "
        f"{'may be scheduled there again' if uncordon else 'will not be scheduled there'}.",
        target=Target(kind="Node", name=node, uid=found["metadata"].get("uid")),
        steps=[step],
        undo_command=step.undo_command,
        diff=[Change(path="spec.unschedulable", before=cordoned or None, after=None if uncordon else True)],
        preconditions=[precondition("nodes", found, NODE_PATHS, name=node)],
        warnings=warnings,
        temporary=not uncordon,
        restores=restores,
    )


def cordon_node(deps: Deps, node: Annotated[str, Field(description="Node name.")]) -> Proposal:
    """Plan cordoning a node (kubectl cordon): no new pods are scheduled on it; running pods stay. Recorded as a
    temporary measure (undo: uncordon_node). Nothing changes until the token is confirmed with confirm_command."""
    return deps.propose(plan_cordon(deps.kube, node, allowed=deps.settings.namespaces))


def uncordon_node(deps: Deps, node: Annotated[str, Field(description="Node name.")]) -> Proposal:
    """Plan uncordoning a node (kubectl uncordon) so pods may be scheduled on it again; it ends a cordon or drain
    measure. Nothing changes until the token is confirmed with confirm_command."""
    measure = next(
        (
            m.token
            for m in deps.scope().commands(deps.journal.temporary_measures())
            if m.plan.get("target", {}).get("kind") == "Node" and m.plan.get("target", {}).get("name") == node
        ),
        None,
    )
    draft = plan_cordon(deps.kube, node, uncordon=True)
    if measure is not None:
        draft.restores = measure
    return deps.propose(draft)


# --- drain ---------------------------------------------------------------------------------------------------------


def drain_kind(pod: dict[str, Any]) -> str:
    """evict | daemonset | mirror | finished | unmanaged (kubectl drain refuses those without --force)."""
    if (pod.get("status") or {}).get("phase") in ("Succeeded", "Failed"):
        return "finished"
    if MIRROR in meta(pod).annotations:
        return "mirror"
    ref = backends.controller_of(pod)
    if ref is None:
        return "unmanaged"
    return "daemonset" if ref.get("kind") == "DaemonSet" else "evict"


def eviction_step(pod: dict[str, Any], context: str | None) -> Step:
    metadata = pod["metadata"]
    namespace, name = str(metadata["namespace"]), str(metadata["name"])
    body: dict[str, Any] = {
        "apiVersion": "policy/v1",
        "kind": "Eviction",
        "metadata": {"name": name, "namespace": namespace},
    }
    if metadata.get("uid"):
        # Only the pod that was approved: a pod recreated under its name since (a StatefulSet's) is not evicted.
        body["deleteOptions"] = {"preconditions": {"uid": str(metadata["uid"])}}
    raw = str(
        commands.kubectl(
            ["create", "--raw", f"/api/v1/namespaces/{namespace}/pods/{name}/eviction", "-f", "-"], context=context
        )
    )
    return Step(
        description=f"evict pod {namespace}/{name} (honours PodDisruptionBudgets)",
        command=with_heredoc(raw, json.dumps(body, separators=(",", ":")), "EVICTION"),
        action=KubeWrite(verb="evict", resource="pods", namespace=namespace, name=name, body=body),
    )


def drain_flags(down: str | None) -> list[str]:
    """kubectl drain waits until each evicted pod is gone, which a pod on a node that is not ready never is: there it
    stops waiting for pods deleted over a second ago, as the plan's own steps do not wait."""
    flags = ["--ignore-daemonsets", "--delete-emptydir-data"]
    return [*flags, "--skip-wait-for-delete-timeout=1"] if down else flags


def named(pods: list[dict[str, Any]], hidden: list[dict[str, Any]]) -> str:
    """The pods by name, except those this server may not name, which are counted."""
    shown = sorted(pod_key(p) for p in pods if p not in hidden)
    count = sum(p in hidden for p in pods)
    return ", ".join(shown + ([f"{count} pod(s) outside this server's allow-list"] if count else []))


def plan_drain(kube: Kube, node: str, *, allowed: tuple[str, ...] = (), include_outside: bool = False) -> PlanDraft:
    """`allowed`: the server's namespace allow-list. A pod outside it is never named, and a drain that would evict
    one is refused unless `include_outside` (the caller's explicit word): the plan then names them and records
    their namespaces as accepted (PlanDraft.accepted_outside_allow_list)."""
    found = kube.get("nodes", node)
    context = kube.context
    on_node = list_all(kube, "pods", field_selector=f"spec.nodeName={node}").items
    hidden = [] if include_outside else outside(on_node, allowed)
    kinds = {backends.name_of(p): drain_kind(p) for p in on_node}
    unmanaged = [p for p in on_node if kinds[backends.name_of(p)] == "unmanaged"]
    if unmanaged:
        raise errors.InvalidArgument(
            f"node {node} runs pods no controller would recreate ({named(unmanaged, hidden)}); evicting them deletes "
            "them for good (kubectl drain refuses without --force). Move or delete them deliberately first"
        )
    movers = [p for p in on_node if kinds[backends.name_of(p)] == "evict" and not backends.terminating(p)]
    beyond = outside(movers, allowed)
    if beyond and not include_outside:
        raise errors.InvalidArgument(
            f"draining node {node} would also evict {len(beyond)} pod(s) in namespaces outside this server's "
            f"allow-list ({', '.join(allowed)}); nothing was planned. Pass include_outside_allow_list=True to plan "
            "evicting them too (the plan then names them for the human to approve), or use cordon_node to keep new "
            "pods off the node without evicting any"
        )
    skipped = named([p for p in on_node if kinds[backends.name_of(p)] == "daemonset"], hidden)
    # Once: the nodes the movers may go to and the pods holding room there (by node for a small pool).
    nodes, holding = sizing_reads.read_room_for(kube, [p.get("spec") or {} for p in movers], away_from=node)
    leaving = {f"{p['metadata'].get('namespace')}/{backends.name_of(p)}" for p in on_node}
    placement = []
    free: dict[str, list[capacity.Room]] = {}
    down = unreachable.not_ready(found)
    for pod in movers:
        if down and unreachable.stateful(pod):
            placement.append(f"{pod_key(pod)}: stays Terminating on {node} until force-deleted (node not ready)")
            continue
        spec = pod.get("spec") or {}
        key = json.dumps({k: spec.get(k) for k in ("tolerations", "nodeSelector")}, sort_keys=True)
        rooms = free.setdefault(key, capacity.rooms(nodes, holding, spec, leaving=leaving))
        fits = capacity.place(rooms, capacity.spec_requests(spec), 1) == 1
        placement.append(
            f"{pod['metadata'].get('namespace')}/{backends.name_of(pod)}: "
            f"{'fits on another node' if fits else 'NO ROOM elsewhere, its replacement would stay Pending'}"
        )
    budgets = kube.list("poddisruptionbudgets").items
    warnings, blocked = blocked_by_budgets(movers, budgets)
    warnings += pod_disruption.disruption_notes(kube, [p for p in movers if p not in hidden], budgets)
    movers.sort(key=lambda p: backends.name_of(p) in blocked)
    if any("NO ROOM" in p for p in placement):
        no_room = "; ".join(p for p in placement if "NO ROOM" in p)
        warnings.append(warning("no_room", "Some replacements would stay Pending: " + no_room))
    members = [p for p in movers if unreachable.stateful(p)]
    stuck = [p for p in on_node if unreachable.stateful(p) and backends.terminating(p) and p not in hidden]
    if down and members:
        warnings.append(unreachable.stuck_warning(node, down, members, evicting=True))
    if down and stuck:
        warnings.append(unreachable.stuck_warning(node, down, stuck, evicting=False))
    if skipped:
        warnings.append(warning("daemonsets", f"DaemonSet pods stay (kubectl --ignore-daemonsets): {skipped}."))
    if beyond:
        warnings.append(
            warning(
                "outside_allow_list",
                f"Evicts {len(beyond)} pod(s) in namespaces outside this server's allow-list "
                f"(include_outside_allow_list=True): {named(beyond, [])}.",
            )
        )
    steps = [] if (found.get("spec") or {}).get("unschedulable") else [cordon_step(node, context, on=True)]
    steps += [eviction_step(p, context) for p in movers]
    if not steps:
        left = f". {unreachable.stuck_members(node, down, stuck, evicting=False)}" if down and stuck else ""
        raise errors.InvalidArgument(f"node {node} is cordoned and runs no pod to evict; nothing to drain{left}")
    for pod in movers[:1]:
        kube.evict(backends.name_of(pod), str(pod["metadata"]["namespace"]), dry_run=True)
    undo = node_command("uncordon", node, context)
    preconditions = [precondition("nodes", found, NODE_PATHS, name=node)]
    preconditions += [
        precondition(
            "pods",
            p,
            [pointer("metadata", "uid"), pointer("spec", "nodeName")],
            namespace=str(p["metadata"]["namespace"]),
            name=backends.name_of(p),
        )
        for p in movers
    ]
    # Every pod on the node, so one scheduled there after the plan (nobody approved evicting it, and the cordon would
    # strand it) makes the plan stale instead of being left behind unseen.
    live = [p for p in on_node if not backends.terminating(p)]
    preconditions.append(
        precondition("pods", live, [pointer("metadata", "uid")], field_selector=f"spec.nodeName={node}")
    )
    return PlanDraft(
        tool="drain_node",
        summary=f"Drain node {node}: cordon it and evict {len(movers)} pod(s) so their controllers recreate them "
        f"elsewhere. " + "; ".join(placement),
        target=Target(kind="Node", name=node, uid=found["metadata"].get("uid")),
        risk="destructive",
        steps=steps,
        command_line=node_command("drain", node, context, drain_flags(down)),
        undo_command=undo,
        diff=[Change(path="spec.unschedulable", before=(found.get("spec") or {}).get("unschedulable"), after=True)]
        + [
            Change(path=f"pod/{p['metadata']['namespace']}/{backends.name_of(p)}", before=node, after="evicted")
            for p in movers
        ],
        preconditions=preconditions,
        warnings=warnings,
        temporary=True,
        accepted_outside_allow_list=sorted({str(p["metadata"]["namespace"]) for p in beyond}),
    )


def drain_node(
    deps: Deps,
    node: Annotated[str, Field(description="Node name.")],
    include_outside_allow_list: Annotated[
        bool,
        Field(
            description="On a server started with --namespace: also evict the node's pods in other namespaces "
            "(refused without it). Only when the human agrees to move pods this server otherwise leaves alone."
        ),
    ] = False,
) -> Proposal:
    """Plan draining a node (kubectl drain --ignore-daemonsets --delete-emptydir-data): cordon, then evict its pods
    honouring PodDisruptionBudgets so they move elsewhere. Destructive: says which pods move and whether they fit.
    On a server with a namespace allow-list it refuses to evict pods outside it unless include_outside_allow_list.
    Nothing changes until the token is confirmed with confirm_command."""
    draft = plan_drain(
        deps.kube,
        check_name(node, "node"),
        allowed=deps.settings.namespaces,
        include_outside=include_outside_allow_list,
    )
    return deps.propose(draft)

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
from incident_response.tools.k8s import backends, capacity, labels
from incident_response.tools.kube.client import Kube
from incident_response.tools.mitigate.isolation import with_heredoc

MIRROR = "kubernetes.io/config.mirror"
NODE_PATHS = [pointer("metadata", "uid"), pointer("spec", "unschedulable")]


def node_command(verb: str, node: str, context: str | None, flags: list[str] | None = None) -> str:
    return str(commands.kubectl([verb, node], context=context, flags=flags or []))


def cordon_step(node: str, context: str | None, *, on: bool) -> Step:
    body = {"spec": {"unschedulable": True if on else None}}
    verb, undo = ("cordon", "uncordon") if on else ("uncordon", "cordon")
    return patch_step(
        f"mark node {node} {'unschedulable' if on else 'schedulable'}", node_command(verb, node, context), "nodes",
        node, None, body, "strategic", undo_command=node_command(undo, node, context),
    )  # fmt: skip


def schedulable_left(nodes: list[dict[str, Any]], excluding: str) -> list[str]:
    return [
        backends.name_of(n)
        for n in nodes
        if backends.name_of(n) != excluding and capacity.accepts(n, {})
    ]  # fmt: skip


def plan_cordon(kube: Kube, node: str, *, restores: str | None = None, uncordon: bool = False) -> PlanDraft:
    found = kube.get("nodes", node)
    cordoned = bool((found.get("spec") or {}).get("unschedulable"))
    if cordoned != uncordon:
        state = "already cordoned" if cordoned else "not cordoned"
        raise errors.InvalidArgument(f"node {node} is {state}; nothing to change")
    context = kube.context
    step = cordon_step(node, context, on=not uncordon)
    assert isinstance(step.action, KubeWrite)
    kube.patch("nodes", node, step.action.body, patch_type="strategic", dry_run=True)
    warnings = []
    if not uncordon:
        pods = kube.list("pods", field_selector=f"spec.nodeName={node}").items
        warnings.append(f"Pods already on {node} keep running ({len(pods)} now); use drain_node to move them away.")
        if not schedulable_left(kube.list("nodes").items, node):
            warnings.append(f"{node} is the last schedulable node: no new pod can be scheduled anywhere after this.")
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
    return deps.propose(plan_cordon(deps.kube, node))


def uncordon_node(deps: Deps, node: Annotated[str, Field(description="Node name.")]) -> Proposal:
    """Plan uncordoning a node (kubectl uncordon) so pods may be scheduled on it again; it ends a cordon or drain
    measure. Nothing changes until the token is confirmed with confirm_command."""
    measure = next(
        (m.token for m in deps.scope().commands(deps.journal.temporary_measures())
         if m.plan.get("target", {}).get("kind") == "Node" and m.plan.get("target", {}).get("name") == node),
        None,
    )  # fmt: skip
    draft = plan_cordon(deps.kube, node, uncordon=True)
    if measure is not None:
        draft.restores = measure
    return deps.propose(draft)


# --- drain ---------------------------------------------------------------------------------------------------------


def drain_kind(pod: dict[str, Any]) -> str:
    """evict | daemonset | mirror | finished | unmanaged (kubectl drain refuses those without --force)."""
    if (pod.get("status") or {}).get("phase") in ("Succeeded", "Failed"):
        return "finished"
    if MIRROR in ((pod.get("metadata") or {}).get("annotations") or {}):
        return "mirror"
    ref = backends.controller_of(pod)
    if ref is None:
        return "unmanaged"
    return "daemonset" if ref.get("kind") == "DaemonSet" else "evict"


def blocked_by_budgets(pods: list[dict[str, Any]], pdbs: list[dict[str, Any]]) -> tuple[list[str], set[str]]:
    """(warnings, names of pods whose eviction the API server would refuse now).

    As upstream: a Ready pod uses up one of the budget's disruptionsAllowed; a pod that is not Ready may be evicted
    while the budget is healthy (currentHealthy >= desiredHealthy, the default unhealthyPodEvictionPolicy).
    """
    warnings: list[str] = []
    blocked: set[str] = set()
    for pdb in pdbs:
        namespace = (pdb.get("metadata") or {}).get("namespace")
        selector = labels.from_spec((pdb.get("spec") or {}).get("selector"))
        status = pdb.get("status") or {}
        allowed = int(status.get("disruptionsAllowed") or 0)
        healthy_budget = int(status.get("currentHealthy") or 0) >= int(status.get("desiredHealthy") or 0)
        over = []
        for pod in pods:
            if (pod.get("metadata") or {}).get("namespace") != namespace:
                continue
            if not labels.matches(selector, labels.labels_of(pod)):
                continue
            if not backends.ready(pod):
                if not healthy_budget:
                    over.append(backends.name_of(pod))
            elif allowed > 0:
                allowed -= 1
            else:
                over.append(backends.name_of(pod))
        if over:
            blocked.update(over)
            warnings.append(
                f"PodDisruptionBudget {namespace}/{backends.name_of(pdb)} allows no more disruptions now, so the API "
                f"server will refuse to evict {', '.join(over)} (429). Those evictions come last: execution stops "
                "there with the node cordoned and the other pods moved. Plan the drain again once replacements are "
                "Ready."
            )
    return warnings, blocked


def eviction_step(pod: dict[str, Any], context: str | None) -> Step:
    meta = pod["metadata"]
    namespace, name = str(meta["namespace"]), str(meta["name"])
    body = {"apiVersion": "policy/v1", "kind": "Eviction", "metadata": {"name": name, "namespace": namespace}}
    raw = str(commands.kubectl(["create", "--raw", f"/api/v1/namespaces/{namespace}/pods/{name}/eviction", "-f", "-"],
                               context=context))  # fmt: skip
    return Step(
        description=f"evict pod {namespace}/{name} (honours PodDisruptionBudgets)",
        command=with_heredoc(raw, json.dumps(body, separators=(",", ":")), "EVICTION"),
        action=KubeWrite(verb="evict", resource="pods", namespace=namespace, name=name),
    )


def plan_drain(kube: Kube, node: str) -> PlanDraft:
    found = kube.get("nodes", node)
    context = kube.context
    on_node = kube.list("pods", field_selector=f"spec.nodeName={node}").items
    kinds = {backends.name_of(p): drain_kind(p) for p in on_node}
    unmanaged = sorted(f"{p['metadata'].get('namespace')}/{n}" for p in on_node if kinds[(n := backends.name_of(p))]
                       == "unmanaged")  # fmt: skip
    if unmanaged:
        raise errors.InvalidArgument(
            f"node {node} runs pods no controller would recreate ({', '.join(unmanaged)}); evicting them deletes "
            "them for good (kubectl drain refuses without --force). Move or delete them deliberately first"
        )
    movers = [p for p in on_node if kinds[backends.name_of(p)] == "evict" and not backends.terminating(p)]
    skipped = sorted(n for n, k in kinds.items() if k == "daemonset")
    nodes = [n for n in kube.list("nodes").items if backends.name_of(n) != node]
    leaving = {f"{p['metadata'].get('namespace')}/{backends.name_of(p)}" for p in on_node}
    placement = []
    free: dict[str, list[capacity.Room]] = {}
    for pod in movers:
        spec = pod.get("spec") or {}
        key = json.dumps({k: spec.get(k) for k in ("tolerations", "nodeSelector")}, sort_keys=True)
        rooms = free.setdefault(key, capacity.rooms(nodes, kube.list("pods").items, spec, leaving=leaving))
        fits = capacity.place(rooms, capacity.spec_requests(spec), 1) == 1
        placement.append(
            f"{pod['metadata'].get('namespace')}/{backends.name_of(pod)}: "
            f"{'fits on another node' if fits else 'NO ROOM elsewhere, its replacement would stay Pending'}"
        )
    warnings, blocked = blocked_by_budgets(movers, kube.list("poddisruptionbudgets").items)
    movers.sort(key=lambda p: backends.name_of(p) in blocked)
    if any("NO ROOM" in p for p in placement):
        warnings.append("Some replacements would stay Pending: " + "; ".join(p for p in placement if "NO ROOM" in p))
    if skipped:
        warnings.append(f"DaemonSet pods stay (kubectl --ignore-daemonsets): {', '.join(skipped)}.")
    steps = [] if (found.get("spec") or {}).get("unschedulable") else [cordon_step(node, context, on=True)]
    steps += [eviction_step(p, context) for p in movers]
    if not steps:
        raise errors.InvalidArgument(f"node {node} is cordoned and runs no pod to evict; nothing to drain")
    for pod in movers[:1]:
        kube.evict(backends.name_of(pod), str(pod["metadata"]["namespace"]), dry_run=True)
    undo = node_command("uncordon", node, context)
    preconditions = [precondition("nodes", found, NODE_PATHS, name=node)]
    preconditions += [
        precondition("pods", p, [pointer("metadata", "uid"), pointer("spec", "nodeName")],
                     namespace=str(p["metadata"]["namespace"]), name=backends.name_of(p))
        for p in movers
    ]  # fmt: skip
    return PlanDraft(
        tool="drain_node",
        summary=f"Drain node {node}: cordon it and evict {len(movers)} pod(s) so their controllers recreate them "
        f"elsewhere. " + "; ".join(placement),
        target=Target(kind="Node", name=node, uid=found["metadata"].get("uid")),
        risk="destructive",
        steps=steps,
        command_line=node_command("drain", node, context, ["--ignore-daemonsets", "--delete-emptydir-data"]),
        undo_command=undo,
        diff=[Change(path="spec.unschedulable", before=(found.get("spec") or {}).get("unschedulable"), after=True)]
        + [
            Change(path=f"pod/{p['metadata']['namespace']}/{backends.name_of(p)}", before=node, after="evicted")
            for p in movers
        ],  # fmt: skip
        preconditions=preconditions,
        warnings=warnings,
        temporary=True,
    )


def drain_node(deps: Deps, node: Annotated[str, Field(description="Node name.")]) -> Proposal:
    """Plan draining a node (kubectl drain --ignore-daemonsets --delete-emptydir-data): cordon, then evict its pods
    honouring PodDisruptionBudgets so they move elsewhere. Destructive: says which pods move and whether they fit.
    Nothing changes until the token is confirmed with confirm_command."""
    draft = plan_drain(deps.kube, check_name(node, "node"))
    outside = sorted(
        {p.namespace for p in draft.preconditions if p.namespace and not deps.namespace_allowed(p.namespace)}
    )
    if outside:
        raise errors.NamespaceNotAllowed(outside[0], deps.settings.namespaces)
    return deps.propose(draft)

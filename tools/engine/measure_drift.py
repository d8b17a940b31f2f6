"""Whether a temporary measure is still what it set: someone else (CI's `kubectl apply`, a human, helm) may have put
the replicas, HPA bounds, memory limit or cordon back behind this server's back (review-assist F30). Such a measure
is no longer in place: the tools say who reverted it and when (the object's managedFields), and restore_measure
closes it instead of planning a restore of nothing.

Layer: tools.engine.
"""

from __future__ import annotations

from typing import Any

from incident_response.tools.core import errors
from incident_response.tools.engine.plan import KubeWrite, PendingCommand, pointer_parts, resolve
from incident_response.tools.k8s.last_change import by_whom, last_change
from incident_response.tools.k8s.quantity import parse_quantity
from incident_response.tools.kube.client import FIELD_MANAGER, Kube

ABSENT = object()
CHECKED = ("scale_deployment", "override_hpa", "set_memory_limit", "cordon_node", "drain_node", "pause_rollout")


def written(plan: PendingCommand) -> tuple[str, list[tuple[str, Any]]] | None:
    """(resource, [(pointer, value it set or ABSENT)]) of the measure's writes to its target; None when unknown."""
    target = plan.target
    for step in plan.steps:
        action = step.action
        if not isinstance(action, KubeWrite) or action.verb != "patch" or action.name != target.name:
            continue
        if isinstance(action.body, list):  # a JSON patch: what its add/replace/remove ops leave
            values = [
                (str(op["path"]), ABSENT if op.get("op") == "remove" else op.get("value"))
                for op in action.body
                if isinstance(op, dict) and op.get("op") in ("add", "replace", "remove")
            ]
        else:
            values = list(leaves(action.body, ""))
        return action.resource, values
    return None


def leaves(body: Any, prefix: str) -> list[tuple[str, Any]]:
    """The scalar leaves of a merge patch, as pointers (lists are not walked: their merge keys are not pointers)."""
    if not isinstance(body, dict):
        return [(prefix, body)] if prefix else []
    found: list[tuple[str, Any]] = []
    for key, value in body.items():
        if not isinstance(value, list):
            found += leaves(value, f"{prefix}/{key}")
    return found


def same(now: Any, wanted: Any) -> bool:
    if wanted is ABSENT:
        return now is None
    if isinstance(wanted, str) and isinstance(now, str) and now != wanted:
        a, b = parse_quantity(now), parse_quantity(wanted)
        return a is not None and a == b
    return bool(now == wanted)


def reverted(kube: Kube, plan: PendingCommand) -> str | None:
    """'reverted outside this server at HH:MM by MANAGER: spec.replicas is 3 (it set 6)' when what the measure set
    is no longer so; None when it still is, or cannot be told."""
    if plan.tool not in CHECKED or (found := written(plan)) is None:
        return None
    resource, values = found
    try:
        obj = kube.get(resource, plan.target.name, plan.target.namespace)
    except errors.NotFound:
        return None  # the object is gone: another story (the restore says so)
    changed = [(path, value) for path, value in values if not same(resolve(obj, path), value)]
    if not changed:
        return None
    path, value = changed[0]
    parts = tuple(pointer_parts(path))
    owner = last_change(obj, owning=tuple(p for p in parts[:4] if not p.isdigit()))
    if owner is None or owner.created:  # a field taken away is owned by nobody: the newest write to the spec
        owner = last_change(obj, owning=parts[:1])
    if owner is not None and owner.manager == FIELD_MANAGER:
        return None  # changed again by this server (a later measure, another server's): not outside
    when = f" at {owner.at.strftime('%H:%M')} UTC" if owner is not None and not owner.created else ""
    who = by_whom(owner) if owner is not None and not owner.created else ""
    now = resolve(obj, path)
    shown = "unset" if now is None else now
    was = "unset" if value is ABSENT else value
    return f"reverted outside this server{when}{who}: {'.'.join(parts)} is {shown} (it set {was})"

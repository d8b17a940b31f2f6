"""The replica count a recorded plan set on a deployment: a scale to 0 takes a deployment offline (a pulled canary,
a failing release stopped), which is no capacity change, no recovery, and no evidence about its cause.

Layer: tools.playbook.
"""

from __future__ import annotations

from typing import Any

SCALING = ("scale_deployment", "restore_measure", "rollback_canary", "shift_traffic")


def replicas_set(plan: dict[str, Any], namespace: str | None, name: str) -> Any:
    """The replica count `plan` set on deployment `name` (None when it set none)."""
    target = plan.get("target") or {}
    own = target.get("kind") == "Deployment" and target.get("name") == name
    own = own and (namespace is None or target.get("namespace") == namespace)
    for change in plan.get("diff") or []:
        path = str((change or {}).get("path"))
        if path == f"deployment/{name}.spec.replicas" or (own and path == "spec.replicas"):
            return change.get("after")
    return None


def took_offline(plan: dict[str, Any]) -> bool:
    """A scale_deployment plan that set its own deployment's replicas to 0."""
    target = plan.get("target") or {}
    return bool(replicas_set(plan, target.get("namespace"), str(target.get("name"))) == 0)

"""A Deployment's rollout that has not finished while an earlier revision's pods still serve.

Such a rollout is the current change whatever its age: its new revision never proved itself, and anything that
changes the template (a raised memory limit) rolls a new revision over the pods that serve (review-assist F27).

Layer: tools.k8s.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from incident_response.tools.k8s.views import meta
from incident_response.tools.k8s.workloads import current_replicas, images_of, revision_of


@dataclass(frozen=True)
class Unfinished:
    deployment: str
    revision: int  # the revision rolling out
    images: list[str]
    ready: int  # Ready pods of that revision
    replicas: int  # the deployment's desired replicas
    replicaset: str  # the rolling-out revision's ReplicaSet (its pods are named after it)
    serving_revision: int  # the newest earlier revision with Ready pods
    serving_images: list[str]
    serving_ready: int  # Ready pods of the earlier revisions: they serve now


def _ready(rs: dict[str, Any]) -> int:
    return int((rs.get("status") or {}).get("readyReplicas") or 0)


def unfinished_rollout(deploy: dict[str, Any], owned: list[dict[str, Any]]) -> Unfinished | None:
    """The deployment's rollout when its current revision has fewer Ready pods than desired while ReplicaSets of
    earlier revisions keep Ready pods; `owned`: its ReplicaSets."""
    revision = revision_of(deploy)
    replicas = current_replicas(deploy)
    current = next((rs for rs in owned if revision_of(rs) == revision), None)
    if revision is None or current is None or replicas == 0 or _ready(current) >= replicas:
        return None
    older = [rs for rs in owned if (revision_of(rs) or revision) < revision and _ready(rs) > 0]
    if not older:
        return None
    serving = max(older, key=lambda rs: revision_of(rs) or 0)
    return Unfinished(
        deployment=str(meta(deploy).name),
        revision=revision,
        images=images_of((deploy.get("spec") or {}).get("template") or {}),
        ready=_ready(current),
        replicas=replicas,
        replicaset=str(meta(current).name),
        serving_revision=revision_of(serving) or 0,
        serving_images=images_of((serving.get("spec") or {}).get("template") or {}),
        serving_ready=sum(_ready(rs) for rs in older),
    )


def only_new_fail(rollout: Unfinished, failing: list[str]) -> bool:
    """Whether the failing pods (names, optionally followed by a status) are all the rolling-out revision's."""
    prefix = rollout.replicaset + "-"
    return bool(failing) and all(entry.split(" ", 1)[0].startswith(prefix) for entry in failing)

"""Reads that tools of more than one family make the same way: what they list, how much, and what Forbidden means.

The pre-rollback checks (tools.playbook.rollback_checks) judge these; rollback_deployment's plan and
check_rollback_safety both read them here, so the two never disagree about what was seen.

Layer: tools.engine.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from incident_response.tools.core import errors
from incident_response.tools.k8s.workloads import app_selectors

if TYPE_CHECKING:  # the playbook imports RollbackReads from here and must not load the client seam
    from incident_response.tools.kube.client import Kube

MAX_CLAIMS_READ = 32
MAX_JOBS_READ = 500


@dataclass(frozen=True)
class RollbackReads:
    """What the stateful and migration checks read besides the deployment and its ReplicaSets."""

    labelled_claims: set[str] | None  # None: these credentials may not list claims (the mounts still count)
    jobs: list[dict[str, Any]] | None  # None: these credentials may not list Jobs (the pod template is still checked)
    jobs_truncated: bool


def labelled_claims(kube: Kube, namespace: str, deployment: dict[str, Any]) -> set[str] | None:
    """Claims labelled for this app; None when these credentials may not list claims."""
    claims: set[str] = set()
    for selector in app_selectors(deployment):
        try:
            listed = kube.list("persistentvolumeclaims", namespace, label_selector=selector, limit=MAX_CLAIMS_READ)
        except errors.Forbidden:
            return None
        claims |= {str(pvc["metadata"]["name"]) for pvc in listed.items}
    return claims


def rollback_reads(kube: Kube, namespace: str, deployment: dict[str, Any]) -> RollbackReads:
    """The claims labelled for the deployment's app, then the namespace's Jobs (one page)."""
    claims = labelled_claims(kube, namespace, deployment)
    try:
        jobs = kube.list("jobs", namespace, limit=MAX_JOBS_READ)
    except errors.Forbidden:
        return RollbackReads(claims, None, False)
    return RollbackReads(claims, jobs.items, jobs.truncated)

"""Reads that tools of more than one family make the same way: what they list, how much, and what Forbidden means.

The pre-rollback checks (tools.playbook.rollback_checks) judge these; rollback_deployment's plan and
check_rollback_safety both read them here, so the two never disagree about what was seen.

Layer: tools.engine.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from incident_response.tools.core import errors
from incident_response.tools.core.concurrency import submit
from incident_response.tools.engine.failure_reads import failure_start
from incident_response.tools.k8s.template_diff import config_refs
from incident_response.tools.k8s.workloads import app_selectors

if TYPE_CHECKING:  # the playbook imports RollbackReads from here and must not load the client seam
    from incident_response.tools.kube.client import Kube

MAX_CLAIMS_READ = 32
CONCURRENT_CONFIGMAP_READS = 8
HELM_OPT_IN = "deploy/components/helm"


@dataclass(frozen=True)
class RollbackReads:
    """What the stateful and migration checks read besides the deployment and its ReplicaSets."""

    labelled_claims: set[str] | None  # None: these credentials may not list claims (the mounts still count)
    jobs: list[dict[str, Any]] | None  # None: these credentials may not list Jobs (the pod template is still checked)
    jobs_truncated: bool
    # The ConfigMaps the pods read (metadata only: when and by whom they changed), None when not readable.
    configmaps: dict[str, dict[str, Any]] | None = None
    # When the workload's pods began failing (failure_reads), read only when a ConfigMap above changed lately.
    failing_since: datetime | None = None


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


def rollback_reads(
    kube: Kube, namespace: str, deployment: dict[str, Any], pods: list[dict[str, Any]] | None = None
) -> RollbackReads:
    """The claims labelled for the deployment's app, every Job of the namespace (in pages: a migration Job may sort
    past any fixed count; `jobs_truncated` only at the stop for runaway reads), the ConfigMaps its pods read and,
    with its `pods` and one of those ConfigMaps changed lately, since when they fail."""
    claims = labelled_claims(kube, namespace, deployment)
    configmaps = configmap_metadata(kube, namespace, config_refs(template_of(deployment))["ConfigMap"])
    failing = failure_start(kube, namespace, pods or [], configmaps, datetime.now(UTC))
    try:
        from incident_response.tools.kube.paging import list_all, without_managed_fields  # see TYPE_CHECKING above

        jobs = list_all(kube, "jobs", namespace, keep=without_managed_fields)
    except errors.Forbidden:
        return RollbackReads(claims, None, False, configmaps, failing)
    return RollbackReads(claims, jobs.items, jobs.truncated, configmaps, failing)


def template_of(workload: dict[str, Any]) -> dict[str, Any]:
    return (workload.get("spec") or {}).get("template") or {}


def configmap_metadata(kube: Kube, namespace: str, names: set[str]) -> dict[str, dict[str, Any]] | None:
    """Each named ConfigMap's metadata (its data is dropped at once: when it changed is what a check needs); a
    missing one is left out; None when these credentials may not read ConfigMaps.

    Every named one is read (a GET each, CONCURRENT_CONFIGMAP_READS at a time): the names come from pod templates
    already read whole, and a cut here would leave a recently edited ConfigMap out of the checks without a word.
    Reading them by name keeps the read role at `get` (listing would hand every ConfigMap's data to the server)."""

    def one(name: str) -> dict[str, Any] | None:
        try:
            return {"metadata": kube.get("configmaps", name, namespace).get("metadata") or {}}
        except errors.NotFound:
            return None

    ordered = sorted(names)
    try:
        if len(ordered) <= 1:
            read = [one(name) for name in ordered]
        else:
            workers = min(CONCURRENT_CONFIGMAP_READS, len(ordered))
            with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="configmaps") as pool:
                read = [f.result() for f in [submit(pool, one, name) for name in ordered]]
    except errors.Forbidden:
        return None
    return {name: obj for name, obj in zip(ordered, read, strict=True) if obj is not None}


def helm_release_secrets(kube: Kube, namespace: str, release: str) -> list[dict[str, Any]]:
    """Helm's release records (Secrets labelled owner=helm,name=RELEASE). Reading them needs listing Secrets, which
    RBAC cannot narrow to Helm's: team mode's deploy/ leaves that out unless the operator opts in, so a 403 here
    says which opt-in grants it and why it is not the default."""
    try:
        # Every record, in pages: their names sort v1, v10, v100, v2..., so a capped read could leave out the
        # deployed revision or the newest one (and a rollback plan would pick its target from the rest).
        from incident_response.tools.kube.paging import list_all, without_managed_fields  # see TYPE_CHECKING above

        return list_all(
            kube, "secrets", namespace, label_selector=f"owner=helm,name={release}", keep=without_managed_fields
        ).items
    except errors.Forbidden as e:
        raise errors.Forbidden(
            f"forbidden: the server's identity may not list secrets in namespace {namespace!r}, where Helm keeps the "
            f"records of release {release!r}. RBAC cannot narrow that list to Helm's Secrets, so granting it lets "
            f"the server read every Secret's credentials; team mode's deploy/ leaves it out unless the operator "
            f"applies the opt-in kustomize component {HELM_OPT_IN} (README, Run it for a team). Meanwhile a human "
            f"can run `helm history {release} -n {namespace}`, or use rollout_history on the release's workloads",
            code=e.code,
            reason=e.reason,
            verb="list",
            resource="secrets",
        ) from e

"""rollback_deployment: plan `kubectl rollout undo` as a pending command, with the exact API write kubectl sends.

kubectl's `rollout undo` reads the Deployment and its ReplicaSets, picks the target revision's ReplicaSet, and sends
one JSON patch: replace `/spec/template` with the ReplicaSet's template minus `pod-template-hash`, and replace
`/metadata/annotations` with the Deployment's controller annotations plus the ReplicaSet's other annotations. We
send the same two operations, preceded by `test` ops on the uid and generation, so the write itself refuses a
Deployment that changed after the confirm-time check.

Layer: tools.mitigate.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from pydantic import Field

from incident_response.tools.core import commands, errors
from incident_response.tools.core.plan_warnings import PlanWarning, warning
from incident_response.tools.engine.deps import Deps
from incident_response.tools.engine.mount_reads import read_mount_failures
from incident_response.tools.engine.pending import Proposal
from incident_response.tools.engine.plan import (
    PlanDraft,
    Precondition,
    Target,
    diff_values,
    patch_step,
    pointer,
    precondition,
    seal_secrets,
)
from incident_response.tools.engine.reads import rollback_reads
from incident_response.tools.engine.rollback_answers import Ruling, rulings, taken_back
from incident_response.tools.k8s.args import Revision
from incident_response.tools.k8s.podslim import Sharing, slim_pod
from incident_response.tools.k8s.views import meta
from incident_response.tools.k8s.workloads import (
    REVISION,
    deployment_selector,
    owned_by,
    pick_target,
    revision_of,
    template_without_hash,
)
from incident_response.tools.kube.client import Kube
from incident_response.tools.kube.paging import list_all
from incident_response.tools.mitigate.ruled_rollbacks import refuse_ruled_out, replicaset_numbers
from incident_response.tools.playbook import rollback_checks
from incident_response.tools.playbook.known_good import default_target_warnings, known_good, known_good_instead
from incident_response.tools.playbook.no_rollback import instead

# kubectl's annotationsToSkip: kept from the Deployment, never copied from the ReplicaSet.
ANNOTATIONS_TO_SKIP = (
    "kubectl.kubernetes.io/last-applied-configuration",
    REVISION,
    "deployment.kubernetes.io/revision-history",
    "deployment.kubernetes.io/desired-replicas",
    "deployment.kubernetes.io/max-replicas",
    "deprecated.deployment.rollback.to",
)
DEPLOYMENT_PATHS = [
    pointer("metadata", "uid"),
    pointer("metadata", "generation"),
    pointer("metadata", "annotations", REVISION),
    pointer("spec", "replicas"),
    pointer("spec", "paused"),
]
REPLICASET_PATHS = [pointer("metadata", "uid"), pointer("metadata", "annotations", REVISION)]


def undo_patch(deployment: dict[str, Any], target: dict[str, Any], *, sealed: bool = False) -> list[dict[str, Any]]:
    """The JSON patch kubectl sends, guarded by `test` ops on what the plan was made against. `sealed`: the form
    the plan stores, with env values and other secrets of the template and annotations left in the cluster
    (plan.seal_secrets) and read again when the command runs."""
    meta, rs_meta = deployment["metadata"], target["metadata"]

    def seal(value: Any, obj: dict[str, Any], resource: str, base: str) -> Any:
        if not sealed:
            return value
        where = obj["metadata"]
        return seal_secrets(value, resource=resource, namespace=where.get("namespace"), name=where["name"], base=base)

    kept = meta.get("annotations") or {}
    annotations = {
        k: seal(kept[k], deployment, "deployments", pointer("metadata", "annotations", k))
        for k in ANNOTATIONS_TO_SKIP
        if k in kept
    }
    annotations |= {
        k: seal(v, target, "replicasets", pointer("metadata", "annotations", k))
        for k, v in (rs_meta.get("annotations") or {}).items()
        if k not in ANNOTATIONS_TO_SKIP
    }
    template = seal(template_without_hash(target), target, "replicasets", "/spec/template")
    return [
        {"op": "test", "path": "/metadata/uid", "value": meta["uid"]},
        {"op": "test", "path": "/metadata/generation", "value": meta["generation"]},
        {"op": "replace", "path": "/spec/template", "value": template},
        {"op": "replace", "path": "/metadata/annotations", "value": annotations},
    ]


def visible(obj: dict[str, Any]) -> dict[str, Any]:
    """The parts of a Deployment a rollback changes, for the diff."""
    return {
        "spec": {"template": (obj.get("spec") or {}).get("template")},
        "metadata": {"annotations": meta(obj).annotations},
    }


def plan_rollback(
    kube: Kube, namespace: str, name: str, to_revision: int | None, answered: list[Ruling] | None = None
) -> PlanDraft:
    """Read, validate, dry-run; the draft the engine turns into a pending command. `answered`: the human's answers
    that rule rollbacks out (refused before anything else: a paused rollout is then better left paused)."""
    deployment = kube.get("deployments", name, namespace)
    listed = kube.list("replicasets", namespace, label_selector=deployment_selector(deployment))
    owned = [rs for rs in listed.items if owned_by(rs, deployment)]
    current = revision_of(deployment)
    kept = sorted(r for rs in owned if (r := revision_of(rs)) is not None)
    default = max((k for k in kept if current is None or k < current), default=None)
    chosen = default if to_revision is None else to_revision
    refuse_ruled_out(answered or [], "deployment", name, chosen, replicaset_numbers(owned))
    if (deployment.get("spec") or {}).get("paused"):
        raise errors.InvalidArgument(
            f"deployment {name} is paused; kubectl refuses to roll back a paused deployment: the human runs `kubectl "
            f"rollout resume deployment/{name} -n {namespace}` first (restore_measure plans it for a pause_rollout "
            "measure; the paused rollout then continues until the rollback replaces it), then plan the rollback again"
        )
    if to_revision is None and len(kept) < 2:
        # Nowhere to go: say what fits what its pods show instead (a crash loop is not helped by more replicas).
        pods = kube.list("pods", namespace, label_selector=deployment_selector(deployment), limit=500).items
        raise errors.InvalidArgument(
            f"deployment {name} has no previous revision to roll back to (revisions kept: "
            f"{', '.join(map(str, kept)) or 'none'}); instead, {instead(namespace, 'deployment', name, pods)}"
        )
    target = pick_target(deployment, owned, to_revision)
    target_revision = revision_of(target)
    template = template_without_hash(target)
    if template == deployment["spec"]["template"]:
        raise errors.InvalidArgument(
            f"deployment {name} already runs the template of revision {target_revision}; nothing to roll back"
        )
    patch = undo_patch(deployment, target)
    pods = workload_pods(kube, namespace, deployment)  # what they fail on, and which revision served
    # The server validates and defaults the result without persisting it: the diff is the API's, not ours.
    dry = kube.patch("deployments", name, patch, namespace, patch_type="json", dry_run=True)
    context = kube.context
    command = commands.kubectl(
        ["rollout", "undo", f"deployment/{name}"],
        namespace=namespace,
        context=context,
        flags=[f"--to-revision={target_revision}"],
    )
    undo = None
    if current is not None:
        undo = commands.kubectl(
            ["rollout", "undo", f"deployment/{name}"],
            namespace=namespace,
            context=context,
            flags=[f"--to-revision={current}"],
        )
    images = [c.get("image") for c in (template.get("spec") or {}).get("containers") or []]
    rs_name = target["metadata"]["name"]
    preconditions: list[Precondition] = [
        precondition("deployments", deployment, DEPLOYMENT_PATHS, namespace=namespace, name=name),
        precondition("replicasets", target, REPLICASET_PATHS, namespace=namespace, name=rs_name),
    ]
    return PlanDraft(
        tool="rollback_deployment",
        summary=f"Roll deployment {name} in {namespace} back from revision {current} to revision {target_revision} "
        f"(ReplicaSet {rs_name}, image {', '.join(str(i) for i in images)}).",
        target=Target(kind="Deployment", namespace=namespace, name=name, uid=deployment["metadata"].get("uid")),
        risk="mutation",
        steps=[
            patch_step(
                f"replace the pod template with revision {target_revision}'s",
                command,
                "deployments",
                name,
                namespace,
                undo_patch(deployment, target, sealed=True),
                "json",
                undo_command=undo,
            )
        ],
        undo_command=undo,
        diff=diff_values(visible(deployment), visible(dry)),
        preconditions=preconditions,
        warnings=rollback_checks.plan_warnings(
            rollback_checks.plan_checks(
                deployment,
                target,
                owned,
                datetime.now(UTC),
                rollback_reads(kube, namespace, deployment, pods),
                pods,
                read_mount_failures(kube, namespace, pods),
            )
        )
        + (
            []
            if current is not None
            else [warning("manual_undo", f"deployment {name} has no revision annotation; undo is manual")]
        )
        + (default_target_doubts(deployment, owned, target, pods) if to_revision is None else []),
    )


def workload_pods(kube: Kube, namespace: str, deployment: dict[str, Any]) -> list[dict[str, Any]]:
    sharing = Sharing()
    selector = deployment_selector(deployment)
    return list_all(kube, "pods", namespace, label_selector=selector, keep=lambda p: slim_pod(p, sharing)).items


def default_target_doubts(
    deployment: dict[str, Any], owned: list[dict[str, Any]], target: dict[str, Any], pods: list[dict[str, Any]]
) -> list[PlanWarning]:
    """kubectl rollout undo goes to the revision before the current one, whatever it was: when that one ran only
    briefly or its pods fail now, say so, and name the known-good revision to pass as to_revision."""
    now = datetime.now(UTC)
    better = known_good_instead(deployment, owned, pods, now)
    doubt = known_good(target, owned, pods, now)
    return default_target_warnings(revision_of(target), better, doubt)


def rollback_deployment(
    deps: Deps,
    namespace: Annotated[str, Field(description="Namespace of the deployment.")],
    deployment: Annotated[str, Field(description="Deployment name.")],
    to_revision: Annotated[
        Revision | None, Field(description="Revision to return to; default the previous one, as kubectl rollout undo.")
    ] = None,
) -> Proposal:
    """Plan a rollback of a deployment to an earlier revision (kubectl rollout undo). Nothing changes until the
    returned token is confirmed with confirm_command. Use it when a recent rollout caused the incident."""
    found = rulings(deps, namespace)
    draft = plan_rollback(deps.kube, namespace, deployment, to_revision, found)
    draft.warnings += taken_back(found, "deployment", deployment)
    return deps.propose(draft)

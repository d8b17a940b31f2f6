"""pause_rollout, and its restore (the resume): stop a Deployment's rollout where it stands.

`kubectl rollout pause` sends one strategic merge patch, {"spec":{"paused":true}}; `kubectl rollout resume` sends
{"spec":{"paused":null}}. While paused the deployment controller rolls no template change further: it creates no
more pods of the new revision and removes none of the earlier one's, so an earlier revision's Ready pods keep
serving. It is the step that is left when a human denied the rollback of a bad rollout still under way
(review-assist7 H5). kubectl refuses to roll back a paused deployment, so the resume (restore_measure) comes first.

Layer: tools.mitigate.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import Field

from incident_response.tools.core import commands, errors
from incident_response.tools.core.plan_warnings import warning
from incident_response.tools.engine.deps import Deps
from incident_response.tools.engine.pending import Proposal
from incident_response.tools.engine.plan import Change, KubeWrite, PlanDraft, Target, patch_step, pointer, precondition
from incident_response.tools.k8s.pod_templates import same_pod_template
from incident_response.tools.k8s.unfinished import Unfinished, unfinished_rollout
from incident_response.tools.k8s.workloads import deployment_selector, images_of, owned_by, revision_of
from incident_response.tools.kube.client import Kube

PATHS = [pointer("metadata", "uid"), pointer("metadata", "generation"), pointer("spec", "paused")]


def rollout_command(verb: str, namespace: str, name: str, context: str | None) -> str:
    return commands.kubectl(["rollout", verb, f"deployment/{name}"], namespace=namespace, context=context)


def owned(kube: Kube, namespace: str, deployment: dict[str, Any]) -> list[dict[str, Any]]:
    listed = kube.list("replicasets", namespace, label_selector=deployment_selector(deployment)).items
    return [rs for rs in listed if owned_by(rs, deployment)]


def under_way(kube: Kube, namespace: str, deployment: dict[str, Any]) -> Unfinished | None:
    """The deployment's rollout when it has not finished and an earlier revision's pods still serve."""
    return unfinished_rollout(deployment, owned(kube, namespace, deployment))


def held_change(kube: Kube, namespace: str, deployment: dict[str, Any]) -> str | None:
    """The template change a resume rolls out: while paused the controller makes no ReplicaSet for a new template,
    so a template no ReplicaSet records was changed during the pause (review-landed8 R1). Said as its images
    against the current revision's; None when a ReplicaSet records the template."""
    template = (deployment.get("spec") or {}).get("template") or {}
    replicasets = owned(kube, namespace, deployment)
    if any(same_pod_template((rs.get("spec") or {}).get("template"), template) for rs in replicasets):
        return None
    revision = revision_of(deployment)
    current = next((rs for rs in replicasets if revision_of(rs) == revision), None)
    before = images_of((current.get("spec") or {}).get("template") or {}) if current is not None else []
    after = images_of(template)
    if before == after:
        return f"a template edit made while paused (images unchanged: {', '.join(after)})"
    return f"images {', '.join(before) or '(none known)'} -> {', '.join(after)}, set while paused"


def stands(rollout: Unfinished) -> str:
    return (
        f"revision {rollout.revision} has {rollout.ready} of {rollout.replicas} Ready pods, revision "
        f"{rollout.serving_revision}'s {rollout.serving_ready} serve"
    )


def plan_pause(
    kube: Kube, namespace: str, name: str, *, resume: bool = False, restores: str | None = None
) -> PlanDraft:
    """Read, validate and dry-run the pause (or, `resume`, its undo)."""
    deployment = kube.get("deployments", name, namespace)
    paused = bool((deployment.get("spec") or {}).get("paused"))
    if paused != resume:
        state = "is already paused" if paused else "is not paused"
        raise errors.InvalidArgument(f"deployment {name} in {namespace} {state}; nothing to change")
    context = kube.context
    verb, undo_verb = ("resume", "pause") if resume else ("pause", "resume")
    step = patch_step(
        f"{'resume' if resume else 'pause'} the rollout of deployment {name}",
        rollout_command(verb, namespace, name, context),
        "deployments",
        name,
        namespace,
        {"spec": {"paused": None if resume else True}},
        "strategic",
        undo_command=rollout_command(undo_verb, namespace, name, context),
    )
    assert isinstance(step.action, KubeWrite)
    kube.patch("deployments", name, step.action.body, namespace, patch_type="strategic", dry_run=True)
    rollout = under_way(kube, namespace, deployment)
    if resume:
        summary = f"Resume deployment {name}'s rollout ({namespace})."
        change = held_change(kube, namespace, deployment)
        if change is not None:
            warnings = [warning("template", f"Resuming rolls out a new revision: {change}.")]
        else:
            warnings = [warning("rollout", f"Its rollout goes on: {stands(rollout)}.")] if rollout is not None else []
    else:
        where = f": {stands(rollout)}" if rollout is not None else ""
        summary = f"Pause deployment {name}'s rollout ({namespace}){where}."
        warnings = [
            warning("rollback", "A rollback needs the resume first (restore_measure).")
            if rollout is not None
            else warning(
                "complete", f"deployment {name}'s rollout is complete: a pause stops only the next template change."
            )
        ]
    return PlanDraft(
        tool="restore_measure" if restores else "pause_rollout",
        summary=summary,
        target=Target(kind="Deployment", namespace=namespace, name=name, uid=deployment["metadata"].get("uid")),
        steps=[step],
        undo_command=step.undo_command,
        diff=[Change(path="spec.paused", before=paused or None, after=None if resume else True)],
        preconditions=[precondition("deployments", deployment, PATHS, namespace=namespace, name=name)],
        warnings=warnings,
        temporary=not resume,
        restores=restores,
    )


def pause_rollout(
    deps: Deps,
    namespace: Annotated[str, Field(description="Namespace of the deployment.")],
    deployment: Annotated[str, Field(description="Deployment name.")],
) -> Proposal:
    """Plan pausing a deployment's rollout (kubectl rollout pause): no more pods of the new revision start and none
    of the earlier one's go; running pods stay as they are. Recorded as a temporary measure (restore_measure resumes
    it). Nothing changes until the token is confirmed with confirm_command."""
    return deps.propose(plan_pause(deps.kube, namespace, deployment))

"""rollback_workload: plan `kubectl rollout undo` of a StatefulSet or DaemonSet as a pending command.

kubectl (rollback.go) reads the workload and the ControllerRevisions it controls, picks the target revision
(the given one, else the second-newest) and PATCHes the workload with the revision's data, a strategic-merge
patch that replaces `spec.template`. We write the same template as a JSON patch (`replace /spec/template`)
preceded by `test` ops on the uid and generation, so the write refuses a workload that changed after the
confirm-time check; the resulting object is the same as kubectl's.

A StatefulSet needs more than the template: it rolls back one pod at a time from the highest ordinal, and an
OrderedReady set waits for every pod to be Running and Ready before it replaces the next, so a pod of the bad
revision that never got Ready blocks the rollback until it is deleted (upstream's "forced rollback"). The plan
deletes those pods as its second step. Its PersistentVolumeClaims are not rolled back: the old revision reads
what the new one wrote.

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
    KubeWrite,
    PlanDraft,
    Precondition,
    Step,
    Target,
    diff_values,
    patch_step,
    pointer,
    precondition,
    seal_secrets,
)
from incident_response.tools.engine.rollback_answers import Ruling, rulings, taken_back
from incident_response.tools.k8s import controller_revisions as cr
from incident_response.tools.k8s.args import Revision
from incident_response.tools.k8s.views import meta
from incident_response.tools.k8s.workloads import owned_by
from incident_response.tools.kube.client import Kube
from incident_response.tools.mitigate.ruled_rollbacks import refuse_ruled_out
from incident_response.tools.playbook.known_good import (
    default_target_warnings,
    known_good_revision,
    known_good_workload_instead,
)
from incident_response.tools.playbook.no_rollback import instead
from incident_response.tools.playbook.rollback_checks import failing_config_warnings

WORKLOAD_PATHS = [
    pointer("metadata", "uid"),
    pointer("metadata", "generation"),
    pointer("spec", "updateStrategy"),
]
REVISION_PATHS = [pointer("metadata", "uid"), pointer("revision")]


def undo_patch(workload: dict[str, Any], target: dict[str, Any], *, sealed: bool = False) -> list[dict[str, Any]]:
    """The target revision's template, guarded by `test` ops on what the plan was made against. `sealed`: the form
    the plan stores, with env values and other secrets left in the ControllerRevision and read again at confirm."""
    meta = workload["metadata"]
    template: Any = cr.template_of(target)
    if sealed:
        where = target["metadata"]
        template = seal_secrets(
            template,
            resource="controllerrevisions",
            namespace=where.get("namespace"),
            name=where["name"],
            base=pointer("data", "spec", "template"),
        )
    return [
        {"op": "test", "path": "/metadata/uid", "value": meta["uid"]},
        {"op": "test", "path": "/metadata/generation", "value": meta["generation"]},
        {"op": "replace", "path": "/spec/template", "value": template},
    ]


def ordinal_range(names: list[str]) -> str:
    """`data-db-{0..2}` for three or more names that differ only by consecutive ordinals; else the names listed."""
    parts = [name.rpartition("-") for name in names]
    prefixes = {head for head, _, _ in parts}
    if len(names) < 3 or len(prefixes) != 1 or not all(tail.isdigit() for _, _, tail in parts):
        return ", ".join(names)
    numbers = [int(tail) for _, _, tail in parts]
    if numbers != list(range(numbers[0], numbers[0] + len(numbers))):
        return ", ".join(names)
    return f"{parts[0][0]}-{{{numbers[0]}..{numbers[-1]}}}"


def cautions(
    kind: str, workload: dict[str, Any], target: dict[str, Any], stuck: list[str], claims: list[str]
) -> list[PlanWarning]:
    """What an expert says before rolling this kind back."""
    spec = workload.get("spec") or {}
    name = workload["metadata"]["name"]
    out: list[PlanWarning] = []
    if kind == "statefulset":
        replicas = spec.get("replicas", 1)
        partition = ((spec.get("updateStrategy") or {}).get("rollingUpdate") or {}).get("partition") or 0
        if (spec.get("updateStrategy") or {}).get("type") != "OnDelete":  # OnDelete rolls nothing by itself
            # Only the ordinals at or above a partition take a revision (review-assist7: a canary by partition).
            moving = max(replicas - partition, 0)
            out.append(
                warning(
                    "order",
                    f"one pod at a time from the highest ordinal ({name}-{replicas - 1} first): {moving} pod start-ups",
                )
            )
        if partition:
            out.append(warning("partition", f"pods below ordinal {partition} are not rolled back"))
            # Below the partition no pod ever ran the newer revision: its claims hold no newer data.
            claims = [
                c for c in claims if not (c.rpartition("-")[2].isdigit() and int(c.rpartition("-")[2]) < partition)
            ]
        if stuck:
            out.append(
                warning("stuck", f"{', '.join(stuck)} never got Ready on the bad revision and would block the rollback")
            )
        if claims:
            out.append(
                warning(
                    "stateful",
                    f"claims {ordinal_range(claims)} are not rolled back: revision {cr.number(target)} reads the newer "
                    "data",
                )
            )
    else:
        rolling = (spec.get("updateStrategy") or {}).get("rollingUpdate") or {}
        out.append(
            warning(
                "order",
                f"daemonset {name} rolls back node by node (maxUnavailable {rolling.get('maxUnavailable', 1)}, "
                f"maxSurge {rolling.get('maxSurge', 0)}), cordoned nodes included",
            )
        )
    if (spec.get("updateStrategy") or {}).get("type") == "OnDelete":
        out.append(warning("on_delete", "updateStrategy is OnDelete: no pod changes until each is deleted"))
    return out


def plan_rollback(
    kube: Kube, namespace: str, kind: str, name: str, to_revision: int | None, answered: list[Ruling] | None = None
) -> PlanDraft:
    """Read, validate, dry-run; the draft the engine turns into a pending command. `answered`: the human's answers
    that rule rollbacks out."""
    resource = cr.RESOURCE[kind]
    workload = kube.get(resource, name, namespace)
    selector = cr.workload_selector(workload)
    listed = kube.list("controllerrevisions", namespace, label_selector=selector)
    owned = cr.owned_revisions(workload, listed.items)
    current = cr.current_revision(workload, owned)
    if to_revision is None and len(owned) < 2:
        # Nowhere to go: say what fits what its pods show instead (a crash loop is not helped by more replicas).
        kept = ", ".join(str(cr.number(r)) for r in owned) or "none"
        pods = kube.list("pods", namespace, label_selector=selector, limit=500).items
        raise errors.InvalidArgument(
            f"{kind} {name} has no previous revision to roll back to (revisions kept: {kept}); instead, "
            f"{instead(namespace, kind, name, pods)}"
        )
    target = cr.pick_revision(kind, workload, owned, to_revision)
    target_number = cr.number(target)
    refuse_ruled_out(answered or [], kind, name, target_number, {str(meta(r).name): cr.number(r) for r in owned})
    if current is not None and target is current:
        raise errors.InvalidArgument(
            f"{kind} {name} already runs the template of revision {target_number}; nothing to roll back"
        )
    pods = kube.list("pods", namespace, label_selector=selector).items
    stuck = cr.stuck_pods(workload, pods, target) if kind == "statefulset" else []
    claims = cr.claim_names(workload) if kind == "statefulset" else []
    dry = kube.patch(resource, name, undo_patch(workload, target), namespace, patch_type="json", dry_run=True)
    context = kube.context
    ref = f"{kind}/{name}"
    command = commands.kubectl(
        ["rollout", "undo", ref], namespace=namespace, context=context, flags=[f"--to-revision={target_number}"]
    )
    undo = None
    if current is not None:
        undo = commands.kubectl(
            ["rollout", "undo", ref],
            namespace=namespace,
            context=context,
            flags=[f"--to-revision={cr.number(current)}"],
        )
    steps = [
        patch_step(
            f"replace the pod template with revision {target_number}'s",
            command,
            resource,
            name,
            namespace,
            undo_patch(workload, target, sealed=True),
            "json",
            undo_command=undo,
        )
    ]
    preconditions: list[Precondition] = [
        precondition(resource, workload, WORKLOAD_PATHS, namespace=namespace, name=name),
        precondition(
            "controllerrevisions", target, REVISION_PATHS, namespace=namespace, name=target["metadata"]["name"]
        ),
    ]
    by_name = {p["metadata"]["name"]: p for p in pods}
    for pod_name in stuck:
        pod = by_name[pod_name]
        steps.append(
            Step(
                description=f"delete pod {pod_name}, stuck on the bad revision, so it is recreated at revision "
                f"{target_number}",
                command=commands.kubectl(["delete", "pod", pod_name], namespace=namespace, context=context),
                action=KubeWrite(
                    verb="delete",
                    resource="pods",
                    namespace=namespace,
                    name=pod_name,
                    body={"uid": pod["metadata"]["uid"]},
                ),
            )
        )
        preconditions.append(
            precondition("pods", pod, [pointer("metadata", "uid")], namespace=namespace, name=pod_name)
        )
    current_text = f"revision {cr.number(current)}" if current is not None else "its current template"
    return PlanDraft(
        tool="rollback_workload",
        # The images are the diff's (a line of the text too).
        summary=f"Roll {kind} {name} in {namespace} back from {current_text} to revision {target_number}"
        + (f", deleting stuck {', '.join(stuck)}" if stuck else "")
        + ".",
        target=Target(kind=cr.KIND[kind], namespace=namespace, name=name, uid=workload["metadata"].get("uid")),
        risk="mutation",
        steps=steps,
        undo_command=undo,
        diff=diff_values(
            {"spec": {"template": (workload.get("spec") or {}).get("template")}},
            {"spec": {"template": (dry.get("spec") or {}).get("template")}},
        ),
        preconditions=preconditions,
        warnings=cautions(kind, workload, target, stuck, claims)
        + failing_config_warnings(
            pods, cr.template_of(target), target_number, read_mount_failures(kube, namespace, pods)
        )
        + (
            []
            if current is not None
            else [warning("manual_undo", f"{kind} {name}'s template matches no revision; undo is manual")]
        )
        + (default_target_doubts(kind, workload, owned, target, pods) if to_revision is None else []),
    )


def default_target_doubts(
    kind: str, workload: dict[str, Any], owned: list[dict[str, Any]], target: dict[str, Any], pods: list[dict[str, Any]]
) -> list[PlanWarning]:
    """kubectl rollout undo goes to the second-newest revision, whatever it was: when that one ran only briefly or
    its pods fail now, say so, and name the known-good revision to pass as to_revision."""
    now = datetime.now(UTC)
    mine = [p for p in pods if owned_by(p, workload)]
    better = known_good_workload_instead(kind, workload, owned, mine, now)
    doubt = known_good_revision(kind, target, owned, mine, now)
    return default_target_warnings(cr.number(target), better, doubt)


def rollback_workload(
    deps: Deps,
    namespace: Annotated[str, Field(description="Namespace of the workload.")],
    kind: Annotated[cr.WorkloadKind, Field(description="statefulset or daemonset (deployments: rollback_deployment).")],
    workload: Annotated[str, Field(description="StatefulSet or DaemonSet name.")],
    to_revision: Annotated[
        Revision | None, Field(description="Revision to return to; default the previous one, as kubectl rollout undo.")
    ] = None,
) -> Proposal:
    """Plan a rollback of a StatefulSet or DaemonSet to an earlier revision (kubectl rollout undo; a StatefulSet's
    pods stuck on the bad revision are deleted too, as a second step). Nothing changes until the returned token is
    confirmed with confirm_command. Use it when a recent rollout of one of these caused the incident."""
    found = rulings(deps, namespace)
    draft = plan_rollback(deps.kube, namespace, kind, workload, to_revision, found)
    draft.warnings += taken_back(found, kind, workload)
    return deps.propose(draft)

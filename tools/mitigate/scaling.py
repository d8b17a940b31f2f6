"""scale_deployment and override_hpa: add capacity, with the checks an on-call engineer makes before typing it.

`kubectl scale` sends a merge patch to the Deployment's `scale` subresource; we send the same change as a JSON patch
of the Deployment led by `test` ops on its uid and generation, so a rollout or scale after the confirm-time check
makes the write itself fail (the Scale object carries no generation to test). `kubectl patch hpa -p` is a strategic
merge patch. The confirm-time re-read of the replicas, the pod template (or the HPA's bounds and its deployment's
template) makes a plan made against another template or other numbers go stale instead of running.

Layer: tools.mitigate.
"""

from __future__ import annotations

import json
import shlex
from typing import Annotated, Any

from pydantic import Field

from incident_response.tools.core import commands, errors
from incident_response.tools.core.plan_warnings import PlanWarning, warning
from incident_response.tools.engine import sizing_reads
from incident_response.tools.engine.deps import Deps, check_name
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
    resolve,
)
from incident_response.tools.engine.quota_reads import namespace_holders, quota_short
from incident_response.tools.engine.sizing_reads import CEILING_ENV, LARGE_FACTOR, replica_ceiling
from incident_response.tools.k8s import backends, capacity
from incident_response.tools.k8s.args import PositiveReplicas, Replicas
from incident_response.tools.k8s.quotas import QuotaRoom
from incident_response.tools.k8s.views import meta
from incident_response.tools.k8s.workloads import (
    REVISION,
    current_replicas,
    deployment_selector,
    hpa_bounds,
    managing_hpa,
    template_claims,
    template_spec,
)
from incident_response.tools.kube.client import Kube, PatchType
from incident_response.tools.mitigate.canary_weight import primary_hazard, zero_warning
from incident_response.tools.mitigate.demand import read_demand
from incident_response.tools.mitigate.pod_disruption import RWO
from incident_response.tools.playbook.demand_facts import LAST_APPLIED
from incident_response.tools.playbook.sizing import shortfall, size

ALLOW_LARGE = "Allow more than 10x the current replicas or more than the server's ceiling."
TEMPLATE = pointer("spec", "template")
# What a replica change depends on: the count, and the pod template it multiplies (a rollout after the plan would
# scale an image nobody reviewed). The template is kept as a digest; generation moves with any spec change.
TEMPLATE_PATHS = [pointer("metadata", "uid"), pointer("metadata", "annotations", REVISION), TEMPLATE]
DEPLOYMENT_PATHS = [*TEMPLATE_PATHS, pointer("metadata", "generation"), pointer("spec", "replicas")]
HPA_PATHS = [
    pointer("metadata", "uid"),
    pointer("spec", "scaleTargetRef"),
    pointer("spec", "minReplicas"),
    pointer("spec", "maxReplicas"),
]
# The namespace's autoscalers, by what they scale and within which bounds: one created after the plan would take a
# manual scale back (the plan refused to scale a deployment an HPA manages).
HPA_SET_PATHS = [
    pointer("metadata", "name"),
    pointer("spec", "scaleTargetRef", "name"),
    pointer("spec", "minReplicas"),
    pointer("spec", "maxReplicas"),
]


def check_replica_bound(argument: str, replicas: int, current: int, *, allow_large: bool, ceiling: int) -> None:
    """Refuse a count far beyond the current one (a typo'd zero, a unit mix-up) unless the caller says it is meant."""
    limit = min(max(current, 1) * LARGE_FACTOR, ceiling)
    if replicas > limit and not allow_large:
        raise errors.InvalidArgument(
            f"{argument}={replicas} is more than {LARGE_FACTOR}x the current {current} or above this server's "
            f"ceiling of {ceiling} ({CEILING_ENV}); if that is really intended, plan again with allow_large=true"
        )


def deployment_precondition(deployment: dict[str, Any], paths: list[str] = DEPLOYMENT_PATHS) -> Precondition:
    meta = deployment["metadata"]
    return precondition(
        "deployments", deployment, paths, namespace=meta.get("namespace"), name=meta.get("name"), digests=[TEMPLATE]
    )


def autoscalers_precondition(namespace: str, hpas: list[dict[str, Any]]) -> Precondition:
    return precondition("horizontalpodautoscalers", hpas, HPA_SET_PATHS, namespace=namespace)


def guard_ops(obj: dict[str, Any]) -> list[dict[str, Any]]:
    """JSON-patch `test` ops on the object a plan was made against: the write itself refuses an object whose spec
    changed since (another rollout, a scale), so the confirm-time check and the write are one atomic step."""
    meta = obj["metadata"]
    return [
        {"op": "test", "path": "/metadata/uid", "value": meta.get("uid")},
        {"op": "test", "path": "/metadata/generation", "value": meta.get("generation")},
    ]


def scale_step(kube: Kube, deployment: dict[str, Any], replicas: int, description: str) -> Step:
    """`kubectl scale`, written as a guarded JSON patch of the Deployment (same result, plus the plan's preconditions;
    kubectl scale itself writes the scale subresource, which carries no generation to test)."""
    meta = deployment["metadata"]
    name, namespace = str(meta["name"]), str(meta["namespace"])
    ops = [*guard_ops(deployment), {"op": "replace", "path": "/spec/replicas", "value": replicas}]
    return patch_step(
        description,
        scale_command(name, replicas, namespace, kube.context),
        "deployments",
        name,
        namespace,
        ops,
        "json",
        undo_command=scale_command(name, current_replicas(deployment), namespace, kube.context),
    )


def compact(body: Any) -> str:
    return json.dumps(body, separators=(",", ":"))


def patch_command(
    kind: str, name: str, body: Any, namespace: str, context: str | None, json_patch: bool = False
) -> str:
    """`kubectl patch KIND NAME -n NS --context CTX [--type=json] -p '...'`, the playbook's form."""
    argv = commands.kubectl_argv(["patch", kind, name], namespace=namespace, context=context)
    if json_patch:
        argv.append("--type=json")
    return shlex.join([*argv, "-p", compact(body)])


def kubectl_patch_step(
    description: str,
    kind: str,
    resource: str,
    name: str,
    namespace: str,
    context: str | None,
    *,
    body: Any,
    undo_body: Any,
    patch_type: PatchType,
    guarded: list[Any] | None = None,
) -> Step:
    """One `kubectl patch` of one object; its undo is the same command with `undo_body`. With `guarded` (a JSON patch
    making the same change after `test` ops on what the plan saw) that is the write, so it refuses a changed object."""
    json_patch = patch_type == "json"
    return patch_step(
        description,
        patch_command(kind, name, body, namespace, context, json_patch),
        resource,
        name,
        namespace,
        body if guarded is None else guarded,
        patch_type if guarded is None else "json",
        undo_command=patch_command(kind, name, undo_body, namespace, context, json_patch),
    )


def replace_ops(obj: dict[str, Any], changes: dict[str, Any]) -> list[Any]:
    """`test` then `replace` for each pointer -> new value (`add` where it is absent), after a test on the uid."""
    ops: list[Any] = [{"op": "test", "path": "/metadata/uid", "value": (obj.get("metadata") or {}).get("uid")}]
    for path, value in changes.items():
        current = resolve(obj, path)
        if current is None:
            ops.append({"op": "add", "path": path, "value": value})
        else:
            ops += [{"op": "test", "path": path, "value": current}, {"op": "replace", "path": path, "value": value}]
    return ops


def scale_command(name: str, replicas: int, namespace: str, context: str | None) -> str:
    args = ["scale", f"deployment/{name}", f"--replicas={replicas}"]
    return str(commands.kubectl(args, namespace=namespace, context=context))


def room_for(
    kube: Kube, deployment: dict[str, Any], count: int, room: sizing_reads.Room | None = None
) -> tuple[int, capacity.Requests]:
    """How many of `count` more replicas of the deployment fit on the cluster's nodes now, and what each requests
    (`room`: the nodes and pods read already)."""
    nodes, pods = room if room is not None else sizing_reads.read_room(kube)
    return capacity.placeable(nodes, pods, template_spec(deployment), count)


def growth_warning(
    kube: Kube,
    deployment: dict[str, Any],
    current: int,
    replicas: int,
    what: str,
    room: sizing_reads.Room | None = None,
) -> str | None:
    """The warning for growing from `current` to `replicas` when some of the new pods would stay Pending."""
    placed, want = room_for(kube, deployment, replicas - current, room)
    return capacity.pending_warning(what, placed, replicas - current, want)


def check_scale(
    deployment: dict[str, Any],
    hpas: list[dict[str, Any]],
    pods: list[dict[str, Any]],
    replicas: int,
    *,
    allow_large: bool,
    ceiling: int,
) -> list[PlanWarning]:
    """The refusals (raised) and warnings of a manual scale, on plain dicts."""
    name = backends.name_of(deployment)
    current = current_replicas(deployment)
    if replicas == current:
        raise errors.InvalidArgument(f"deployment {name} already has {current} replicas; nothing to scale")
    hpa = managing_hpa(hpas, name)
    if hpa is not None:
        spec = hpa.get("spec") or {}
        raise errors.InvalidArgument(
            f"HorizontalPodAutoscaler {backends.name_of(hpa)} manages deployment {name} (min "
            f"{spec.get('minReplicas', 1)}, max {spec.get('maxReplicas')}) and would undo a manual scale within "
            f"seconds. Use override_hpa(hpa={backends.name_of(hpa)!r}, min_replicas=..., max_replicas=...) instead"
        )
    if replicas > current:
        failing = {backends.name_of(p): why for p in pods if (why := backends.broken(p))}
        if failing:
            listed = ", ".join(f"{pod} ({why})" for pod, why in sorted(failing.items()))
            raise errors.InvalidArgument(
                f"{len(failing)} of {len(pods)} pods of deployment {name} are failing on their own: {listed}. More "
                "replicas of a failing pod add no capacity (the playbook: fix unhealthy pods first); consider "
                "rollback_deployment, or set_memory_limit for OOMKilled pods"
            )
        check_replica_bound("replicas", replicas, current, allow_large=allow_large, ceiling=ceiling)
    warnings = []
    if replicas == 0:
        warnings.append(
            warning(
                "offline",
                f"Scaling to 0 takes deployment {name} offline: every pod stops and its Service has no "
                "endpoints until it is scaled up again.",
            )
        )
    return warnings


def quota_warning(
    kube: Kube, deployment: dict[str, Any], more: int, *, refuse: bool, pods: list[dict[str, Any]] | None = None
) -> PlanWarning | None:
    """A ResourceQuota that cannot hold `more` new pods of the deployment: refused (with `refuse`) when it holds
    none of them (the scale would only record FailedCreate events), naming what fills it, else a warning naming what
    it allows (what fills it in the detail)."""
    name, namespace = backends.name_of(deployment), str(meta(deployment).namespace)
    short = quota_short(kube, deployment, more, pods)
    if short is None:
        return None
    room = short.room
    if room.unset:
        return warning("quota", unset_refusal(room, name, refuse=refuse and short.ranges_read))
    raise_it = short.raise_command(namespace, more)
    # Freeing room is often the answer (hung batch pods hold it): what holds it comes before the raise.
    held = namespace_holders(kube, short, deployment)
    if room.fits == 0 and refuse:
        raise errors.InvalidArgument(
            f"{room.text()} holds no more pods of deployment {name}: the {more} new pod{'s' if more > 1 else ''} "
            f"would only be refused (FailedCreate, exceeded quota). {held[:1].upper()}{held[1:]}{'. ' if held else ''}"
            f"A human frees room in it first or raises it ({raise_it}), then plan the scale again"
        )
    brief = (
        f"{room.text()} holds {room.fits} of the {more} new pods; the rest wait until a human raises it ({raise_it})."
    )
    return warning("quota", brief, f"{brief[:-1]} or frees room in it ({held})." if held else brief)


def unset_refusal(room: QuotaRoom, name: str, *, refuse: bool) -> str:
    """A quota'd compute resource the pods leave unset (no LimitRange default): admission refuses every pod, and
    raising the quota does not help. Refused when the LimitRanges were read; a warning when they could not be."""
    kind, _, resource = room.key.rpartition(".")
    why = (
        f"ResourceQuota {room.quota} limits {room.key} and deployment {name}'s template leaves it unset, so "
        f"admission refuses its new pods (must specify {room.key}). A human sets it (kubectl set resources "
        f"deployment/{name} --{kind or 'requests'}={resource}=AMOUNT) or adds a LimitRange default"
    )
    if refuse:
        raise errors.InvalidArgument(f"{why}, then plan the scale again")
    return f"{why}; the namespace's LimitRanges could not be read, so a default may fill it."


def reset_warning(deployment: dict[str, Any], replicas: int) -> PlanWarning:
    """What undoes a manual scale by itself: the next apply of the manifest (with the count it holds, when kubectl's
    last-applied annotation shows it), or an autoscaler; and where the measure is listed."""
    manifest = manifest_replicas(deployment)
    if manifest is None:
        applied = "the next apply of its manifest or an HPA resets it"
    elif manifest == replicas:
        applied = f"its manifest (kubectl's last-applied) asks for {manifest} too; an HPA would reset it"
    else:
        applied = f"the next `kubectl apply` sets it back to {manifest} (kubectl's last-applied), as would an HPA"
    return warning("temporary", f"A manual scale is temporary: {applied}; restore_measure scales it back.")


def shared_claims(kube: Kube, deployment: dict[str, Any], replicas: int) -> list[PlanWarning]:
    """Refuse to run several replicas on one ReadWriteOnce claim (every replica of a Deployment mounts the same
    claim): on other nodes they cannot attach it, on the same node a database runs twice on one data directory.
    A claim that cannot be read is a warning; a ReadWriteMany one is fine."""
    name = backends.name_of(deployment)
    warnings = []
    for claim in template_claims(deployment):
        try:
            pvc = kube.get("persistentvolumeclaims", claim, meta(deployment).namespace)
        except (errors.NotFound, errors.Forbidden):
            warnings.append(
                warning(
                    "volume",
                    f"Every pod of deployment {name} mounts PVC {claim}, which could not be read: if it is "
                    "ReadWriteOnce, replicas on other nodes cannot attach it and two copies of a database on one "
                    "volume corrupt it.",
                )
            )
            continue
        modes = [m for m in (pvc.get("spec") or {}).get("accessModes") or [] if m in RWO]
        if modes:
            raise errors.InvalidArgument(
                f"every pod of deployment {name} mounts PVC {claim} ({'/'.join(modes)}): {replicas} replicas would "
                "share one volume that attaches to one node (the others hang in ContainerCreating: Multi-Attach), "
                "and a second copy of a database on one data directory is refused or corrupts it. Nothing was "
                f"planned: raise its resources instead (kubectl set resources deployment/{name}), or lower the load "
                "on it"
            )
    return warnings


def manifest_replicas(deployment: dict[str, Any]) -> int | None:
    applied = meta(deployment).annotations.get(LAST_APPLIED)
    try:
        spec = (json.loads(str(applied)) or {}).get("spec") or {} if applied else {}
    except (ValueError, AttributeError):
        return None
    value = spec.get("replicas") if isinstance(spec, dict) else None
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def plan_scale(
    kube: Kube, namespace: str, name: str, replicas: int, *, allow_large: bool = False, restores: str | None = None
) -> PlanDraft:
    """Plan a new replica count; with `restores` (a scale measure's token) it plans putting the old count back."""
    deployment = kube.get("deployments", name, namespace)
    hpas = kube.list("horizontalpodautoscalers", namespace).items
    pods = kube.list("pods", namespace, label_selector=deployment_selector(deployment)).items
    pods = [p for p in pods if not backends.terminating(p)]
    current = current_replicas(deployment)
    hpa = managing_hpa(hpas, name)
    if restores is not None and hpa is not None:
        if replicas == current:
            raise errors.InvalidArgument(f"deployment {name} already has {current} replicas; nothing to restore")
        warnings = [
            warning(
                "hpa",
                f"HorizontalPodAutoscaler {backends.name_of(hpa)} manages deployment {name} now (min "
                f"{hpa_bounds(hpa)[0]}, max {hpa_bounds(hpa)[1]}): it sets the replicas itself, so the restored "
                "count holds only until its next sync.",
            )
        ]
    else:
        warnings = check_scale(
            deployment, hpas, pods, replicas, allow_large=allow_large or restores is not None, ceiling=replica_ceiling()
        )
    if restores is None and replicas > max(current, 1):
        warnings += shared_claims(kube, deployment, replicas)
    if replicas > len(pods) and (
        held := quota_warning(kube, deployment, replicas - len(pods), refuse=not restores, pods=pods)
    ):
        warnings.append(held)
    room = sizing_reads.node_room(kube)  # read once: the Pending warning and the sizing's replicas that fit
    if replicas > current and (note := growth_warning(kube, deployment, current, replicas, "new pods", room)):
        warnings.append(warning("pending", note))
    demand = read_demand(kube, deployment, pods, room=room)
    if replicas > 0 and (note := shortfall(size(demand), replicas, current, "replicas")):
        warnings.append(warning("sizing", note))
    if restores is None:
        warnings.append(reset_warning(deployment, replicas))
    # To or from zero under an nginx canary's weight: the weight stays; the canary's first Ready pod takes its share.
    if (weighs := zero_warning(kube, deployment, current, replicas)) is not None:
        warnings.append(weighs)
    if replicas == 0 and current > 0 and (hazard := primary_hazard(kube, deployment)) is not None:
        warnings.append(warning("canary_primary", hazard[0], f"{hazard[1][0].upper()}{hazard[1][1:]}."))
    step = scale_step(kube, deployment, replicas, f"set deployment {name}'s replicas to {replicas}")
    assert isinstance(step.action, KubeWrite)
    dry = kube.patch("deployments", name, step.action.body, namespace, patch_type="json", dry_run=True)
    undo = step.undo_command
    verb = "Restore the replicas of" if restores else "Scale"
    return PlanDraft(
        tool="restore_measure" if restores else "scale_deployment",
        summary=f"{verb} deployment {name} in {namespace} from {current} to {replicas} replicas.",
        target=Target(kind="Deployment", namespace=namespace, name=name, uid=deployment["metadata"].get("uid")),
        risk="destructive" if replicas == 0 else "mutation",
        steps=[step],
        undo_command=undo,
        diff=diff_values(
            {"spec": {"replicas": current}}, {"spec": {"replicas": (dry.get("spec") or {}).get("replicas")}}
        ),
        preconditions=[deployment_precondition(deployment), autoscalers_precondition(namespace, hpas)],
        warnings=warnings,
        temporary=restores is None,
        restores=restores,
    )


def scale_deployment(
    deps: Deps,
    namespace: Annotated[str, Field(description="Namespace of the deployment.")],
    deployment: Annotated[str, Field(description="Deployment name.")],
    replicas: Annotated[Replicas, Field(description="Desired number of replicas; 0 takes it offline.")],
    allow_large: Annotated[bool, Field(description=ALLOW_LARGE)] = False,
) -> Proposal:
    """Plan scaling a deployment (kubectl scale). Use it when healthy pods are overwhelmed by load; it refuses when
    an HPA manages the deployment (use override_hpa) or when its pods are failing on their own. Nothing changes
    until the token is confirmed with confirm_command."""
    return deps.propose(plan_scale(deps.kube, namespace, deployment, replicas, allow_large=allow_large))


# --- HPA override -------------------------------------------------------------------------------------------------


def plan_override_hpa(
    kube: Kube,
    namespace: str,
    name: str,
    min_replicas: int,
    max_replicas: int,
    *,
    restores: str | None = None,
    allow_large: bool = False,
) -> PlanDraft:
    """Plan new HPA bounds; with `restores` (a measure's token) it plans putting the original bounds back."""
    if min_replicas > max_replicas:
        raise errors.InvalidArgument(f"min_replicas {min_replicas} is above max_replicas {max_replicas}")
    hpa = kube.get("horizontalpodautoscalers", name, namespace)
    old_min, old_max = hpa_bounds(hpa)
    if restores is None:
        ceiling = replica_ceiling()
        check_replica_bound("min_replicas", min_replicas, old_max, allow_large=allow_large, ceiling=ceiling)
        check_replica_bound("max_replicas", max_replicas, old_max, allow_large=allow_large, ceiling=ceiling)
    if (old_min, old_max) == (min_replicas, max_replicas):
        raise errors.InvalidArgument(f"HPA {name} already has min {old_min} and max {old_max}; nothing to change")
    warnings: list[PlanWarning] = []
    preconditions = [precondition("horizontalpodautoscalers", hpa, HPA_PATHS, namespace=namespace, name=name)]
    ref = (hpa.get("spec") or {}).get("scaleTargetRef") or {}
    target_name = str(ref.get("name") or "")
    if restores is None and ref.get("kind") == "Deployment":
        deployment = kube.get("deployments", target_name, namespace)
        # The bounds multiply this template; the HPA moves replicas (and so generation) on its own, so not those.
        preconditions.append(deployment_precondition(deployment, TEMPLATE_PATHS))
        current = current_replicas(deployment)
        room = sizing_reads.node_room(kube)
        placed, want = room_for(kube, deployment, max(max_replicas - current, 0), room)
        pods = kube.list("pods", namespace, label_selector=deployment_selector(deployment)).items
        demand = read_demand(kube, deployment, [p for p in pods if not backends.terminating(p)], hpa, room=room)
        fit = demand.fits if demand.fits is not None else current + placed
        if (note := shortfall(size(demand), min_replicas, current, "min_replicas")) is not None:
            warnings.append(warning("sizing", note))
        if fit < min_replicas:
            raise errors.InvalidArgument(
                f"only about {fit} replicas of deployment {target_name} fit on the schedulable nodes (each requests "
                f"{want.text()}), so min_replicas {min_replicas} would leave pods Pending at once. Choose a "
                "min_replicas within capacity, free capacity, or consider vertical scaling"
            )
        if fit < max_replicas:
            warnings.append(
                warning(
                    "pending",
                    f"max_replicas {max_replicas} is beyond what fits now (about {fit} replicas of {target_name}); "
                    "replicas above that would stay Pending.",
                )
            )
        # A namespace quota refuses the pods a raised minimum asks for, as it does a scale (review-assist7 H12).
        live = [p for p in pods if not backends.terminating(p)]
        if min_replicas > len(live) and (
            held := quota_warning(kube, deployment, min_replicas - len(live), refuse=True, pods=live)
        ):
            warnings.append(held)
    body = {"spec": {"minReplicas": min_replicas, "maxReplicas": max_replicas}}
    restore_body = {"spec": {"minReplicas": old_min, "maxReplicas": old_max}}
    spec = hpa.get("spec") or {}
    ops = [
        *replace_ops(hpa, {"/spec/minReplicas": min_replicas, "/spec/maxReplicas": max_replicas}),
        {"op": "test", "path": "/spec/scaleTargetRef", "value": spec.get("scaleTargetRef")},
    ]
    dry = kube.patch("horizontalpodautoscalers", name, ops, namespace, patch_type="json", dry_run=True)
    context = kube.context
    step = kubectl_patch_step(
        f"set HPA {name}'s bounds to {min_replicas}..{max_replicas}",
        "hpa",
        "horizontalpodautoscalers",
        name,
        namespace,
        context,
        body=body,
        undo_body=restore_body,
        patch_type="strategic",
        guarded=ops,
    )

    def bounds(obj: dict[str, Any]) -> dict[str, Any]:
        spec = obj.get("spec") or {}
        return {"spec": {"minReplicas": spec.get("minReplicas"), "maxReplicas": spec.get("maxReplicas")}}

    verb = "Restore" if restores else "Override"
    return PlanDraft(
        tool="restore_measure" if restores else "override_hpa",
        summary=f"{verb} HPA {name} in {namespace}: min {old_min} -> {min_replicas}, max {old_max} -> "
        f"{max_replicas} (scales deployment {target_name}).",
        target=Target(kind="HorizontalPodAutoscaler", namespace=namespace, name=name, uid=hpa["metadata"].get("uid")),
        steps=[step],
        undo_command=step.undo_command,
        diff=diff_values(bounds(hpa), bounds(dry)),
        preconditions=preconditions,
        warnings=warnings,
        temporary=restores is None,
        restores=restores,
    )


def override_hpa(
    deps: Deps,
    namespace: Annotated[str, Field(description="Namespace of the HPA.")],
    hpa: Annotated[str, Field(description="HorizontalPodAutoscaler name.")],
    min_replicas: Annotated[PositiveReplicas, Field(description="New minimum replicas.")],
    max_replicas: Annotated[PositiveReplicas, Field(description="New maximum replicas.")],
    allow_large: Annotated[bool, Field(description=ALLOW_LARGE)] = False,
) -> Proposal:
    """Plan an emergency override of an HPA's min/max replicas (kubectl patch hpa). Use it instead of
    scale_deployment when an HPA manages the deployment. The original bounds are recorded as a temporary measure
    (list_temporary_measures, restore_measure). Nothing changes until the token is confirmed."""
    draft = plan_override_hpa(
        deps.kube, namespace, check_name(hpa, "hpa"), min_replicas, max_replicas, allow_large=allow_large
    )
    return deps.propose(draft)

"""shift_traffic and rollback_canary: the playbook's two-step moves, as one plan whose steps run in order.

An nginx canary Ingress still weighting the broken side's Service is set to weight 0 first
(tools/mitigate/canary_weight.py): the traffic moves explicitly, and a canary scaled up again later (the plan's undo,
a redeploy) does not take its old share at once.

Each step is a `kubectl scale`, written as a guarded JSON patch (scaling.scale_step). The healthy side grows before the
broken side goes to zero (rollback_canary follows the playbook: canary to zero first, then stable to full capacity).
Execution stops at the first failed step and reports every step's outcome (`partial` once a step was applied). The
healthy side must still have Ready pods at confirm time, or the plan is stale.

Layer: tools.mitigate.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from pydantic import Field

from incident_response.tools.core import errors
from incident_response.tools.core.plan_warnings import PlanWarning, warning
from incident_response.tools.engine.deps import Deps, check_name
from incident_response.tools.engine.pending import Proposal
from incident_response.tools.engine.plan import Change, KubeWrite, PlanDraft, Target, ready_floor
from incident_response.tools.engine.sizing_reads import replica_ceiling
from incident_response.tools.k8s import backends, nginx_canary
from incident_response.tools.k8s.args import PositiveReplicas
from incident_response.tools.k8s.workloads import current_replicas, deployment_selector, hpa_bounds, managing_hpa
from incident_response.tools.kube.client import Kube
from incident_response.tools.mitigate.canary_weight import primary_hazard, weight_parts, weighted
from incident_response.tools.mitigate.scaling import (
    ALLOW_LARGE,
    autoscalers_precondition,
    check_replica_bound,
    deployment_precondition,
    growth_warning,
    scale_step,
)
from incident_response.tools.playbook import canary_shape, suspects


def grow_checks(
    kube: Kube, namespace: str, deployment: dict[str, Any], replicas: int, hpas: list[dict[str, Any]]
) -> list[PlanWarning]:
    """Guards for the side that grows: it must be healthy, its HPA must allow the size, and the pods should fit."""
    name = backends.name_of(deployment)
    current = current_replicas(deployment)
    pods = kube.list("pods", namespace, label_selector=deployment_selector(deployment)).items
    failing = sorted(backends.name_of(p) for p in pods if backends.broken(p))
    if failing:
        raise errors.InvalidArgument(
            f"deployment {name}, the side that should take the traffic, has failing pods ({', '.join(failing)}); "
            "shifting traffic to it would not help"
        )
    warnings: list[PlanWarning] = []
    hpa = managing_hpa(hpas, name)
    if hpa is not None:
        low, high = hpa_bounds(hpa)
        if replicas > high:
            raise errors.InvalidArgument(
                f"HPA {backends.name_of(hpa)} manages deployment {name} with max {high}; it would scale {replicas} "
                f"back down. Raise its bounds first with override_hpa(hpa={backends.name_of(hpa)!r}, ...)"
            )
        warnings.append(
            warning(
                "hpa",
                f"HPA {backends.name_of(hpa)} manages {name} ({low}..{high}); it may resize it within those "
                "bounds as the load moves over.",
            )
        )
    if replicas > current and (note := growth_warning(kube, deployment, current, replicas, f"new {name} pods")):
        warnings.append(warning("pending", note))
    return warnings


def two_sided(
    kube: Kube,
    tool: str,
    namespace: str,
    broken: dict[str, Any],
    healthy: dict[str, Any],
    replicas: int,
    *,
    shrink_first: bool,
) -> PlanDraft:
    bad, good = backends.name_of(broken), backends.name_of(healthy)
    if bad == good:
        raise errors.InvalidArgument("from and to are the same deployment")
    bad_now, good_now = current_replicas(broken), current_replicas(healthy)
    # An nginx canary Ingress still weighting the broken side's Service goes to 0 first: the traffic moves by the
    # weight, and the canary's next Ready pod (the undo, a redeploy) would otherwise take the whole share again.
    splits, unread = weighted(kube, broken)
    if bad_now > 0 and (hazard := primary_hazard(kube, broken)) is not None:
        raise errors.InvalidArgument(
            f"{hazard[1]}: scaling {bad} to 0 is an outage of the host, not a shift. Send the traffic by the canary's "
            f"weight instead (kubectl annotate ingress ... nginx.ingress.kubernetes.io/canary-weight=100 --overwrite) "
            f"and keep {bad} running, or roll {bad} back (rollback_deployment)"
        )
    if bad_now == 0 and good_now >= replicas and not splits:
        raise errors.InvalidArgument(f"{bad} is already at 0 and {good} has {good_now} replicas; nothing to shift")
    hpas = kube.list("horizontalpodautoscalers", namespace).items
    warnings = grow_checks(kube, namespace, healthy, replicas, hpas) if replicas > good_now else []
    if (hpa := managing_hpa(hpas, bad)) is not None:
        warnings.append(
            warning(
                "hpa",
                f"HPA {backends.name_of(hpa)} manages {bad}: at 0 replicas autoscaling of it pauses until it "
                "is scaled up by hand.",
            )
        )
    ready_now = [
        p for p in kube.list("pods", namespace, label_selector=deployment_selector(healthy)).items if backends.ready(p)
    ]
    if bad_now > 0 and not ready_now:
        warnings.append(
            warning(
                "not_ready",
                f"Deployment {good} has no Ready pod now: until its new pods are Ready, nothing serves the "
                f"traffic {bad} had.",
            )
        )
    grow = (
        [scale_step(kube, healthy, replicas, f"scale deployment {good} from {good_now} to {replicas}")]
        if replicas > good_now
        else []
    )
    shrink = [scale_step(kube, broken, 0, f"scale deployment {bad} from {bad_now} to 0")] if bad_now > 0 else []
    for step in [*grow, *shrink]:
        assert isinstance(step.action, KubeWrite) and step.action.name is not None
        kube.patch("deployments", step.action.name, step.action.body, namespace, patch_type="json", dry_run=True)
    reweigh, diff, weights = weight_parts(kube, namespace, splits)
    steps = [*reweigh, *shrink, *grow] if shrink_first else [*reweigh, *grow, *shrink]
    undo = " && ".join(s.undo_command for s in reversed(steps) if s.undo_command)
    if unread:
        warnings.append(unread)
    if shrink:
        diff.append(Change(path=f"deployment/{bad}.spec.replicas", before=bad_now, after=0))
    if grow:
        diff.append(Change(path=f"deployment/{good}.spec.replicas", before=good_now, after=replicas))
    return PlanDraft(
        tool=tool,
        summary=f"Move traffic from deployment {bad} to {good} in {namespace}: "
        + "; then ".join(s.description for s in steps)
        + ".",
        target=Target(kind="Deployment", namespace=namespace, name=bad, uid=broken["metadata"].get("uid")),
        risk="destructive",
        steps=steps,
        undo_command=undo or None,
        diff=diff,
        preconditions=[
            deployment_precondition(broken),
            deployment_precondition(healthy),
            autoscalers_precondition(namespace, hpas),
            # The side taking the traffic must still have Ready pods when the other goes to zero.
            *(
                [ready_floor(namespace, selector)]
                if shrink and ready_now and (selector := deployment_selector(healthy))
                else []
            ),
            *weights,
        ],
        warnings=warnings,
    )


def shift_traffic(
    deps: Deps,
    namespace: Annotated[str, Field(description="Namespace of both deployments.")],
    from_deployment: Annotated[str, Field(description="The broken deployment, scaled to 0 last.")],
    to_deployment: Annotated[str, Field(description="The healthy deployment, scaled up first.")],
    replicas: Annotated[PositiveReplicas, Field(description="Replicas the healthy deployment should have.")],
    allow_large: Annotated[bool, Field(description=ALLOW_LARGE)] = False,
) -> Proposal:
    """Plan moving traffic from a broken deployment to a healthy one behind the same Service: scale the healthy one
    up, then the broken one to zero (two kubectl scale commands, run in order; execution stops at the first failed
    step). Nothing changes until the token is confirmed with confirm_command."""
    kube = deps.kube
    broken = kube.get("deployments", check_name(from_deployment, "deployment"), namespace)
    healthy = kube.get("deployments", check_name(to_deployment, "deployment"), namespace)
    check_replica_bound(
        "replicas",
        replicas,
        current_replicas(healthy) + current_replicas(broken),
        allow_large=allow_large,
        ceiling=replica_ceiling(),
    )
    draft = two_sided(kube, "shift_traffic", namespace, broken, healthy, replicas, shrink_first=False)
    return deps.propose(draft)


def find_pair(kube: Kube, namespace: str, app: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """The canary and stable deployments of `app`: named <app>-canary/<app>-stable, else by version label."""
    deployments = kube.list("deployments", namespace).items
    canary, stable = suspects.pick(deployments, app, "canary"), suspects.pick(deployments, app, "stable")
    if canary is not None and stable is not None:
        return canary, stable
    # By shape: the two Deployments Service `app` selects (as assess_namespace pairs them).
    services = [s for s in kube.list("services", namespace).items if backends.name_of(s) == app]
    if services:
        replicasets = kube.list("replicasets", namespace).items
        now = datetime.now(UTC)
        for _, canary, stable, _ in canary_shape.service_pairs(deployments, services, replicasets, now):
            return canary, stable
    # By an nginx canary Ingress splitting a host: Service `app` is the main Ingress's backend (as assess pairs them).
    try:
        ingresses = kube.list("ingresses", namespace).items
    except errors.Forbidden:
        ingresses = []  # the error below says what was looked for
    if ingresses:
        by_name = {backends.name_of(d): d for d in deployments}
        labelled = {name: suspects.template_labels(d) for name, d in by_name.items()}
        everything = kube.list("services", namespace).items
        for main, canary_name, stable_name, _, _ in nginx_canary.ingress_pairs(ingresses, everything, labelled):
            if main == app:
                return by_name[canary_name], by_name[stable_name]
    names = ", ".join(backends.name_of(d) for d in deployments)
    raise errors.InvalidArgument(
        f"could not tell the canary and stable deployments of {app!r} apart (looked for {app}-canary/{app}-stable, "
        f"version=canary/stable labels, two deployments behind Service {app} told apart by a role label "
        "(track=, variant=...), a -next/-v2 name, or one first rolled out in the last 2 hours beside an older one, and "
        f"an nginx canary Ingress beside a main Ingress to Service {app}; "
        f"deployments: {names}); use shift_traffic with explicit names"
    )


def rollback_canary(
    deps: Deps,
    namespace: Annotated[str, Field(description="Namespace of the app.")],
    app: Annotated[str, Field(description="App name: its deployments are <app>-canary and <app>-stable.")],
    stable_replicas: Annotated[
        PositiveReplicas | None, Field(description="Replicas for stable; default stable's plus the canary's.")
    ] = None,
    allow_large: Annotated[bool, Field(description=ALLOW_LARGE)] = False,
) -> Proposal:
    """Plan a canary rollback: an nginx canary Ingress weighting the canary's Service set to weight 0 (kubectl
    annotate), then the canary scaled to zero, then the stable deployment to full capacity (kubectl scale), in order;
    execution stops at the first failed step. Use it when the canary is the problem. Nothing changes until the token
    is confirmed with confirm_command."""
    kube = deps.kube
    canary, stable = find_pair(kube, namespace, check_name(app, "app"))
    both = current_replicas(stable) + current_replicas(canary)
    if stable_replicas is not None:
        check_replica_bound(
            "stable_replicas", stable_replicas, both, allow_large=allow_large, ceiling=replica_ceiling()
        )
    target = stable_replicas or both
    draft = two_sided(kube, "rollback_canary", namespace, canary, stable, target, shrink_first=True)
    return deps.propose(draft)

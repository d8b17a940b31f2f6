"""patch_service_selector and switch_ingress_backend: route traffic away from bad pods without touching them.

The selector change is the playbook's strategic merge patch of `spec.selector`; keys the new selector drops are
sent as null, so the Service ends up with exactly the selector asked for. The ingress switch is the playbook's
JSON patch, led by a `test` op on the current backend so the write itself refuses an ingress changed since the plan.

Layer: tools.mitigate.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import Field

from incident_response.tools.core import errors
from incident_response.tools.core.plan_warnings import warning
from incident_response.tools.engine.deps import Deps, check_name
from incident_response.tools.engine.pending import Proposal
from incident_response.tools.engine.plan import (
    Change,
    PlanDraft,
    Precondition,
    Target,
    diff_values,
    pointer,
    precondition,
    ready_floor,
)
from incident_response.tools.k8s import backends, labels
from incident_response.tools.k8s.args import Index, Port, SelectorText
from incident_response.tools.kube.client import Kube
from incident_response.tools.mitigate.isolation import pods_by
from incident_response.tools.mitigate.scaling import kubectl_patch_step, replace_ops


def backend_pods(namespace: str, selector: str, pods: list[dict[str, Any]]) -> Precondition:
    """The live pods a selector matches, by name and uid: the set the plan showed traffic going to."""
    chosen = backends.pods_of(labels.parse(selector), pods)
    return precondition(
        "pods",
        chosen,
        [pointer("metadata", "name"), pointer("metadata", "uid")],
        namespace=namespace,
        label_selector=selector,
    )


def selector_patch(old: dict[str, str], new: dict[str, str]) -> dict[str, Any]:
    merged: dict[str, Any] = {k: None for k in old if k not in new}
    merged.update(new)
    return {"spec": {"selector": merged}}


def plan_service_selector(
    kube: Kube,
    namespace: str,
    service: str,
    selector_text: str,
    *,
    allow_no_endpoints: bool = False,
    restores: str | None = None,
) -> PlanDraft:
    selector = labels.parse(selector_text)
    if any(r.op != "=" for r in selector):
        raise errors.InvalidArgument("a Service selector holds only key=value pairs, e.g. app=web,version=stable")
    new = labels.equalities(selector)
    svc = kube.get("services", service, namespace)
    old = dict((svc.get("spec") or {}).get("selector") or {})
    if old == new:
        raise errors.InvalidArgument(f"service {service} already selects {selector_text}; nothing to change")
    # The pods each selector matches, read by it (not the whole namespace).
    before = backends.endpoints(labels.from_map(old), pods_by(kube, namespace, labels.from_map(old)) if old else [])
    pods = pods_by(kube, namespace, selector)
    after = backends.endpoints(selector, pods)
    if not after and not allow_no_endpoints:
        raise errors.InvalidArgument(
            f"selector {selector_text} matches no Ready pod in {namespace}: service {service} would have no endpoints "
            "(an outage). Check the labels with list_pods, or plan again with allow_no_endpoints=true"
        )
    body = selector_patch(old, new)
    ops = replace_ops(svc, {"/spec/selector": new})
    dry = kube.patch("services", service, ops, namespace, patch_type="json", dry_run=True)
    context = kube.context
    step = kubectl_patch_step(
        f"set service {service}'s selector to {selector_text}",
        "service",
        "services",
        service,
        namespace,
        context,
        body=body,
        undo_body=selector_patch(new, old),
        patch_type="strategic",
        guarded=ops,
    )
    gone = sorted(set(before) - set(after))
    summary = (
        f"Change service {service}'s selector in {namespace} to {selector_text}: endpoints {len(before)} -> "
        f"{len(after)}" + (f" (no longer: {', '.join(gone)})" if gone else "") + "."
    )
    return PlanDraft(
        tool="restore_measure" if restores else "patch_service_selector",
        summary=summary,
        target=Target(kind="Service", namespace=namespace, name=service, uid=svc["metadata"].get("uid")),
        steps=[step],
        undo_command=step.undo_command,
        diff=[
            *diff_values({"selector": old}, {"selector": (dry.get("spec") or {}).get("selector")}),
            Change(path=f"service/{service} endpoints", before=before, after=after),
        ],
        preconditions=[
            precondition(
                "services",
                svc,
                [pointer("metadata", "uid"), pointer("spec", "selector")],
                namespace=namespace,
                name=service,
            ),
            # The endpoints the diff promised: the pods the new selector matched (one that gains the labels later
            # would get traffic unseen), and at least one of them Ready (a backend scaled to 0 is the outage).
            backend_pods(namespace, labels.text(selector), pods),
            *([ready_floor(namespace, labels.text(selector))] if after else []),
        ],
        warnings=[]
        if after
        else [warning("offline", f"Service {service} will have no endpoints: it is offline until restored.")],
        temporary=restores is None,
        restores=restores,
    )


def patch_service_selector(
    deps: Deps,
    namespace: Annotated[str, Field(description="Namespace of the service.")],
    service: Annotated[str, Field(description="Service name.")],
    selector: Annotated[SelectorText, Field(description="The complete new selector, e.g. app=web,version=stable.")],
    allow_no_endpoints: Annotated[bool, Field(description="Allow a selector that matches no Ready pod.")] = False,
) -> Proposal:
    """Plan changing a Service's selector (kubectl patch service) to route traffic away from bad pods. Shows the
    endpoints before and after; refuses a selector matching no Ready pod unless told. The old selector is recorded
    as a temporary measure. Nothing changes until the token is confirmed with confirm_command."""
    draft = plan_service_selector(deps.kube, namespace, service, selector, allow_no_endpoints=allow_no_endpoints)
    return deps.propose(draft)


# --- ingress -------------------------------------------------------------------------------------------------------


def ready_addresses(endpoints: dict[str, Any]) -> int:
    return sum(len(s.get("addresses") or []) for s in endpoints.get("subsets") or [])


def backend_path(rule: int, path: int) -> str:
    return str(pointer("spec", "rules", rule, "http", "paths", path, "backend", "service"))


def plan_ingress_backend(
    kube: Kube,
    namespace: str,
    ingress: str,
    service: str,
    *,
    port: int | str | None = None,
    rule: int = 0,
    path: int = 0,
    restores: str | None = None,
) -> PlanDraft:
    ing = kube.get("ingresses", ingress, namespace)
    rules = (ing.get("spec") or {}).get("rules") or []
    paths = ((rules[rule].get("http") or {}).get("paths") or []) if rule < len(rules) else []
    if path >= len(paths):
        raise errors.InvalidArgument(f"ingress {ingress} has no rule {rule} path {path} (it has {len(rules)} rule(s))")
    current = dict((paths[path].get("backend") or {}).get("service") or {})
    if not current:
        raise errors.InvalidArgument(f"rule {rule} path {path} of ingress {ingress} has no service backend")
    svc = kube.get("services", service, namespace)
    ports = (svc.get("spec") or {}).get("ports") or []
    old_port = dict(current.get("port") or {})
    if port is not None:
        new_port: dict[str, Any] = {"number": port} if isinstance(port, int) else {"name": port}
    elif any(
        p.get("port") == old_port.get("number") or (p.get("name") and p.get("name") == old_port.get("name"))
        for p in ports
    ):
        new_port = old_port
    elif len(ports) == 1:
        new_port = {"number": ports[0]["port"]}
    else:
        raise errors.InvalidArgument(f"service {service} does not expose port {old_port}; give port=")
    if current.get("name") == service and new_port == old_port:
        raise errors.InvalidArgument(f"ingress {ingress} already sends that path to service {service}")
    backend = backends.service_selector(svc)
    floor = []
    if restores is None:
        try:
            ready = ready_addresses(kube.get("endpoints", service, namespace))
        except errors.NotFound:
            ready = 0
        # The service's own selector and Ready pods are what the plan promises traffic will reach.
        watched = [pointer("metadata", "uid"), pointer("spec", "selector"), pointer("spec", "ports")]
        floor = [precondition("services", svc, watched, namespace=namespace, name=service)]
        if backend:
            pods = kube.list("pods", namespace, label_selector=labels.text(backend)).items
            floor += [backend_pods(namespace, labels.text(backend), pods), ready_floor(namespace, labels.text(backend))]
        if ready == 0:
            raise errors.InvalidArgument(
                f"service {service} has no ready endpoints: switching ingress {ingress} to it would send every "
                "request to nothing. Make its pods Ready first"
            )
    where = backend_path(rule, path)
    ops: list[dict[str, Any]] = [
        {"op": "test", "path": where + "/name", "value": current.get("name")},
        {"op": "replace", "path": where + "/name", "value": service},
    ]
    undo_ops: list[dict[str, Any]] = [
        {"op": "test", "path": where + "/name", "value": service},
        {"op": "replace", "path": where + "/name", "value": current.get("name")},
    ]
    if new_port != old_port:
        ops.append({"op": "replace", "path": where + "/port", "value": new_port})
        undo_ops.append({"op": "replace", "path": where + "/port", "value": old_port})
    dry = kube.patch("ingresses", ingress, ops, namespace, patch_type="json", dry_run=True)
    after = ((((dry.get("spec") or {}).get("rules") or [{}])[rule].get("http") or {}).get("paths") or [{}])[path]
    context = kube.context
    host = rules[rule].get("host") or "*"
    route = f"{host}{paths[path].get('path') or '/'}"
    step = kubectl_patch_step(
        f"point {route} at service {service}",
        "ingress",
        "ingresses",
        ingress,
        namespace,
        context,
        body=ops,
        undo_body=undo_ops,
        patch_type="json",
    )
    return PlanDraft(
        tool="restore_measure" if restores else "switch_ingress_backend",
        summary=f"Send {route} of ingress {ingress} ({namespace}) to service {service} instead of "
        f"{current.get('name')}.",
        target=Target(kind="Ingress", namespace=namespace, name=ingress, uid=ing["metadata"].get("uid")),
        steps=[step],
        undo_command=step.undo_command,
        diff=diff_values({"backend": current}, {"backend": (after.get("backend") or {}).get("service")}),
        preconditions=[
            precondition("ingresses", ing, [pointer("metadata", "uid"), where], namespace=namespace, name=ingress),
            *floor,
        ],
        temporary=restores is None,
        restores=restores,
    )


def switch_ingress_backend(
    deps: Deps,
    namespace: Annotated[str, Field(description="Namespace of the ingress and service.")],
    ingress: Annotated[str, Field(description="Ingress name.")],
    service: Annotated[str, Field(description="Healthy service to send the traffic to.")],
    port: Annotated[Port | None, Field(description="Service port number or name; default: keep.")] = None,
    rule: Annotated[Index, Field(description="Index of the ingress rule.")] = 0,
    path: Annotated[Index, Field(description="Index of the path within the rule.")] = 0,
) -> Proposal:
    """Plan pointing an ingress path at another (healthy) service (kubectl patch ingress --type=json). The target
    service must exist and have ready endpoints. The old backend is recorded as a temporary measure. Nothing
    changes until the token is confirmed with confirm_command."""
    draft = plan_ingress_backend(
        deps.kube, namespace, check_name(ingress, "ingress"), service, port=port, rule=rule, path=path
    )
    return deps.propose(draft)

"""get_endpoints: which pods a Service sends traffic to, ready or not.

Layer: tools.assess.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from pydantic import Field

from incident_response.tools.core import errors
from incident_response.tools.core.models import ToolResult, Truncation
from incident_response.tools.engine.deps import Deps
from incident_response.tools.k8s import backends
from incident_response.tools.k8s.backends import Address, addresses
from incident_response.tools.k8s.changes import recent
from incident_response.tools.k8s.last_change import last_change
from incident_response.tools.k8s.quantity import human_age
from incident_response.tools.k8s.workloads import selector_string
from incident_response.tools.kube.client import Kube
from incident_response.tools.playbook.service_reach import declared, unreached

MAX_ADDRESSES = 100


class ServiceEndpoints(ToolResult):
    namespace: str
    service: str
    selector: str = Field(description="The Service's pod selector; empty for a Service without one.")
    ports: list[str]
    ready: list[Address]
    not_ready: list[Address]
    ready_count: int
    not_ready_count: int
    truncation: Truncation


def get_endpoints(
    deps: Deps,
    namespace: Annotated[str, Field(description="Namespace.")],
    service: Annotated[str, Field(description="Service name (its Endpoints object has the same name).")],
) -> ServiceEndpoints:
    """Show a Service's ready and not-ready addresses with their pods, like `kubectl get endpoints`. Use it to see
    whether traffic reaches healthy pods, and to verify a mitigation registered them again."""
    kube = deps.kube
    svc = kube.get("services", service, namespace)
    endpoints = kube.get("endpoints", service, namespace)
    ready, not_ready = addresses(endpoints, "addresses"), addresses(endpoints, "notReadyAddresses")
    spec = svc.get("spec") or {}
    selector = selector_string({"matchLabels": spec.get("selector") or {}})
    ports = [f"{p.get('port')}/{p.get('protocol', 'TCP')}" for p in spec.get("ports") or []]
    summary = f"service {service}: {len(ready)} ready, {len(not_ready)} not ready"
    if not ready:
        summary += "; NO ready endpoints: the service sends traffic nowhere"
    elif (reach := unreachable(kube, namespace, svc, selector, deps.now())) is not None:
        summary += f"; but {reach}"
    shown_ready, shown_not_ready = ready[:MAX_ADDRESSES], not_ready[:MAX_ADDRESSES]
    shown = len(shown_ready) + len(shown_not_ready)
    return ServiceEndpoints(
        summary=summary,
        namespace=namespace,
        service=service,
        selector=selector,
        ports=ports,
        ready=shown_ready,
        not_ready=shown_not_ready,
        ready_count=len(ready),
        not_ready_count=len(not_ready),
        truncation=Truncation.of(shown, len(ready) + len(not_ready)),
    )


def unreachable(kube: Kube, namespace: str, svc: dict[str, Any], selector: str, now: datetime) -> str | None:
    """What verify_recovery's endpoints check fails on, said short (the result rule: the summary is in the text and
    the structured content both): Ready endpoints at a targetPort no container of the Service's Ready pods declares,
    on the same evidence (its ports edited in the incident window); the pods are read only then."""
    edit = last_change(svc, owning=("spec", "ports"))
    if not selector or edit is None or edit.created or not recent(edit, now):
        return None
    try:
        pods = kube.list("pods", namespace, label_selector=selector).items
    except errors.Forbidden:
        return None  # the endpoints are still worth showing
    reach = unreached(svc, [declared(p) for p in pods if backends.ready(p)], now)
    if reach is None or not reach.failed:
        return None
    ports = [str(p.get("targetPort", p.get("port"))) for p in (svc.get("spec") or {}).get("ports") or []]
    age = human_age(max(0, int((now - edit.at).total_seconds())))
    return f"no pod declares target port {', '.join(ports)} (edited {age} ago)"

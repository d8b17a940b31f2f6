"""get_endpoints: which pods a Service sends traffic to, ready or not.

Layer: tools.assess.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from incident_response.tools.core.models import ToolResult, Truncation
from incident_response.tools.engine.deps import Deps
from incident_response.tools.k8s.backends import Address, addresses
from incident_response.tools.k8s.workloads import selector_string

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

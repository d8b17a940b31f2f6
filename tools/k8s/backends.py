"""Which pods serve a Service, and which pods are failing rather than merely busy: the facts traffic guards need.

Layer: tools.k8s.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from incident_response.tools.k8s import labels
from incident_response.tools.k8s.oom_runs import ended_a_long_run
from incident_response.tools.k8s.podstatus import kubectl_status, last_termination, restart_count
from incident_response.tools.k8s.views import meta

# STATUS values that mean the pod itself is broken (a crash, a bad image, a bad config), not just overloaded.
BROKEN = {
    "CrashLoopBackOff",
    "Error",
    "OOMKilled",
    "ImagePullBackOff",
    "ErrImagePull",
    "InvalidImageName",
    "CreateContainerConfigError",
    "CreateContainerError",
    "RunContainerError",
    "ContainerStatusUnknown",
}


def name_of(obj: dict[str, Any]) -> str:
    return str(meta(obj).name)


def terminating(pod: dict[str, Any]) -> bool:
    return bool(meta(pod).deletion_timestamp)


def ready(pod: dict[str, Any]) -> bool:
    conditions = (pod.get("status") or {}).get("conditions") or []
    return not terminating(pod) and any(c.get("type") == "Ready" and c.get("status") == "True" for c in conditions)


def broken(pod: dict[str, Any]) -> str | None:
    """Why the pod is failing on its own (crash-looping, OOMKilled, image pull...), or None."""
    if terminating(pod):
        return None
    status = kubectl_status(pod)
    if status in BROKEN:
        return str(status)
    last = last_termination(pod)
    if last is not None and last.reason == "OOMKilled" and restart_count(pod) > 0:
        return None if ready(pod) and ended_a_long_run(pod) else "OOMKilled"  # Ready after a long run's kill: serving
    return None


def oom_killed(pod: dict[str, Any]) -> bool:
    last = last_termination(pod)
    return last is not None and last.reason == "OOMKilled"


def service_selector(service: dict[str, Any]) -> labels.Selector:
    return labels.from_map((service.get("spec") or {}).get("selector"))


def endpoints(selector: labels.Selector, pods: list[dict[str, Any]]) -> list[str]:
    """Names of the Ready pods a Service with this selector sends traffic to (empty selector: none)."""
    if not selector:
        return []
    return sorted(name_of(p) for p in pods if ready(p) and labels.matches(selector, labels.labels_of(p)))


def pods_of(selector: labels.Selector, pods: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [p for p in pods if not terminating(p) and labels.matches(selector, labels.labels_of(p))]


def controller_of(obj: dict[str, Any]) -> dict[str, Any] | None:
    """The ownerReference with controller=true, if any."""
    for ref in meta(obj).owner_references:
        if ref.get("controller"):
            return dict(ref)
    return None


class Address(BaseModel):
    ip: str
    pod: str | None
    node: str | None


def addresses(endpoints: dict[str, Any], key: str) -> list[Address]:
    found = []
    for subset in endpoints.get("subsets") or []:
        for address in subset.get(key) or []:
            ref = address.get("targetRef") or {}
            found.append(
                Address(
                    ip=str(address.get("ip")),
                    pod=ref.get("name") if ref.get("kind", "Pod") == "Pod" else None,
                    node=address.get("nodeName"),
                )
            )
    return found

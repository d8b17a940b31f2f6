"""Which mitigations bear on one deployment, so verify_recovery credits (and times its stability from) only those.

Another deployment's rollback in the same namespace did nothing for this one: crediting it would say "stable for 0
of 5 minutes after rollback_deployment" about a service nobody touched, and restart its stability window.
A plan bears on the deployment when it wrote the deployment (or, as a canary rollback does, wrote it besides its
target), changed an HPA that scales it, a Service or Ingress in front of it, a NetworkPolicy or label over its pods,
one of its pods, or a node it runs on or had pods evicted from. Pure: plans and facts in, a decision out.

Layer: tools.playbook.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from incident_response.tools.k8s import labels
from incident_response.tools.playbook.recovery_checks import selects

HELM_RELEASE = "meta.helm.sh/release-name"
WORKLOADS = ("Deployment", "StatefulSet", "DaemonSet")


@dataclass(frozen=True)
class Subject:
    """The deployment verify_recovery judges, as far as crediting a mitigation needs it."""

    namespace: str
    name: str
    template_labels: dict[str, str]
    annotations: dict[str, str]
    services: frozenset[str]  # the Services in front of it now
    replicasets: frozenset[str]  # names of its ReplicaSets (its pods are named after them)
    pods: frozenset[str]
    nodes: frozenset[str]  # nodes its pods run on now

    def owns_pod(self, name: str) -> bool:
        return name in self.pods or any(name.startswith(f"{rs}-") for rs in self.replicasets)


def _dicts(value: Any) -> Iterator[dict[str, Any]]:
    if isinstance(value, dict):
        yield value
        for item in value.values():
            yield from _dicts(item)
    elif isinstance(value, list):
        for item in value:
            yield from _dicts(item)


def _expects(plan: dict[str, Any]) -> Iterator[tuple[str, Any]]:
    for pre in plan.get("preconditions") or []:
        yield from ((pre or {}).get("expect") or {}).items()


def _actions(plan: dict[str, Any]) -> list[dict[str, Any]]:
    return [dict(step.get("action") or {}) for step in plan.get("steps") or [] if isinstance(step, dict)]


def _service_names(plan: dict[str, Any]) -> set[str]:
    """Services an Ingress plan routes to, before (its preconditions) and after (its writes)."""
    found = set()
    for source in (dict(_expects(plan)), [a.get("body") for a in _actions(plan)]):
        for obj in _dicts(source):
            service = obj.get("service")
            if isinstance(service, dict) and service.get("name"):
                found.add(str(service["name"]))
    return found


def _pod_selectors(plan: dict[str, Any]) -> list[labels.Selector]:
    """The podSelectors of the NetworkPolicies a plan creates or deletes (from its writes and its diff)."""
    sources = [a.get("body") for a in _actions(plan)] + [
        [c.get("before"), c.get("after")] for c in plan.get("diff") or [] if isinstance(c, dict)
    ]
    return [labels.from_spec(obj["podSelector"]) for obj in _dicts(sources) if isinstance(obj.get("podSelector"), dict)]


def bears_on(plan: dict[str, Any], subject: Subject) -> bool:
    target = plan.get("target") or {}
    kind, name = target.get("kind"), str(target.get("name"))
    if kind == "Node":
        evicted = [
            str(a.get("name"))
            for a in _actions(plan)
            if a.get("verb") == "evict" and a.get("namespace") == subject.namespace
        ]
        return name in subject.nodes or any(subject.owns_pod(pod) for pod in evicted)
    if target.get("namespace") != subject.namespace:
        return False
    written = [
        str(a.get("name"))
        for a in _actions(plan)
        if a.get("resource") == "deployments" and a.get("namespace") == subject.namespace
    ]
    # A StatefulSet's or DaemonSet's rollback (rollback_workload) is credited to it like a deployment's.
    if (kind in WORKLOADS and name == subject.name) or subject.name in written:
        return True
    if kind == "HorizontalPodAutoscaler":
        refs = [v for k, v in _expects(plan) if k == "/spec/scaleTargetRef" and isinstance(v, dict)]
        return any(r.get("kind") in WORKLOADS and r.get("name") == subject.name for r in refs)
    if kind == "Service":
        before = [v for k, v in _expects(plan) if k == "/spec/selector" and isinstance(v, dict)]
        return name in subject.services or any(
            selects({str(k): str(v) for k, v in s.items()}, subject.template_labels) for s in before
        )
    if kind == "Ingress":
        return bool(_service_names(plan) & subject.services)
    if kind == "NetworkPolicy":
        return any(labels.matches(s, subject.template_labels) for s in _pod_selectors(plan))
    if kind == "Pod":
        pods = [str(a.get("name")) for a in _actions(plan) if a.get("resource") == "pods"] + [name]
        return any(subject.owns_pod(pod) for pod in pods)
    if kind == "HelmRelease":
        return subject.annotations.get(HELM_RELEASE) == name
    return False

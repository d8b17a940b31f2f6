"""Which mitigations verify_recovery credits to a deployment: those that bore on it, never a neighbour's."""

from __future__ import annotations

from typing import Any

import pytest

from incident_response.tools.playbook.recovery_credit import Subject, bears_on

WEB = Subject(
    namespace="shop",
    name="web",
    template_labels={"app": "web", "tier": "front"},
    annotations={"meta.helm.sh/release-name": "storefront"},
    services=frozenset({"web"}),
    replicasets=frozenset({"web-5d8f"}),
    pods=frozenset({"web-5d8f-abcde"}),
    nodes=frozenset({"node-2"}),
)


def plan(kind: str, name: str, *, namespace: str | None = "shop", **parts: Any) -> dict[str, Any]:
    return {"target": {"kind": kind, "name": name, "namespace": namespace}, **parts}


def write(verb: str, resource: str, name: str | None = None, body: Any = None, namespace: str = "shop") -> Any:
    action = {"verb": verb, "resource": resource, "name": name, "namespace": namespace, "body": body}
    return {"action": action}


@pytest.mark.parametrize(
    "case, mitigation, credited",
    [
        ("its own rollback", plan("Deployment", "web"), True),
        ("a neighbour's rollback", plan("Deployment", "checkout"), False),
        ("same name, other namespace", plan("Deployment", "web", namespace="staging"), False),
        (
            "a canary rollback that writes it besides its target",
            plan("Deployment", "web-canary", steps=[write("patch", "deployments", "web")]),
            True,
        ),
        (
            "its HPA",
            plan(
                "HorizontalPodAutoscaler",
                "front",
                preconditions=[{"expect": {"/spec/scaleTargetRef": {"kind": "Deployment", "name": "web"}}}],
            ),
            True,
        ),
        (
            "an HPA scaling a StatefulSet of its name",
            plan(
                "HorizontalPodAutoscaler",
                "web",
                preconditions=[{"expect": {"/spec/scaleTargetRef": {"kind": "StatefulSet", "name": "web"}}}],
            ),
            True,
        ),
        (
            "another deployment's HPA",
            plan(
                "HorizontalPodAutoscaler",
                "web",
                preconditions=[{"expect": {"/spec/scaleTargetRef": {"kind": "Deployment", "name": "api"}}}],
            ),
            False,
        ),
        ("the Service in front of it", plan("Service", "web"), True),
        (
            "a Service moved off its pods",
            plan("Service", "front", preconditions=[{"expect": {"/spec/selector": {"app": "web"}}}]),
            True,
        ),
        (
            "another Service",
            plan("Service", "api", preconditions=[{"expect": {"/spec/selector": {"app": "api"}}}]),
            False,
        ),
        (
            "an Ingress sent to its Service",
            plan(
                "Ingress",
                "edge",
                steps=[write("patch", "ingresses", "edge", {"backend": {"service": {"name": "web"}}})],
            ),
            True,
        ),
        (
            "an isolation over its pods",
            plan(
                "NetworkPolicy",
                "incident-isolate-web",
                steps=[
                    write(
                        "create", "networkpolicies", body={"spec": {"podSelector": {"matchLabels": {"tier": "front"}}}}
                    )
                ],
            ),
            True,
        ),
        (
            "an isolation over others",
            plan(
                "NetworkPolicy",
                "incident-isolate-api",
                steps=[
                    write("create", "networkpolicies", body={"spec": {"podSelector": {"matchLabels": {"app": "api"}}}})
                ],
            ),
            False,
        ),
        ("one of its pods deleted", plan("Pod", "web-5d8f-zzzzz"), True),
        ("a neighbour's pod", plan("Pod", "api-7c9-xxxxx"), False),
        ("a node it runs on", plan("Node", "node-2", namespace=None), True),
        (
            "a drain that evicted its pod elsewhere",
            plan("Node", "node-1", namespace=None, steps=[write("evict", "pods", "web-5d8f-qqqqq")]),
            True,
        ),
        (
            "a drain of others' pods",
            plan("Node", "node-1", namespace=None, steps=[write("evict", "pods", "api-7c9-xxxxx")]),
            False,
        ),
        ("its helm release", plan("HelmRelease", "storefront"), True),
        ("another release", plan("HelmRelease", "payments"), False),
    ],
)
def test_a_mitigation_is_credited_only_when_it_bore_on_the_deployment(
    case: str, mitigation: dict[str, Any], credited: bool
) -> None:
    assert bears_on(mitigation, WEB) is credited, case

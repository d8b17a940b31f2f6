"""measure_drift: a measure whose state someone else put back is told apart from one still in place, and from one
this server changed again (review-assist F30), for the kinds of write measures make: a JSON patch of an HPA's bounds or
a container's limit, a merge patch of a node's cordon."""

from __future__ import annotations

from typing import Any

from support.fakekube import FakeKube

from incident_response.tools.engine.measure_drift import reverted
from incident_response.tools.engine.plan import KubeWrite, PendingCommand, Step, Target
from incident_response.tools.kube.client import FIELD_MANAGER


def measure(tool: str, kind: str, name: str, resource: str, body: Any, namespace: str | None = "shop") -> Any:
    write = KubeWrite(verb="patch", resource=resource, namespace=namespace, name=name, body=body)
    step = Step(description="the measure", command="kubectl ...", action=write)
    return PendingCommand.model_construct(
        tool=tool, target=Target(kind=kind, namespace=namespace, name=name), steps=[step]
    )


def managed(manager: str, fields: dict[str, Any]) -> dict[str, Any]:
    return {"manager": manager, "operation": "Update", "time": "2026-12-05T03:12:00Z", "fieldsV1": fields}


def test_hpa_bounds_put_back_by_helm_are_reported_with_who_and_when() -> None:
    ops = [
        {"op": "test", "path": "/metadata/uid", "value": "u"},
        {"op": "replace", "path": "/spec/minReplicas", "value": 6},
        {"op": "replace", "path": "/spec/maxReplicas", "value": 12},
    ]
    plan = measure("override_hpa", "HorizontalPodAutoscaler", "web", "horizontalpodautoscalers", ops)
    hpa: dict[str, Any] = {
        "metadata": {"name": "web", "namespace": "shop", "creationTimestamp": "2026-11-01T00:00:00Z"},
        "spec": {"minReplicas": 6, "maxReplicas": 12},
    }
    kube = FakeKube(("horizontalpodautoscalers", hpa))
    assert reverted(kube, plan) is None  # still what it set
    hpa["spec"]["maxReplicas"] = 4
    hpa["metadata"]["managedFields"] = [managed("helm", {"f:spec": {"f:maxReplicas": {}}})]
    assert reverted(kube, plan) == (
        "reverted outside this server at 03:12 UTC by helm: spec.maxReplicas is 4 (it set 12)"
    )
    hpa["metadata"]["managedFields"] = [managed(FIELD_MANAGER, {"f:spec": {"f:maxReplicas": {}}})]
    assert reverted(kube, plan) is None  # this server's own later write (a stacked measure): not outside


def test_a_memory_limit_and_a_cordon_put_back_are_reported() -> None:
    path = "/spec/template/spec/containers/0/resources/limits/memory"
    plan = measure(
        "set_memory_limit", "Deployment", "api", "deployments", [{"op": "add", "path": path, "value": "1Gi"}]
    )
    container = {"name": "api", "resources": {"limits": {"memory": "1024Mi"}}}
    deploy = {
        "metadata": {"name": "api", "namespace": "shop"},
        "spec": {"template": {"spec": {"containers": [container]}}},
    }
    node: dict[str, Any] = {"metadata": {"name": "node-2"}, "spec": {"unschedulable": True}}
    kube = FakeKube(("deployments", deploy), ("nodes", node))
    assert reverted(kube, plan) is None  # 1024Mi is 1Gi
    container["resources"]["limits"]["memory"] = "512Mi"
    assert reverted(kube, plan) == (
        "reverted outside this server: spec.template.spec.containers.0.resources.limits.memory is 512Mi (it set 1Gi)"
    )
    cordon = measure("cordon_node", "Node", "node-2", "nodes", {"spec": {"unschedulable": True}}, namespace=None)
    assert reverted(kube, cordon) is None
    del node["spec"]["unschedulable"]
    node["metadata"]["managedFields"] = [managed("kubectl", {"f:spec": {}})]
    assert (
        reverted(kube, cordon)
        == "reverted outside this server at 03:12 UTC by kubectl: spec.unschedulable is unset (it set True)"
    )

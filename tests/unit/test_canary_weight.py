"""tools/mitigate/canary_weight.py on a FakeKube: the weight step's guarded patch, the warning of a scale to or from
zero under a weight, and Ingresses this identity may not read (a warning, never a silent 'no canary')."""

from __future__ import annotations

from typing import Any

from support.fakekube import FakeKube

from incident_response.tools.core import errors
from incident_response.tools.k8s import nginx_canary
from incident_response.tools.mitigate import canary_weight

NS = "shop"
DEPLOYMENT = {
    "metadata": {"name": "web-canary", "namespace": NS},
    "spec": {"replicas": 1, "template": {"metadata": {"labels": {"app": "web-canary"}}}},
}


def cluster(weight: str) -> FakeKube:
    path = {"path": "/", "backend": {"service": {"name": "web-canary", "port": {"number": 80}}}}
    ingress = {
        "metadata": {
            "name": "web-canary",
            "namespace": NS,
            "annotations": {nginx_canary.CANARY: "true", nginx_canary.WEIGHT: weight},
        },
        "spec": {"rules": [{"host": "shop.example.com", "http": {"paths": [path]}}]},
    }
    service = {"metadata": {"name": "web-canary", "namespace": NS}, "spec": {"selector": {"app": "web-canary"}}}
    return FakeKube(("ingresses", ingress), ("services", service))


def test_the_weight_step_is_guarded_by_the_weight_the_plan_saw() -> None:
    kube = cluster("100")
    found, unread = canary_weight.weighted(kube, DEPLOYMENT)
    assert unread is None and [(s.ingress, s.raw, service) for s, service in found] == [
        ("web-canary", "100", "web-canary")
    ]
    steps, diff, pre = canary_weight.weight_parts(kube, NS, found)
    body: Any = steps[0].action.body  # type: ignore[union-attr]
    path = "/metadata/annotations/nginx.ingress.kubernetes.io~1canary-weight"
    assert body == [
        {"op": "test", "path": "/metadata/uid", "value": "uid-web-canary"},
        {"op": "test", "path": path, "value": "100"},
        {"op": "replace", "path": path, "value": "0"},
    ]
    assert (
        steps[0].command
        == f"kubectl annotate ingress web-canary {nginx_canary.WEIGHT}=0 --overwrite -n shop --context test"
    )
    assert steps[0].undo_command is not None and f"{nginx_canary.WEIGHT}=100 --overwrite" in steps[0].undo_command
    assert (diff[0].before, diff[0].after) == ("100", "0") and pre[0].expect[path] == "100"
    assert kube.dry_runs and not kube.writes


def test_a_scale_to_or_from_zero_under_a_weight_warns_naming_the_annotate() -> None:
    down = canary_weight.zero_warning(cluster("20"), DEPLOYMENT, 1, 0)
    assert down is not None and "`kubectl annotate ingress web-canary" in down.brief and "canary-weight=0" in down.brief
    assert "20% of the requests for shop.example.com" in down.detail, down
    up = canary_weight.zero_warning(cluster("20"), DEPLOYMENT, 0, 2)
    assert up is not None and up.brief.endswith(
        "sends 20% of the requests for shop.example.com to these pods once Ready"
    )
    assert canary_weight.zero_warning(cluster("20"), DEPLOYMENT, 1, 3) is None  # neither side is zero
    assert canary_weight.zero_warning(cluster("0"), DEPLOYMENT, 1, 0) is None  # weight 0: nothing is sent there


def test_ingresses_it_may_not_read_are_a_warning() -> None:
    kube = cluster("100")
    kube.fail_reads = errors.Forbidden("ingresses is forbidden", code=403, reason="Forbidden")
    found, unread = canary_weight.weighted(kube, DEPLOYMENT)
    assert found == [] and unread is not None and unread.check == "canary_weight", unread
    assert "web-canary" in unread.brief and "first pod that is Ready" in unread.detail
    assert canary_weight.zero_warning(kube, DEPLOYMENT, 1, 0) == unread  # plan_scale carries it
    assert canary_weight.zero_warning(kube, DEPLOYMENT, 0, 1) is None


def test_the_main_backend_of_a_canarys_host_is_a_hazard_at_zero() -> None:
    kube = cluster("100")
    path = {"path": "/", "backend": {"service": {"name": "web", "port": {"number": 80}}}}
    main = {
        "metadata": {"name": "shop", "namespace": NS},
        "spec": {"rules": [{"host": "shop.example.com", "http": {"paths": [path]}}]},
    }
    kube.put("ingresses", main)
    kube.put("services", {"metadata": {"name": "web", "namespace": NS}, "spec": {"selector": {"app": "web"}}})
    tags = {"app": "web", "track": "stable"}
    stable = {
        "metadata": {"name": "web", "namespace": NS},
        "spec": {"selector": {"matchLabels": tags}, "template": {"metadata": {"labels": tags}}},
    }
    found = canary_weight.primary_hazard(kube, stable)
    assert found is not None and found[0] == "at 0, shop.example.com answers 503, canary Ingress web-canary's share too"
    assert "main backend of Ingress shop (Service web)" in found[1], found
    assert canary_weight.primary_hazard(kube, DEPLOYMENT) is None  # the canary's own pods are no main backend
    # Another Deployment's Ready pod behind the same Service keeps the host up: no hazard.
    ready = {"type": "Ready", "status": "True"}
    other = {"name": "web-next-1", "namespace": NS, "labels": {"app": "web", "track": "next"}}
    kube.put("pods", {"metadata": other, "status": {"phase": "Running", "conditions": [ready]}})
    assert canary_weight.primary_hazard(kube, stable) is None

"""A scale under a ResourceQuota on requests, in a namespace whose LimitRange gives containers their defaults.

The template sets no resources (the LimitRange's defaults are written into each pod at admission, never into the
template), and the quota limits requests.cpu: the pods run, each charged the default. scale_deployment's quota check
read the template alone, found requests.cpu 'unset (the quota needs it)' and refused every scale ('holds no more
pods'), taking away the mitigation on the very namespaces that follow the quota + LimitRange advice.
"""

from __future__ import annotations

from typing import Any

from support.fakekube import FakeKube

from incident_response.tools.k8s.quotas import admitted_spec, quota_room
from incident_response.tools.mitigate.scaling import quota_warning

NS = "shop"


def deployment() -> dict[str, Any]:
    return {
        "metadata": {"name": "api", "namespace": NS},
        "spec": {
            "replicas": 3,
            "selector": {"matchLabels": {"app": "api"}},
            "template": {
                "metadata": {"labels": {"app": "api"}},
                "spec": {"containers": [{"name": "api", "image": "api:1"}]},
            },
        },
    }


def pod(name: str) -> dict[str, Any]:
    defaulted = {"requests": {"cpu": "100m", "memory": "128Mi"}, "limits": {"cpu": "200m", "memory": "256Mi"}}
    return {
        "metadata": {"name": name, "namespace": NS, "labels": {"app": "api"}},
        "spec": {"containers": [{"name": "api", "image": "api:1", "resources": defaulted}]},
    }


QUOTA = {
    "metadata": {"name": "compute", "namespace": NS},
    "spec": {"hard": {"requests.cpu": "1"}},
    "status": {"hard": {"requests.cpu": "1"}, "used": {"requests.cpu": "300m"}},
}


def test_a_scale_is_charged_what_the_limit_range_gave_the_pods() -> None:
    pods = [pod(f"api-{i}") for i in range(3)]
    kube = FakeKube(("resourcequotas", QUOTA), *[("pods", p) for p in pods])
    assert quota_warning(kube, deployment(), 2, refuse=True, pods=pods) is None  # 7 more fit
    warning = quota_warning(kube, deployment(), 9, refuse=True, pods=pods)
    assert warning is not None and "holds 7 of the 9 new pods" in warning, warning


def test_a_template_that_sets_resources_is_charged_its_own() -> None:
    template = deployment()["spec"]["template"]["spec"]
    template["containers"][0]["resources"] = {"requests": {"cpu": "350m"}}
    room = quota_room(QUOTA, admitted_spec(template, [pod("api-0")]))
    assert room is not None and room.fits == 2

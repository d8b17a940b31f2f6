"""A scale under a ResourceQuota on requests, in a namespace whose LimitRange gives containers their defaults.

The template sets no resources (the LimitRange's defaults are written into each pod at admission, never into the
template), and the quota limits requests.cpu: the pods run, each charged the default. scale_deployment's quota check
read the template alone, found requests.cpu 'unset (the quota needs it)' and refused every scale ('holds no more
pods'), taking away the mitigation on the very namespaces that follow the quota + LimitRange advice.
"""

from __future__ import annotations

from typing import Any

import pytest
from support.fakekube import FakeKube

from incident_response.tools.core.errors import InvalidArgument
from incident_response.tools.k8s.limit_ranges import with_defaults
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
    assert warning is not None and "holds 7 of the 9 new pods" in warning.brief, warning


def test_a_template_that_sets_resources_is_charged_its_own() -> None:
    template = deployment()["spec"]["template"]["spec"]
    template["containers"][0]["resources"] = {"requests": {"cpu": "350m"}}
    room = quota_room(QUOTA, admitted_spec(template, [pod("api-0")]))
    assert room is not None and room.fits == 2


LIMIT_RANGE = {
    "metadata": {"name": "defaults", "namespace": NS},
    "spec": {"limits": [{"type": "Container", "default": {"cpu": "200m"}, "defaultRequest": {"cpu": "100m"}}]},
}


def test_a_scale_up_from_zero_is_charged_the_limit_range_defaults() -> None:
    # no live pod to copy from: the LimitRange's default request (100m) is what each new pod is charged
    kube = FakeKube(("resourcequotas", QUOTA), ("limitranges", LIMIT_RANGE))
    assert quota_warning(kube, deployment(), 7, refuse=True, pods=[]) is None  # 700m of the 700m left
    warning = quota_warning(kube, deployment(), 9, refuse=True, pods=[])
    assert warning is not None and "holds 7 of the 9 new pods" in warning.brief, warning


def test_a_limit_range_with_only_a_max_defaults_limit_and_request_to_it() -> None:
    ranged = {"spec": {"limits": [{"type": "Container", "max": {"cpu": "250m"}}]}}
    spec = with_defaults(deployment()["spec"]["template"]["spec"], [ranged])
    assert spec["containers"][0]["resources"] == {"limits": {"cpu": "250m"}, "requests": {"cpu": "250m"}}
    # a container's own limit is its request (the API's defaulting), not the LimitRange's default request
    own = {"containers": [{"name": "a", "resources": {"limits": {"cpu": "1"}}}]}
    assert with_defaults(own, [LIMIT_RANGE])["containers"][0]["resources"] == {"limits": {"cpu": "1"}}


def test_a_quota_the_template_cannot_satisfy_is_refused_with_what_to_set() -> None:
    kube = FakeKube(("resourcequotas", QUOTA))  # no LimitRange: requests.cpu stays unset, every pod is refused
    with pytest.raises(InvalidArgument) as refused:
        quota_warning(kube, deployment(), 2, refuse=True, pods=[])
    assert str(refused.value).startswith(
        "ResourceQuota compute limits requests.cpu and deployment api's template leaves it unset, so admission "
        "refuses its new pods (must specify requests.cpu). A human sets it (kubectl set resources deployment/api "
        "--requests=cpu=AMOUNT) or adds a LimitRange default, then plan the scale again"
    ), refused.value


def test_every_resource_the_quota_limits_is_judged() -> None:
    status = {
        "hard": {"requests.ephemeral-storage": "10Gi", "requests.nvidia.com/gpu": "4", "count/secrets": "1"},
        "used": {"requests.ephemeral-storage": "9Gi", "requests.nvidia.com/gpu": "1", "count/secrets": "1"},
    }
    quota = {"metadata": {"name": "big"}, "spec": {"hard": status["hard"]}, "status": status}
    limits = {"ephemeral-storage": "512Mi", "nvidia.com/gpu": "1"}
    spec = {"containers": [{"name": "a", "resources": {"limits": limits}}]}
    room = quota_room(quota, spec)
    assert room is not None and (room.fits, room.key, room.each) == (2, "requests.ephemeral-storage", "512Mi")
    # a pod that asks neither is not charged them (and a count of Secrets is not a pod's)
    assert quota_room(quota, {"containers": [{"name": "a"}]}) is None


def test_a_scoped_quota_counts_only_the_pods_its_scopes_take() -> None:
    status = {"hard": {"pods": "2"}, "used": {"pods": "2"}}
    best_effort = {"metadata": {"name": "be"}, "spec": {"hard": {"pods": "2"}, "scopes": ["BestEffort"]}}
    best_effort["status"] = status
    sized = {"containers": [{"name": "a", "resources": {"requests": {"cpu": "1"}}}]}
    assert quota_room(best_effort, sized) is None  # a pod with requests is not BestEffort
    room = quota_room(best_effort, {"containers": [{"name": "a"}]})
    assert room is not None and room.fits == 0
    selected = {**best_effort, "spec": {"hard": {"pods": "2"}, "scopeSelector": {"matchExpressions": []}}}
    assert quota_room(selected, sized) is None  # not judged here

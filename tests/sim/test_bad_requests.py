"""Bad requests never crash the simulated API server: each gets a meta/v1 Status with a 4xx code."""

from __future__ import annotations

import json
import random
import urllib.error
import urllib.request
from typing import Any

import pytest
from support.sims import SimFactory

from incident_response.sim.serve import RunningSim

JSON = "application/json"
MERGE = "application/merge-patch+json"
STRATEGIC = "application/strategic-merge-patch+json"
JSON_PATCH = "application/json-patch+json"

# (method, path, body, content type). {ns} and {pod} are filled from the running scenario.
CASES: list[tuple[str, str, bytes | None, str]] = [
    # query parameters
    ("GET", "/api/v1/namespaces/{ns}/pods?limit=abc", None, ""),
    ("GET", "/api/v1/namespaces/{ns}/pods?continue=%25%25%25", None, ""),
    ("GET", "/api/v1/namespaces/{ns}/pods?watch=true&timeoutSeconds=abc", None, ""),
    ("GET", "/api/v1/namespaces/{ns}/pods?watch=true&resourceVersion=abc", None, ""),
    ("GET", "/api/v1/namespaces/{ns}/pods/{pod}/log?tailLines=x", None, ""),
    ("GET", "/api/v1/namespaces/{ns}/pods/{pod}/log?tailLines=-1", None, ""),
    ("GET", "/api/v1/namespaces/{ns}/pods/{pod}/log?sinceSeconds=soon", None, ""),
    # selectors
    ("GET", "/api/v1/namespaces/{ns}/pods?labelSelector=a%20in%20(", None, ""),
    ("GET", "/api/v1/namespaces/{ns}/pods?labelSelector=!!!", None, ""),
    ("GET", "/api/v1/namespaces/{ns}/pods?labelSelector=app%3D%3D%3Dx", None, ""),
    ("GET", "/api/v1/namespaces/{ns}/pods?labelSelector=" + "k" * 70 + "%3Dv", None, ""),
    ("GET", "/api/v1/namespaces/{ns}/pods?fieldSelector=metadata.name", None, ""),
    ("GET", "/api/v1/pods?fieldSelector=%3D%3D%3D", None, ""),
    ("GET", "/api/v1/pods?fieldSelector=spec.containers%3Dx", None, ""),
    ("DELETE", "/api/v1/namespaces/{ns}/configmaps?labelSelector=((", None, ""),
    # paths: unknown resources, versions, subresources, names
    ("GET", "/api/v1/namespaces/{ns}/widgets", None, ""),
    ("GET", "/api/v2/pods", None, ""),
    ("GET", "/apis/apps/v2/deployments", None, ""),
    ("GET", "/apis/nope.example.com/v1/things", None, ""),
    ("GET", "/api/v1/namespaces/{ns}/pods/{pod}/exec", None, ""),
    ("GET", "/api/v1/namespaces/{ns}/pods/{pod}/log/extra/more", None, ""),
    ("GET", "/api/v1/namespaces/{ns}/pods/nope/log", None, ""),
    ("GET", "/api/v1/namespaces/{ns}/pods/" + "a" * 300, None, ""),
    ("GET", "/api/v1/namespaces//pods", None, ""),
    ("GET", "/api/v1/nodes/x/y/z/w", None, ""),
    ("GET", "/openapi/v3/apis/nope/v1", None, ""),
    ("GET", "/apis/metrics.k8s.io/v1beta1/namespaces/{ns}/pods/nope", None, ""),
    ("POST", "/apis/metrics.k8s.io/v1beta1/namespaces/{ns}/pods", b"{}", JSON),
    ("GET", "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews", None, ""),
    ("TRACE", "/api/v1/pods", None, ""),
    # create bodies
    ("POST", "/api/v1/namespaces/{ns}/configmaps", b"", JSON),
    ("POST", "/api/v1/namespaces/{ns}/configmaps", b"null", JSON),
    ("POST", "/api/v1/namespaces/{ns}/configmaps", b'"text"', JSON),
    ("POST", "/api/v1/namespaces/{ns}/configmaps", b"{not json", JSON),
    ("POST", "/api/v1/namespaces/{ns}/configmaps", b"\xff\xfe\x00", JSON),
    ("POST", "/api/v1/namespaces/{ns}/configmaps", b"a: [", "application/yaml"),
    ("POST", "/api/v1/namespaces/{ns}/configmaps", b"k8s\x00\x0a\x02", "application/vnd.kubernetes.protobuf"),
    ("POST", "/api/v1/namespaces/{ns}/configmaps", b"not protobuf", "application/vnd.kubernetes.protobuf"),
    ("POST", "/api/v1/namespaces/{ns}/configmaps", b"k8s\x00\x0a\x04\x0a\x02v1", "application/vnd.kubernetes.protobuf"),
    ("POST", "/api/v1/namespaces/{ns}/configmaps", b"k8s\x00", "application/vnd.kubernetes.protobuf"),
    ("POST", "/api/v1/namespaces/{ns}/configmaps", b'{"metadata": []}', JSON),
    ("POST", "/api/v1/namespaces/{ns}/configmaps", b'{"metadata": {"name": 5}}', JSON),
    ("POST", "/api/v1/namespaces/{ns}/configmaps", b'{"metadata": {"name": "Bad_Name"}}', JSON),
    ("POST", "/api/v1/namespaces/{ns}/configmaps", b'{"metadata": {"name": "a", "labels": "x"}}', JSON),
    ("POST", "/api/v1/namespaces/{ns}/configmaps", b'{"metadata": {"name": "a", "labels": {"k": 1}}}', JSON),
    ("POST", "/api/v1/namespaces/{ns}/configmaps", b'{"metadata": {"generateName": 5}}', JSON),
    ("POST", "/api/v1/namespaces/{ns}/configmaps", b'{"metadata": {"name": "a", "namespace": "elsewhere"}}', JSON),
    ("POST", "/api/v1/namespaces/{ns}/configmaps", b'{"kind": "Pod", "metadata": {"name": "a"}}', JSON),
    ("POST", "/api/v1/namespaces/nowhere/configmaps", b'{"metadata": {"name": "a"}}', JSON),
    ("POST", "/api/v1/namespaces/{ns}/configmaps/named", b"{}", JSON),
    ("POST", "/api/v1/namespaces/{ns}/pods", b'{"metadata": {"name": "p"}, "spec": "x"}', JSON),
    ("POST", "/api/v1/namespaces/{ns}/pods", b'{"metadata": {"name": "p"}, "spec": {"containers": "x"}}', JSON),
    ("POST", "/api/v1/namespaces/{ns}/pods", b'{"metadata": {"name": "p"}, "spec": {"containers": [1]}}', JSON),
    ("POST", "/api/v1/namespaces/{ns}/pods", b'{"metadata": {"name": "p"}, "spec": {"containers": []}}', JSON),
    ("POST", "/api/v1/namespaces/{ns}/services", b'{"metadata": {"name": "s"}, "spec": {"ports": "x"}}', JSON),
    ("POST", "/api/v1/namespaces/{ns}/services", b'{"metadata": {"name": "s"}, "spec": {"selector": [1]}}', JSON),
    (
        "POST",
        "/apis/apps/v1/namespaces/{ns}/deployments",
        b'{"metadata": {"name": "d"}, "spec": {"replicas": "x"}}',
        JSON,
    ),
    (
        "POST",
        "/apis/apps/v1/namespaces/{ns}/deployments",
        b'{"metadata": {"name": "d"}, "spec": {"selector": {"matchLabels": "x"}, "template": "y"}}',
        JSON,
    ),
    (
        "POST",
        "/apis/apps/v1/namespaces/{ns}/deployments",
        b'{"metadata": {"name": "d"}, "spec": {"selector": {"matchExpressions": [{"key": "a", "operator": "Bogus"}]},'
        b' "template": {"metadata": {"labels": {"a": "b"}}, "spec": {"containers": [{"name": "c"}]}}}}',
        JSON,
    ),
    (
        "POST",
        "/apis/apps/v1/namespaces/{ns}/deployments",
        b'{"metadata": {"name": "d"}, "spec": {"selector": {"matchLabels": {"a": "b"}},'
        b' "template": {"metadata": {"labels": "zz"}, "spec": {"containers": [{"name": "c"}]}}}}',
        JSON,
    ),
    (
        "POST",
        "/apis/apps/v1/namespaces/{ns}/deployments",
        b'{"metadata": {"name": "d"}, "spec": {"selector": {"matchLabels": {"a": "b"}},'
        b' "template": {"metadata": {"labels": {"a": "c"}}, "spec": {"containers": [{"name": "c"}]}}}}',
        JSON,
    ),
    (
        "POST",
        "/apis/autoscaling/v2/namespaces/{ns}/horizontalpodautoscalers",
        b'{"metadata": {"name": "h"}, "spec": []}',
        JSON,
    ),
    (
        "POST",
        "/apis/networking.k8s.io/v1/namespaces/{ns}/networkpolicies",
        b'{"metadata": {"name": "n"}, "spec": {"podSelector": {"matchLabels": [1]}}}',
        JSON,
    ),
    ("POST", "/api/v1/namespaces", b'{"metadata": {"name": "BAD"}}', JSON),
    ("POST", "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews", b"[]", JSON),
    ("POST", "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews", b'{"spec": []}', JSON),
    ("POST", "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews", b'{"spec": {"resourceAttributes": "x"}}', JSON),
    # updates
    ("PUT", "/api/v1/namespaces/{ns}/configmaps/x", b'{"metadata": {"name": "y"}}', ""),
    ("PUT", "/api/v1/namespaces/{ns}/pods/{pod}", b'{"metadata": {"name": "{pod}", "resourceVersion": "1"}}', JSON),
    ("PUT", "/api/v1/namespaces/{ns}/pods/{pod}", b'{"metadata": {"name": "{pod}"}, "spec": "x"}', JSON),
    # patches
    ("PATCH", "/api/v1/namespaces/{ns}/pods/{pod}", b'{"metadata": "x"}', STRATEGIC),
    ("PATCH", "/api/v1/namespaces/{ns}/pods/{pod}", b'{"metadata": {"labels": 3}}', MERGE),
    ("PATCH", "/api/v1/namespaces/{ns}/pods/{pod}", b"[1]", JSON_PATCH),
    ("PATCH", "/api/v1/namespaces/{ns}/pods/{pod}", b'{"op": "add"}', JSON_PATCH),
    ("PATCH", "/api/v1/namespaces/{ns}/pods/{pod}", b'[{"op": "replace", "path": "/nope/x", "value": 1}]', JSON_PATCH),
    (
        "PATCH",
        "/api/v1/namespaces/{ns}/pods/{pod}",
        b'[{"op": "test", "path": "/metadata/name", "value": "o"}]',
        JSON_PATCH,
    ),
    ("PATCH", "/api/v1/namespaces/{ns}/pods/{pod}", b'[{"op": "remove", "path": "/metadata"}]', JSON_PATCH),
    ("PATCH", "/api/v1/namespaces/{ns}/pods/{pod}", b'[{"op": "replace", "path": "", "value": 3}]', JSON_PATCH),
    (
        "PATCH",
        "/api/v1/namespaces/{ns}/pods/{pod}",
        b'[{"op": "replace", "path": "/metadata/name", "value": "z"}]',
        JSON_PATCH,
    ),
    (
        "PATCH",
        "/api/v1/namespaces/{ns}/pods/{pod}",
        b'[{"op": "replace", "path": "/metadata/labels", "value": 3}]',
        JSON_PATCH,
    ),
    ("PATCH", "/api/v1/namespaces/{ns}/pods/{pod}", b'{"spec": {"containers": "x"}}', STRATEGIC),
    ("PATCH", "/api/v1/namespaces/{ns}/pods/{pod}", b'{"spec": {"containers": [1]}}', STRATEGIC),
    ("PATCH", "/api/v1/namespaces/{ns}/pods/{pod}", b'{"spec": {"$setElementOrder/containers": 5}}', STRATEGIC),
    ("PATCH", "/api/v1/namespaces/{ns}/pods/{pod}", b"[]", STRATEGIC),
    ("PATCH", "/api/v1/namespaces/{ns}/pods/{pod}", b"5", MERGE),
    ("PATCH", "/api/v1/namespaces/{ns}/pods/{pod}", b"{broken", MERGE),
    ("PATCH", "/api/v1/namespaces/{ns}/pods/{pod}", b"{}", "text/plain"),
    ("PATCH", "/api/v1/namespaces/{ns}/pods/{pod}", b"{}", "application/apply-patch+yaml"),
    ("PATCH", "/api/v1/namespaces/{ns}/pods/{pod}/status", b'{"status": 5}', MERGE),
    ("PATCH", "/api/v1/namespaces/{ns}/pods/nope", b"{}", MERGE),
    ("PATCH", "/api/v1/namespaces/{ns}/pods/{pod}/scale", b'{"spec": {"replicas": 2}}', MERGE),
    ("PATCH", "/apis/apps/v1/namespaces/{ns}/deployments/nope/scale", b'{"spec": {"replicas": 2}}', MERGE),
    ("PATCH", "/api/v1/namespaces/{ns}", b'{"metadata": {"name": "other"}}', MERGE),
    # deletes and evictions
    ("DELETE", "/api/v1/namespaces/{ns}/pods/{pod}?gracePeriodSeconds=abc", None, ""),
    ("DELETE", "/api/v1/namespaces/{ns}/pods/{pod}", b'{"gracePeriodSeconds": "abc"}', JSON),
    ("DELETE", "/api/v1/namespaces/{ns}/pods/{pod}", b'{"preconditions": "x"}', JSON),
    ("DELETE", "/api/v1/namespaces/{ns}/pods/{pod}", b'{"preconditions": {"uid": "wrong"}}', JSON),
    ("DELETE", "/api/v1/namespaces/{ns}/pods/{pod}", b"not json", JSON),
    ("DELETE", "/api/v1/namespaces/{ns}/pods/nope", None, ""),
    ("POST", "/api/v1/namespaces/{ns}/pods/nope/eviction", b'{"apiVersion": "policy/v1", "kind": "Eviction"}', JSON),
    ("POST", "/api/v1/namespaces/{ns}/pods/{pod}/eviction", b"[]", JSON),
    ("POST", "/api/v1/namespaces/{ns}/pods/{pod}/eviction", b'{"deleteOptions": 5}', JSON),
    ("GET", "/api/v1/namespaces/{ns}/pods/{pod}/eviction", None, ""),
    # the admin path
    ("POST", "/sim/faults", b'{"action": "latency", "seconds": "x"}', JSON),
    ("POST", "/sim/faults", b'{"action": "status", "status": "x"}', JSON),
    ("POST", "/sim/faults", b'{"action": "status", "status": 42}', JSON),
    ("POST", "/sim/faults", b"[]", JSON),
    ("PUT", "/sim/faults", b"{}", JSON),
]


def send(sim: RunningSim, method: str, path: str, body: bytes | None, content_type: str) -> tuple[int, bytes]:
    request = urllib.request.Request(sim.url + path, data=body, method=method)
    request.add_header("Accept", JSON)
    if body is not None and content_type:
        request.add_header("Content-Type", content_type)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()


def status_of(raw: bytes) -> dict[str, Any] | None:
    try:
        body = json.loads(raw)
    except ValueError:
        return None
    return body if isinstance(body, dict) and body.get("kind") == "Status" else None


@pytest.fixture
def sim(sim_factory: SimFactory) -> RunningSim:
    return sim_factory("healthy")


def _a_pod(sim: RunningSim) -> tuple[str, str]:
    _, raw = send(sim, "GET", "/api/v1/pods", None, "")
    pod = next(p for p in json.loads(raw)["items"] if p["metadata"]["namespace"] != "kube-system")
    return pod["metadata"]["namespace"], pod["metadata"]["name"]


def test_malformed_requests_get_4xx_status_objects_and_the_server_keeps_answering(sim: RunningSim) -> None:
    ns, pod = _a_pod(sim)
    wrong = []
    for method, template, body, content_type in CASES:
        path = template.format(ns=ns, pod=pod)
        filled = body.replace(b"{pod}", pod.encode()) if body else body
        code, raw = send(sim, method, path, filled, content_type)
        status = status_of(raw)
        if not (400 <= code < 500 and status is not None and status.get("code") == code and status.get("reason")):
            wrong.append(f"{method} {path} {filled!r} -> {code} {raw[:200]!r}")
    assert not wrong, "\n".join(wrong)
    assert send(sim, "GET", "/version", None, "")[0] == 200
    assert sim.faults.rules() == []


def _random_json(rng: random.Random, depth: int = 0) -> Any:
    choice = rng.randrange(8 if depth < 3 else 5)
    if choice == 0:
        return None
    if choice == 1:
        return rng.choice([True, False])
    if choice == 2:
        return rng.choice([0, -1, 3, 2**40, 1.5])
    if choice == 3:
        return rng.choice(["", "x", "Bad_Name", "$patch", "replace", "/spec", "a" * 300, "\u00e9"])
    if choice == 4:
        return rng.choice(["app=web", "spec.nodeName=x", "[]", "{}"])
    if choice == 5:
        return [_random_json(rng, depth + 1) for _ in range(rng.randrange(3))]
    keys = [
        "metadata",
        "spec",
        "status",
        "name",
        "labels",
        "containers",
        "replicas",
        "selector",
        "template",
        "matchLabels",
        "op",
        "path",
        "value",
        "$patch",
        "$retainKeys",
        "$setElementOrder/containers",
        "image",
    ]
    return {rng.choice(keys): _random_json(rng, depth + 1) for _ in range(rng.randrange(1, 4))}


def _random_patch(rng: random.Random) -> Any:
    if rng.random() < 0.3:
        return [
            {
                "op": rng.choice(["add", "remove", "replace", "test", "move", "copy", "bogus"]),
                "path": rng.choice(["", "/", "/spec", "/metadata/labels/x", "/spec/containers/0/image", "/x/y/z"]),
                "value": _random_json(rng),
                "from": rng.choice(["/spec", "/nope"]),
            }
        ]
    return _random_json(rng)


def test_random_bodies_never_get_a_server_error(sim: RunningSim) -> None:
    """Bounded, seeded fuzzing of write endpoints: the answer is a success or a 4xx Status, never a 5xx."""
    rng = random.Random(20240601)
    ns, pod = _a_pod(sim)
    _, raw = send(sim, "GET", f"/apis/apps/v1/namespaces/{ns}/deployments", None, "")
    deployment = json.loads(raw)["items"][0]["metadata"]["name"]
    targets = [
        ("POST", f"/api/v1/namespaces/{ns}/configmaps", (JSON,)),
        ("POST", f"/api/v1/namespaces/{ns}/pods", (JSON,)),
        ("POST", f"/apis/apps/v1/namespaces/{ns}/deployments", (JSON,)),
        ("PATCH", f"/api/v1/namespaces/{ns}/pods/{pod}", (MERGE, STRATEGIC, JSON_PATCH)),
        ("PATCH", f"/apis/apps/v1/namespaces/{ns}/deployments/{deployment}", (MERGE, STRATEGIC, JSON_PATCH)),
        ("PATCH", f"/apis/apps/v1/namespaces/{ns}/deployments/{deployment}/scale", (MERGE, STRATEGIC, JSON_PATCH)),
        ("POST", f"/api/v1/namespaces/{ns}/pods/{pod}/eviction", (JSON,)),
        ("POST", "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews", (JSON,)),
        ("DELETE", f"/api/v1/namespaces/{ns}/configmaps/absent", (JSON,)),
    ]
    failures = []
    for _ in range(200):
        method, path, content_types = rng.choice(targets)
        content_type = rng.choice(content_types)
        body = _random_patch(rng) if method == "PATCH" else _random_json(rng)
        if isinstance(body, dict) and method == "POST" and rng.random() < 0.5:
            body.setdefault("metadata", {"name": f"fuzz-{rng.randrange(10**6)}"})
        code, raw = send(sim, method, path, json.dumps(body).encode(), content_type)
        if code >= 500 or (code >= 400 and status_of(raw) is None):
            failures.append(f"{method} {path} [{content_type}] {json.dumps(body)[:200]} -> {code} {raw[:200]!r}")
    assert not failures, "\n".join(failures[:10])
    assert send(sim, "GET", "/version", None, "")[0] == 200
    assert send(sim, "GET", f"/api/v1/namespaces/{ns}/pods", None, "")[0] == 200

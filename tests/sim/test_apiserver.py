"""The simulated API server's REST semantics, checked over HTTP the way clients see them."""

from __future__ import annotations

import http.client
import json
import threading
import urllib.error
import urllib.request
from typing import Any

import pytest
from support.sims import SharedSims, SimFactory

from incident_response.sim.serve import RunningSim


def call(
    sim: RunningSim,
    method: str,
    path: str,
    body: Any = None,
    *,
    content_type: str = "application/json",
    accept: str = "application/json",
    raw: bytes | None = None,
) -> tuple[int, Any]:
    data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
    request = urllib.request.Request(sim.url + path, data=data, method=method)
    request.add_header("Accept", accept)
    if data is not None:
        request.add_header("Content-Type", content_type)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            text = response.read().decode()
            status = response.status
    except urllib.error.HTTPError as e:
        text = e.read().decode()
        status = e.code
    try:
        return status, json.loads(text)
    except ValueError:
        return status, text


def configmap(name: str, data: dict[str, str] | None = None) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name}, "data": data or {"k": "v"}}


@pytest.fixture
def sim(sim_factory: SimFactory) -> RunningSim:
    """A cluster of the test's own, for a test that writes to it or injects faults."""
    return sim_factory("healthy")


@pytest.fixture
def shared(shared_sims: SharedSims) -> RunningSim:
    """The module's healthy cluster, for a test that only reads it (or is refused before anything is written)."""
    return shared_sims("healthy")


def test_version_reports_kubernetes_1_32(shared: RunningSim) -> None:
    status, body = call(shared, "GET", "/version")
    assert status == 200
    assert body["gitVersion"].startswith("v1.32.")
    assert (body["major"], body["minor"]) == ("1", "32")


def test_discovery_lists_resources_with_short_names_categories_and_subresources(shared: RunningSim) -> None:
    _, core = call(shared, "GET", "/api/v1")
    by_name = {r["name"]: r for r in core["resources"]}
    assert core["groupVersion"] == "v1"
    assert by_name["pods"]["shortNames"] == ["po"]
    assert "all" in by_name["pods"]["categories"]
    assert by_name["pods/eviction"]["group"] == "policy"
    assert "pods/log" in by_name
    _, apps = call(shared, "GET", "/apis/apps/v1")
    apps_names = {r["name"]: r for r in apps["resources"]}
    assert apps["groupVersion"] == "apps/v1"
    assert apps_names["deployments/scale"]["kind"] == "Scale"
    assert apps_names["deployments/scale"]["group"] == "autoscaling"
    _, groups = call(shared, "GET", "/apis")
    names = {g["name"] for g in groups["groups"]}
    assert {"apps", "autoscaling", "networking.k8s.io", "policy", "metrics.k8s.io", "authorization.k8s.io"} <= names


def test_create_get_conflict_and_not_found_use_real_status_shapes(sim: RunningSim) -> None:
    status, created = call(sim, "POST", "/api/v1/namespaces/default/configmaps", configmap("settings"))
    assert status == 201
    assert created["metadata"]["uid"]
    assert created["metadata"]["creationTimestamp"].endswith("Z")
    status, again = call(sim, "POST", "/api/v1/namespaces/default/configmaps", configmap("settings"))
    assert status == 409
    assert again["reason"] == "AlreadyExists"
    assert again["kind"] == "Status"
    status, missing = call(sim, "GET", "/api/v1/namespaces/default/configmaps/nope")
    assert status == 404
    assert missing == {
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Failure",
        "message": 'configmaps "nope" not found',
        "reason": "NotFound",
        "details": {"name": "nope", "kind": "configmaps"},
        "code": 404,
    }


def test_invalid_names_and_unknown_namespaces_are_rejected(shared: RunningSim) -> None:
    status, body = call(shared, "POST", "/api/v1/namespaces/default/configmaps", configmap("Bad_Name"))
    assert status == 422
    assert body["reason"] == "Invalid"
    assert body["details"]["causes"][0]["field"] == "metadata.name"
    status, body = call(shared, "POST", "/api/v1/namespaces/nowhere/configmaps", configmap("ok"))
    assert status == 404
    assert body["message"] == 'namespaces "nowhere" not found'


def test_resource_versions_increase_and_dry_run_never_persists(sim: RunningSim) -> None:
    _, first = call(sim, "POST", "/api/v1/namespaces/default/configmaps", configmap("a"))
    status, dry = call(sim, "POST", "/api/v1/namespaces/default/configmaps?dryRun=All", configmap("b"))
    assert status == 201 and dry["metadata"]["name"] == "b"
    assert call(sim, "GET", "/api/v1/namespaces/default/configmaps/b")[0] == 404
    _, second = call(sim, "POST", "/api/v1/namespaces/default/configmaps", configmap("c"))
    assert int(second["metadata"]["resourceVersion"]) > int(first["metadata"]["resourceVersion"])
    patch = {"data": {"k": "changed"}}
    status, _ = call(
        sim,
        "PATCH",
        "/api/v1/namespaces/default/configmaps/a?dryRun=All",
        patch,
        content_type="application/merge-patch+json",
    )
    assert status == 200
    assert call(sim, "GET", "/api/v1/namespaces/default/configmaps/a")[1]["data"] == {"k": "v"}


def test_put_with_a_stale_resource_version_conflicts(sim: RunningSim) -> None:
    _, cm = call(sim, "POST", "/api/v1/namespaces/default/configmaps", configmap("a"))
    cm["data"] = {"k": "1"}
    assert call(sim, "PUT", "/api/v1/namespaces/default/configmaps/a", cm)[0] == 200
    cm["data"] = {"k": "2"}
    status, body = call(sim, "PUT", "/api/v1/namespaces/default/configmaps/a", cm)
    assert status == 409
    assert body["reason"] == "Conflict"


def _deployment(name: str, replicas: int = 1) -> dict[str, Any]:
    labels = {"app": name}
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name, "labels": labels},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": labels},
            "template": {"metadata": {"labels": labels}, "spec": {"containers": [{"name": name, "image": "nginx:1"}]}},
        },
    }


def test_generation_moves_only_on_spec_changes_and_status_only_through_status(sim: RunningSim) -> None:
    base = "/apis/apps/v1/namespaces/default/deployments"
    status, created = call(sim, "POST", base, _deployment("gen"))
    assert status == 201, created
    assert created["metadata"]["generation"] == 1
    _, labelled = call(
        sim, "PATCH", f"{base}/gen", {"metadata": {"labels": {"x": "y"}}}, content_type="application/merge-patch+json"
    )
    assert labelled["metadata"]["generation"] == 1
    _, scaled = call(
        sim, "PATCH", f"{base}/gen", {"spec": {"replicas": 2}}, content_type="application/merge-patch+json"
    )
    assert scaled["metadata"]["generation"] == 2
    _, ignored = call(
        sim, "PATCH", f"{base}/gen", {"status": {"replicas": 99}}, content_type="application/merge-patch+json"
    )
    assert (ignored.get("status") or {}).get("replicas") != 99
    _, written = call(
        sim, "PATCH", f"{base}/gen/status", {"status": {"replicas": 99}}, content_type="application/merge-patch+json"
    )
    assert written["status"]["replicas"] == 99


def test_deployment_selector_must_match_template(sim: RunningSim) -> None:
    bad = _deployment("mismatch")
    bad["spec"]["selector"] = {"matchLabels": {"app": "other"}}
    status, body = call(sim, "POST", "/apis/apps/v1/namespaces/default/deployments", bad)
    assert status == 422
    assert "selector" in body["message"]


def test_list_pagination_and_label_selectors(sim: RunningSim) -> None:
    for i in range(5):
        cm = configmap(f"page-{i}")
        cm["metadata"]["labels"] = {"tier": "a" if i % 2 else "b"}
        call(sim, "POST", "/api/v1/namespaces/default/configmaps", cm)
    seen: list[str] = []
    path = "/api/v1/namespaces/default/configmaps?limit=2&labelSelector=tier"
    while True:
        _, page = call(sim, "GET", path)
        assert page["kind"] == "ConfigMapList"
        assert page["metadata"]["resourceVersion"]
        assert len(page["items"]) <= 2
        seen += [i["metadata"]["name"] for i in page["items"]]
        token = page["metadata"].get("continue")
        if not token:
            break
        path = f"/api/v1/namespaces/default/configmaps?limit=2&labelSelector=tier&continue={token}"
    assert seen == [f"page-{i}" for i in range(5)]
    _, first_page = call(sim, "GET", "/api/v1/namespaces/default/configmaps?limit=2")
    total = len(call(sim, "GET", "/api/v1/namespaces/default/configmaps")[1]["items"])
    assert first_page["metadata"]["remainingItemCount"] == total - 2
    _, filtered = call(sim, "GET", "/api/v1/namespaces/default/configmaps?limit=2&labelSelector=tier")
    assert "remainingItemCount" not in filtered["metadata"]
    _, only_a = call(sim, "GET", "/api/v1/namespaces/default/configmaps?labelSelector=tier%20in%20(a)")
    assert [i["metadata"]["name"] for i in only_a["items"]] == ["page-1", "page-3"]
    _, not_a = call(sim, "GET", "/api/v1/namespaces/default/configmaps?labelSelector=tier!%3Da,tier")
    assert [i["metadata"]["name"] for i in not_a["items"]] == ["page-0", "page-2", "page-4"]


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/namespaces/default/configmaps?labelSelector=a%20in%20b",
        "/api/v1/namespaces/default/configmaps?labelSelector=%3D%3Dx",
        "/api/v1/namespaces/default/pods?fieldSelector=spec.nonsense%3Dx",
    ],
)
def test_bad_selectors_are_bad_requests(shared: RunningSim, path: str) -> None:
    status, body = call(shared, "GET", path)
    assert status == 400
    assert body["reason"] == "BadRequest"


def test_malformed_bodies_unknown_resources_and_protobuf_get_api_errors(sim: RunningSim) -> None:
    status, body = call(sim, "POST", "/api/v1/namespaces/default/configmaps", raw=b"{not json")
    assert (status, body["reason"]) == (400, "BadRequest")
    status, body = call(sim, "POST", "/api/v1/namespaces/default/configmaps", raw=b"[1, 2]")
    assert status == 400
    status, body = call(
        sim,
        "POST",
        "/api/v1/namespaces/default/configmaps",
        raw=b"k8s\x00\x0a\x02",
        content_type="application/vnd.kubernetes.protobuf",
    )
    assert (status, body["reason"]) == (400, "BadRequest")  # a truncated envelope
    status, body = call(sim, "GET", "/api/v1/namespaces/default/widgets")
    assert (status, body["reason"]) == (404, "NotFound")
    status, body = call(sim, "GET", "/apis/nope.example.com/v1/things")
    assert status == 404
    status, body = call(
        sim,
        "PATCH",
        "/api/v1/namespaces/default/configmaps/absent",
        {"data": {}},
        content_type="application/merge-patch+json",
    )
    assert status == 404
    call(sim, "POST", "/api/v1/namespaces/default/configmaps", configmap("x"))
    status, body = call(
        sim,
        "PATCH",
        "/api/v1/namespaces/default/configmaps/x",
        {"data": {}},
        content_type="application/apply-patch+yaml",
    )
    assert status == 422 and "fieldManager: Required value" in body["message"]  # server-side apply needs a manager
    status, body = call(
        sim,
        "PATCH",
        "/api/v1/namespaces/default/configmaps/x",
        raw=b"{broken",
        content_type="application/merge-patch+json",
    )
    assert status in (400, 422)
    # The server is still answering after all of that.
    assert call(sim, "GET", "/version")[0] == 200


def test_watch_replays_from_a_resource_version(sim: RunningSim) -> None:
    _, first = call(sim, "POST", "/api/v1/namespaces/default/configmaps", configmap("w1"))
    rv = first["metadata"]["resourceVersion"]
    call(sim, "POST", "/api/v1/namespaces/default/configmaps", configmap("w2"))
    call(sim, "DELETE", "/api/v1/namespaces/default/configmaps/w1")
    conn = http.client.HTTPConnection("127.0.0.1", sim.port, timeout=10)
    conn.request("GET", f"/api/v1/namespaces/default/configmaps?watch=true&resourceVersion={rv}&timeoutSeconds=1")
    response = conn.getresponse()
    lines = [json.loads(line) for line in response.read().splitlines() if line.strip()]
    assert [(e["type"], e["object"]["metadata"]["name"]) for e in lines] == [("ADDED", "w2"), ("DELETED", "w1")]


def test_watch_streams_changes_made_after_it_starts(sim: RunningSim) -> None:
    _, listed = call(sim, "GET", "/api/v1/namespaces/default/configmaps")
    rv = listed["metadata"]["resourceVersion"]
    conn = http.client.HTTPConnection("127.0.0.1", sim.port, timeout=10)
    conn.request("GET", f"/api/v1/namespaces/default/configmaps?watch=true&resourceVersion={rv}&timeoutSeconds=5")
    response = conn.getresponse()
    call(sim, "POST", "/api/v1/namespaces/default/configmaps", configmap("later"))
    event = json.loads(response.readline())
    assert (event["type"], event["object"]["metadata"]["name"]) == ("ADDED", "later")
    conn.close()


def test_pod_table_has_kubectl_columns(shared: RunningSim) -> None:
    _, table = call(
        shared,
        "GET",
        "/api/v1/namespaces/shop/pods",
        accept="application/json;as=Table;v=v1;g=meta.k8s.io,application/json",
    )
    assert table["kind"] == "Table"
    assert [c["name"] for c in table["columnDefinitions"]][:5] == ["Name", "Ready", "Status", "Restarts", "Age"]
    assert table["rows"]


def test_fault_injection_errors_and_drops(sim: RunningSim) -> None:
    sim.faults.add("status", verb="get", resource="configmaps", status=503, times=1)
    call(sim, "POST", "/api/v1/namespaces/default/configmaps", configmap("f"))
    assert call(sim, "GET", "/api/v1/namespaces/default/configmaps/f")[0] == 503
    assert call(sim, "GET", "/api/v1/namespaces/default/configmaps/f")[0] == 200
    sim.faults.add("drop_after", verb="patch", resource="configmaps", times=1)
    with pytest.raises((http.client.RemoteDisconnected, ConnectionError, urllib.error.URLError)):
        call(
            sim,
            "PATCH",
            "/api/v1/namespaces/default/configmaps/f",
            {"data": {"k": "after"}},
            content_type="application/merge-patch+json",
        )
    # drop_after applied the write before dropping the connection: the outcome was unknowable to the client.
    assert call(sim, "GET", "/api/v1/namespaces/default/configmaps/f")[1]["data"] == {"k": "after"}
    sim.faults.add("drop_before", verb="patch", resource="configmaps", times=1)
    with pytest.raises((http.client.RemoteDisconnected, ConnectionError, urllib.error.URLError)):
        call(
            sim,
            "PATCH",
            "/api/v1/namespaces/default/configmaps/f",
            {"data": {"k": "before"}},
            content_type="application/merge-patch+json",
        )
    assert call(sim, "GET", "/api/v1/namespaces/default/configmaps/f")[1]["data"] == {"k": "after"}


def test_a_fault_can_target_one_api_group(sim: RunningSim) -> None:
    """PodMetrics are "pods" too: `group` takes the metrics API away and leaves core pods alone."""
    status, _ = call(
        sim, "POST", "/sim/faults", {"action": "status", "resource": "pods", "group": "metrics.k8s.io", "status": 404}
    )
    assert status == 201
    assert call(sim, "GET", "/apis/metrics.k8s.io/v1beta1/namespaces/default/pods")[0] == 404
    assert call(sim, "GET", "/api/v1/namespaces/default/pods")[0] == 200
    sim.faults.add("status", resource="pods", group="", status=503, times=1)
    assert call(sim, "GET", "/api/v1/namespaces/default/pods")[0] == 503


def test_fault_injection_over_the_admin_path(sim: RunningSim) -> None:
    status, added = call(
        sim, "POST", "/sim/faults", {"action": "status", "verb": "list", "resource": "nodes", "status": 500}
    )
    assert status == 201 and added["id"]
    assert call(sim, "GET", "/api/v1/nodes")[0] == 500
    assert call(sim, "DELETE", "/sim/faults")[0] == 200
    assert call(sim, "GET", "/api/v1/nodes")[0] == 200
    assert call(sim, "POST", "/sim/faults", {"action": "explode", "nonsense": 1})[0] == 400


def test_authorization_denials_answer_forbidden_and_reviews_agree(sim: RunningSim) -> None:
    sim.authz.deny("patch", "deployments", namespace="shop")
    status, body = call(
        sim,
        "PATCH",
        "/apis/apps/v1/namespaces/shop/deployments/anything",
        {"spec": {}},
        content_type="application/merge-patch+json",
    )
    assert status == 403
    assert 'cannot patch resource "deployments" in API group "apps" in the namespace "shop"' in body["message"]
    review = {
        "apiVersion": "authorization.k8s.io/v1",
        "kind": "SelfSubjectAccessReview",
        "spec": {
            "resourceAttributes": {"verb": "patch", "resource": "deployments", "group": "apps", "namespace": "shop"}
        },
    }
    _, answer = call(sim, "POST", "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews", review)
    assert answer["status"]["allowed"] is False
    review["spec"]["resourceAttributes"]["verb"] = "get"
    _, answer = call(sim, "POST", "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews", review)
    assert answer["status"]["allowed"] is True


def test_concurrent_requests_do_not_corrupt_resource_versions(sim: RunningSim) -> None:
    errors: list[str] = []

    def create(i: int) -> None:
        status, _ = call(sim, "POST", "/api/v1/namespaces/default/configmaps", configmap(f"c-{i}"))
        if status != 201:
            errors.append(str(status))

    threads = [threading.Thread(target=create, args=(i,)) for i in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    _, listed = call(sim, "GET", "/api/v1/namespaces/default/configmaps?labelSelector=")
    versions = [
        int(i["metadata"]["resourceVersion"]) for i in listed["items"] if i["metadata"]["name"].startswith("c-")
    ]
    assert len(set(versions)) == 20

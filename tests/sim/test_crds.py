"""CustomResourceDefinitions, with real kubectl: a CRD makes its kind served, with the API's semantics.

CRUD, discovery (short names, categories, versions), tables from additionalPrinterColumns, label selectors,
watch, the status subresource, optimistic concurrency, cluster scope, schema defaults/pruning/validation, and the
objects going with their CRD. The team-mode store will keep its objects in CRDs on this API.
"""

from __future__ import annotations

import copy
import json
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from support.kubectl_runner import Kubectl

from incident_response.sim.serve import RunningSim, run_sim

NS = "default"
SCHEMA = {
    "type": "object",
    "properties": {
        "spec": {
            "type": "object",
            "required": ["size"],
            "properties": {
                "size": {"type": "integer", "minimum": 0},
                "color": {"type": "string", "default": "blue", "enum": ["blue", "red"]},
                "labels": {"type": "object", "additionalProperties": {"type": "string"}},
            },
        },
        "status": {"type": "object", "x-kubernetes-preserve-unknown-fields": True},
    },
}


def crd(scope: str = "Namespaced", plural: str = "widgets", kind: str = "Widget") -> dict[str, Any]:
    return {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": f"{plural}.example.com"},
        "spec": {
            "group": "example.com",
            "scope": scope,
            "names": {"plural": plural, "singular": kind.lower(), "kind": kind, "shortNames": [plural[:2]]},
            "versions": [
                {
                    "name": "v1",
                    "served": True,
                    "storage": True,
                    "subresources": {"status": {}},
                    "additionalPrinterColumns": [
                        {"name": "Size", "type": "integer", "jsonPath": ".spec.size"},
                        {
                            "name": "Ready",
                            "type": "string",
                            "jsonPath": '.status.conditions[?(@.type=="Ready")].status',
                        },
                        {"name": "Age", "type": "date", "jsonPath": ".metadata.creationTimestamp"},
                    ],
                    "schema": {"openAPIV3Schema": SCHEMA},
                },
                {
                    "name": "v1beta1",
                    "served": True,
                    "storage": False,
                    "schema": {"openAPIV3Schema": SCHEMA},
                },
            ],
        },
    }


def widget(name: str, size: int = 3, **labels: str) -> dict[str, Any]:
    meta: dict[str, Any] = {"name": name, "namespace": NS}
    if labels:
        meta["labels"] = labels
    return {"apiVersion": "example.com/v1", "kind": "Widget", "metadata": meta, "spec": {"size": size}}


@pytest.fixture
def cluster(tmp_path: Path) -> Iterator[tuple[RunningSim, Kubectl]]:
    with run_sim("healthy", kubeconfig_path=tmp_path / "kubeconfig") as sim:
        k = Kubectl(tmp_path / "kubeconfig", tmp_path / "cache")
        k.run("apply", "-f", "-", stdin=json.dumps(crd()))
        yield sim, k


def apply(k: Kubectl, obj: dict[str, Any], *flags: str) -> str:
    return k.run("apply", "-f", "-", *flags, stdin=json.dumps(obj)).stdout.strip()


def test_a_crd_is_established_and_its_kind_is_discovered(cluster: tuple[RunningSim, Kubectl]) -> None:
    _, k = cluster
    waited = k.run("wait", "--for=condition=Established", "crd/widgets.example.com", "--timeout=10s").stdout
    assert "condition met" in waited
    status = k.json("get", "crd", "widgets.example.com")["status"]
    assert status["acceptedNames"]["kind"] == "Widget" and status["storedVersions"] == ["v1"]
    rows = [line.split() for line in k.run("api-resources", "--api-group=example.com").stdout.splitlines()]
    assert rows[1] == ["widgets", "wi", "example.com/v1", "true", "Widget"]
    groups = json.loads(k.run("get", "--raw", "/apis").stdout)["groups"]
    example = next(g for g in groups if g["name"] == "example.com")
    assert [v["version"] for v in example["versions"]] == ["v1", "v1beta1"]


def test_crud_tables_label_selectors_and_served_versions(cluster: tuple[RunningSim, Kubectl]) -> None:
    _, k = cluster
    assert apply(k, widget("small", 1, tier="fe")) == "widget.example.com/small created"
    assert apply(k, widget("large", 9, tier="be")) == "widget.example.com/large created"
    rows = k.table("wi", "-n", NS)
    assert [(r["NAME"], r["SIZE"], r["READY"]) for r in rows] == [("large", "9", "<none>"), ("small", "1", "<none>")]
    assert list(rows[0]) == ["NAME", "SIZE", "READY", "AGE"]
    assert [r["NAME"] for r in k.table("widgets", "-n", NS, "-l", "tier=fe")] == ["small"]
    assert [r["NAME"] for r in k.table("widgets.example.com", "-n", NS, "-l", "tier notin (fe)")] == ["large"]
    got = k.json("get", "widget", "small", "-n", NS)
    assert got["spec"] == {"size": 1, "color": "blue"}  # the schema's default filled in
    assert got["metadata"]["generation"] == 1
    beta = k.json("get", "widgets.v1beta1.example.com", "small", "-n", NS)
    assert beta["apiVersion"] == "example.com/v1beta1" and beta["spec"] == got["spec"]
    k.run("patch", "widget", "small", "-n", NS, "--type=merge", "-p", '{"spec":{"size":2}}')
    patched = k.json("get", "widget", "small", "-n", NS)
    assert patched["spec"]["size"] == 2 and patched["metadata"]["generation"] == 2
    assert k.run("delete", "widget", "small", "-n", NS).stdout.strip() == 'widget.example.com "small" deleted'
    assert [r["NAME"] for r in k.table("widgets", "-n", NS)] == ["large"]


def test_status_is_written_through_its_subresource_only(cluster: tuple[RunningSim, Kubectl]) -> None:
    _, k = cluster
    apply(k, widget("w"))
    ready = '{"status":{"conditions":[{"type":"Ready","status":"True"}]}}'
    k.run("patch", "widget", "w", "-n", NS, "--type=merge", "-p", ready)  # the main resource ignores status
    assert "status" not in k.json("get", "widget", "w", "-n", NS)
    k.run("patch", "widget", "w", "-n", NS, "--subresource=status", "--type=merge", "-p", ready)
    obj = k.json("get", "widget", "w", "-n", NS)
    assert obj["status"]["conditions"] == [{"type": "Ready", "status": "True"}]
    assert obj["metadata"]["generation"] == 1  # a status change is not a spec change
    assert k.table("widgets", "w", "-n", NS)[0]["READY"] == "True"


def test_a_stale_resource_version_is_a_409_conflict(cluster: tuple[RunningSim, Kubectl]) -> None:
    _, k = cluster
    apply(k, widget("w", 1))
    first = k.json("get", "widget", "w", "-n", NS)
    second = copy.deepcopy(first)
    first["spec"]["size"] = 2
    k.run("replace", "-f", "-", stdin=json.dumps(first))
    second["spec"]["size"] = 5
    stale = k.run("replace", "-f", "-", stdin=json.dumps(second), check=False)
    assert stale.returncode != 0
    assert 'Operation cannot be fulfilled on widgets.example.com "w": the object has been modified' in stale.stderr
    assert k.json("get", "widget", "w", "-n", NS)["spec"]["size"] == 2


def test_watch_replays_the_kinds_changes_from_a_resource_version(cluster: tuple[RunningSim, Kubectl]) -> None:
    sim, k = cluster
    listed = json.loads(k.run("get", "--raw", f"/apis/example.com/v1/namespaces/{NS}/widgets").stdout)
    since = listed["metadata"]["resourceVersion"]
    assert listed["kind"] == "WidgetList" and since
    apply(k, widget("w", 1))
    k.run("patch", "widget", "w", "-n", NS, "--type=merge", "-p", '{"spec":{"size":4}}')
    k.run("delete", "widget", "w", "-n", NS)
    url = f"{sim.url}/apis/example.com/v1/namespaces/{NS}/widgets?watch=true&resourceVersion={since}&timeoutSeconds=1"
    with urllib.request.urlopen(url, timeout=10) as response:
        events = [json.loads(line) for line in response.read().splitlines() if line.strip()]
    assert [(e["type"], e["object"]["spec"]["size"]) for e in events] == [("ADDED", 1), ("MODIFIED", 4), ("DELETED", 4)]


def test_the_schema_prunes_defaults_and_rejects(cluster: tuple[RunningSim, Kubectl]) -> None:
    _, k = cluster
    unknown = widget("w")
    unknown["spec"]["colour"] = "red"
    strict = k.run("apply", "-f", "-", stdin=json.dumps(unknown), check=False)
    assert strict.returncode != 0 and 'strict decoding error: unknown field "spec.colour"' in strict.stderr
    assert apply(k, unknown, "--validate=false") == "widget.example.com/w created"
    assert k.json("get", "widget", "w", "-n", NS)["spec"] == {"size": 3, "color": "blue"}  # pruned, defaulted
    bad = widget("bad")
    bad["spec"].update(size="big", color="green")
    invalid = k.run("apply", "-f", "-", stdin=json.dumps(bad), check=False)
    assert invalid.returncode != 0
    assert 'The Widget "bad" is invalid' in invalid.stderr
    assert 'spec.size: Invalid value: "big": spec.size in body must be of type integer: "big"' in invalid.stderr
    assert 'spec.color: Unsupported value: "green": supported values: "blue", "red"' in invalid.stderr
    missing = widget("none")
    del missing["spec"]["size"]
    assert "spec.size: Required value" in k.run("apply", "-f", "-", stdin=json.dumps(missing), check=False).stderr


def test_a_cluster_scoped_kind_and_deleting_a_crd_takes_its_objects(cluster: tuple[RunningSim, Kubectl]) -> None:
    _, k = cluster
    k.run("apply", "-f", "-", stdin=json.dumps(crd("Cluster", "gizmos", "Gizmo")))
    gizmo = {"apiVersion": "example.com/v1", "kind": "Gizmo", "metadata": {"name": "g1"}, "spec": {"size": 1}}
    assert apply(k, gizmo) == "gizmo.example.com/g1 created"
    assert "namespace" not in k.json("get", "gizmo", "g1")["metadata"]
    assert [r["NAME"] for r in k.table("gizmos")] == ["g1"]
    apply(k, widget("w"))
    k.run("delete", "crd", "widgets.example.com")
    kinds = k.run("api-resources", "--api-group=example.com", "-o", "name").stdout.split()
    assert kinds == ["gizmos.example.com"]
    assert k.run("get", "widgets.example.com", "-n", NS, check=False).returncode != 0
    k.run("apply", "-f", "-", stdin=json.dumps(crd()))  # re-created: its old objects are gone
    assert k.table("widgets", "-n", NS) == []


@pytest.mark.parametrize(
    ("change", "words"),
    [
        (lambda c: c["metadata"].update(name="widget.example.com"), 'must be spec.names.plural+"."+spec.group'),
        (lambda c: c["spec"].update(group="example"), "should be a domain with at least one dot"),
        (lambda c: c["spec"]["versions"][1].update(storage=True), "exactly one version marked as storage"),
        (lambda c: c["spec"].update(scope="Galaxy"), 'spec.scope: Unsupported value: "Galaxy"'),
    ],
)
def test_an_invalid_crd_is_a_422_that_names_the_field(
    cluster: tuple[RunningSim, Kubectl], change: Any, words: str
) -> None:
    _, k = cluster
    bad = crd(plural="doodads", kind="Doodad")
    change(bad)
    done = k.run("create", "-f", "-", stdin=json.dumps(bad), check=False)
    assert done.returncode != 0 and "is invalid" in done.stderr and words in done.stderr


def test_the_python_client_custom_objects_api(cluster: tuple[RunningSim, Kubectl]) -> None:
    kubernetes = pytest.importorskip("kubernetes")
    sim, _ = cluster
    assert sim.kubeconfig_path is not None
    api_client = kubernetes.config.new_client_from_config(config_file=str(sim.kubeconfig_path))
    try:
        custom = kubernetes.client.CustomObjectsApi(api_client)
        created = custom.create_namespaced_custom_object("example.com", "v1", NS, "widgets", widget("py", 2, app="x"))
        assert created["spec"] == {"size": 2, "color": "blue"}
        listed = custom.list_namespaced_custom_object("example.com", "v1", NS, "widgets", label_selector="app=x")
        assert [item["metadata"]["name"] for item in listed["items"]] == ["py"]
        status = {"status": {"phase": "Ready"}}
        patched = custom.patch_namespaced_custom_object_status("example.com", "v1", NS, "widgets", "py", status)
        assert patched["status"] == {"phase": "Ready"}
        with pytest.raises(kubernetes.client.ApiException) as conflict:
            stale = dict(created, spec={"size": 7})
            custom.replace_namespaced_custom_object("example.com", "v1", NS, "widgets", "py", stale)
        assert conflict.value.status == 409
    finally:
        api_client.close()

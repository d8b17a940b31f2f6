"""Protobuf request bodies: what kubectl 1.32's typed clients send is decoded into the object a JSON client would send.

The oracle is kubectl itself: `kubectl create <generator> --dry-run=client -o json` prints Go's JSON of the very
object that `kubectl create <generator>` sends as protobuf. Creating one by protobuf and its JSON twin by
`kubectl create -f` must store the same object.
"""

from __future__ import annotations

import gzip
import json
import subprocess
import sys
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from support.kubectl_runner import Kubectl

from incident_response.sim import kubectl_schema, protowire
from incident_response.sim.serve import RunningSim, run_sim

PROTOBUF = "application/vnd.kubernetes.protobuf"
NS = "default"


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[RunningSim, Kubectl]]:
    folder = tmp_path_factory.mktemp("protobuf")
    with run_sim("healthy", kubeconfig_path=folder / "kubeconfig") as sim:
        yield sim, Kubectl(folder / "kubeconfig", folder / "cache")


JOB_IDENTITY = {
    "batch.kubernetes.io/controller-uid": "uid",
    "controller-uid": "uid",
    "batch.kubernetes.io/job-name": "name",
    "job-name": "name",
}


def comparable(obj: dict[str, Any]) -> dict[str, Any]:
    """An object without what the server assigns (identity, timestamps, allocated IPs) or a controller writes."""
    out = json.loads(json.dumps(obj))
    meta = out["metadata"]
    for key in ("name", "uid", "resourceVersion", "creationTimestamp", "managedFields", "annotations"):
        meta.pop(key, None)
    out.pop("status", None)
    spec = out.get("spec") or {}
    for key in ("clusterIP", "clusterIPs"):
        spec.pop(key, None)
    if out.get("kind") == "Job":  # the API server labels a Job's pods with its own uid and name: said as <uid>/<name>
        own = {"uid": obj["metadata"]["uid"], "name": obj["metadata"]["name"]}
        labels = ((spec.get("template") or {}).get("metadata") or {}).get("labels") or {}
        for mapping in ((spec.get("selector") or {}).get("matchLabels") or {}, labels):
            for key, which in JOB_IDENTITY.items():
                if mapping.get(key) == own[which]:
                    mapping[key] = f"<{which}>"
    return out


# (kind as kubectl get names it, the generator's arguments after `kubectl create`, with NAME for the object's name)
GENERATORS = [
    ("deployment", "deployment NAME --image=registry.example.com/web:1.25 --replicas=0 --port=8080"),
    ("deployment", "deployment NAME --image=registry.example.com/web:1.25 --image=registry.example.com/side:2"),
    ("configmap", "configmap NAME --from-literal=mode=fast --from-literal=empty="),
    ("secret", "secret generic NAME --from-literal=password=s3cr3t --type=Opaque"),
    ("service", "service clusterip NAME --tcp=80:8080 --tcp=443:8443"),
    ("service", "service nodeport NAME --tcp=80:8080 --node-port=30080"),
    ("job", "job NAME --image=registry.example.com/migrate:3 -- migrate --all"),
    ("poddisruptionbudget", "poddisruptionbudget NAME --selector=app=web --min-available=50%"),
    ("ingress", "ingress NAME --rule=shop.example.com/api*=api:8080 --class=nginx"),
]


@pytest.mark.parametrize(("kind", "generator"), GENERATORS, ids=[g.split(" NAME")[0] for _, g in GENERATORS])
def test_kubectl_create_by_protobuf_stores_what_the_same_object_in_json_stores(
    cluster: tuple[RunningSim, Kubectl], kind: str, generator: str
) -> None:
    _, k = cluster
    name = f"pb-{GENERATORS.index((kind, generator))}"
    argv, _, command = generator.replace("NAME", name).partition(" -- ")
    after = ["--", *command.split()] if command else []
    oracle = json.loads(k.run("create", *argv.split(), "-n", NS, "--dry-run=client", "-o", "json", *after).stdout)
    created = k.run("create", *argv.split(), "-n", NS, *after)  # protobuf on the wire (kubectl >= 1.32)
    assert "created" in created.stdout
    twin = dict(oracle, metadata={**oracle["metadata"], "name": f"{name}-json"})
    k.run("create", "-n", NS, "-f", "-", stdin=json.dumps(twin))  # JSON on the wire
    by_protobuf = k.json("get", kind, name, "-n", NS)
    by_json = k.json("get", kind, f"{name}-json", "-n", NS)
    assert comparable(by_protobuf) == comparable(by_json)


def test_kubectl_create_namespace_by_protobuf_gets_the_defaults(cluster: tuple[RunningSim, Kubectl]) -> None:
    _, k = cluster
    k.run("create", "namespace", "pb-team")
    ns = k.json("get", "namespace", "pb-team")
    assert ns["spec"] == {"finalizers": ["kubernetes"]}
    assert ns["status"] == {"phase": "Active"}
    assert ns["metadata"]["labels"] == {"kubernetes.io/metadata.name": "pb-team"}


def test_replicas_zero_survives_protobuf_and_a_secret_keeps_its_bytes(cluster: tuple[RunningSim, Kubectl]) -> None:
    """`replicas` is a Go pointer: 0 on the wire means 0, not 'unset' (which would default to 1)."""
    sim, k = cluster
    k.run("create", "deployment", "pb-zero", "--image=registry.example.com/web:1", "--replicas=0", "-n", NS)
    assert k.json("get", "deployment", "pb-zero", "-n", NS)["spec"]["replicas"] == 0
    k.run("create", "secret", "generic", "pb-bytes", "--from-literal=key=v\u00e9", "-n", NS)
    data = k.run("get", "secret", "pb-bytes", "-n", NS, "-o", "jsonpath={.data.key}").stdout
    assert data == "dsOp"  # base64 of the UTF-8 bytes, as a real API server stores them


def test_auth_can_i_sends_a_protobuf_access_review_and_gets_the_authorizers_answer(
    cluster: tuple[RunningSim, Kubectl],
) -> None:
    sim, k = cluster
    assert k.run("auth", "can-i", "list", "pods", "-n", NS).stdout.strip() == "yes"
    sim.authz.deny("list", "pods", "", NS)
    try:
        denied = k.run("auth", "can-i", "list", "pods", "-n", NS, check=False)
        assert denied.stdout.startswith("no - denied by the simulated cluster")
        assert k.run("auth", "can-i", "list", "pods", "-n", "shop").stdout.strip() == "yes"
    finally:
        sim.authz.clear()


# ----- the decoder on its own -----


def post(sim: RunningSim, path: str, body: bytes) -> tuple[int, dict[str, Any]]:
    request = urllib.request.Request(sim.url + path, data=body, method="POST", headers={"Content-Type": PROTOBUF})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read())


def envelope(api_version: str, kind: str, raw: bytes, encoding: str = "") -> bytes:
    schema = protowire._schema()
    from google.protobuf import message_factory

    unknown = message_factory.GetMessageClass(schema.pool.FindMessageTypeByName(protowire._UNKNOWN))()
    unknown.typeMeta.apiVersion = api_version
    unknown.typeMeta.kind = kind
    unknown.raw = raw
    if encoding:
        unknown.contentEncoding = encoding
    return bytes(protowire.MAGIC + unknown.SerializeToString())


def message(full_name: str) -> Any:
    from google.protobuf import message_factory

    return message_factory.GetMessageClass(protowire._schema().pool.FindMessageTypeByName(full_name))()


def test_the_apimachinery_types_decode_to_their_json_forms() -> None:
    pod = message("k8s.io.api.core.v1.Pod")
    pod.metadata.name = "p"
    pod.metadata.creationTimestamp.SetInParent()  # Go's zero time: present but empty
    pod.metadata.deletionTimestamp.seconds = 1_700_000_000
    c = pod.spec.containers.add()
    c.name, c.image = "app", "img"
    c.stdin = False  # a plain bool Go always writes: dropped at zero
    c.resources.limits["memory"].string = "512Mi"
    c.readinessProbe.handler.httpGet.path = "/healthz"
    c.readinessProbe.handler.httpGet.port.type = 1
    c.readinessProbe.handler.httpGet.port.strVal = "http"
    c.livenessProbe.handler.tcpSocket.port.intVal = 8080
    v = pod.spec.volumes.add()
    v.name = "scratch"
    v.volumeSource.emptyDir.SetInParent()
    pod.spec.automountServiceAccountToken = False  # a Go pointer: false is kept
    pod.spec.terminationGracePeriodSeconds = 0
    decoded = protowire.decode(envelope("v1", "Pod", pod.SerializeToString()))
    assert decoded["metadata"] == {"name": "p", "creationTimestamp": None, "deletionTimestamp": "2023-11-14T22:13:20Z"}
    container = decoded["spec"]["containers"][0]
    assert container == {
        "name": "app",
        "image": "img",
        "resources": {"limits": {"memory": "512Mi"}},
        "readinessProbe": {"httpGet": {"path": "/healthz", "port": "http"}},
        "livenessProbe": {"tcpSocket": {"port": 8080}},
    }
    assert decoded["spec"]["volumes"] == [{"name": "scratch", "emptyDir": {}}]
    assert decoded["spec"]["automountServiceAccountToken"] is False
    assert decoded["spec"]["terminationGracePeriodSeconds"] == 0


@pytest.mark.parametrize(
    ("body", "code", "words"),
    [
        (b"\x0a\x02hi", 400, "k8s\\x00"),  # no magic
        (b"k8s\x00\x0a\x05", 400, "could not be decoded"),  # truncated envelope
        (None, 415, "Widget in example.com/v1"),  # a type without a schema here
        (b"gzip", 415, "content encoding"),
        (b"garbage", 400, "could not be decoded"),  # the object's own bytes are not a ConfigMap
    ],
)
def test_bad_protobuf_bodies_get_a_status_that_says_what_to_do_and_change_nothing(
    cluster: tuple[RunningSim, Kubectl], body: bytes | None, code: int, words: str
) -> None:
    sim, _ = cluster
    if body is None:
        body = envelope("example.com/v1", "Widget", b"")
    elif body == b"gzip":
        body = envelope("v1", "ConfigMap", b"\x1f\x8b", encoding="gzip")
    elif body == b"garbage":
        body = envelope("v1", "ConfigMap", b"\x0a\xff\xff\xff")
    before = sim.store.resource_version
    status, answer = post(sim, "/api/v1/namespaces/default/configmaps", body)
    assert (status, answer["kind"], answer["code"]) == (code, "Status", code)
    assert words in answer["message"]
    if code == 415:
        assert "application/json" in answer["message"]
    assert all(e.resource != "configmaps" for e in sim.store.events_since(before))


def test_the_schema_is_read_from_the_kubectl_binary() -> None:
    binary = kubectl_schema.find_kubectl()
    if binary is None:
        pytest.skip("kubectl is not on PATH (.ci/run installs one)")
    files = kubectl_schema.embedded_files(binary.resolve())
    for group in ("api/core/v1", "api/apps/v1", "api/batch/v1", "api/authorization/v1", "apimachinery/pkg/runtime"):
        assert f"k8s.io/{group}/generated.proto" in files
    pointers = protowire._schema().pointers
    assert "k8s.io.api.apps.v1.DeploymentSpec.replicas" in pointers  # *int32
    assert "k8s.io.api.core.v1.PodSpec.automountServiceAccountToken" in pointers  # *bool
    assert "k8s.io.api.apps.v1.DeploymentSpec.minReadySeconds" not in pointers  # int32
    assert "k8s.io.api.core.v1.Container.stdin" not in pointers  # bool


def test_a_kubectl_before_1_30_names_its_schema_from_the_vendor_tree_and_is_read_the_same(tmp_path: Path) -> None:
    """Older kubectl registers `k8s.io/kubernetes/vendor/k8s.io/...` files; a binary is also full of other gzip."""
    from google.protobuf import descriptor_pb2

    binary = kubectl_schema.find_kubectl()
    if binary is None:
        pytest.skip("kubectl is not on PATH (.ci/run installs one)")
    vendored = b"\x7fELF" + gzip.compress(b"not a descriptor", mtime=0)
    for raw in kubectl_schema.embedded_files(binary.resolve()).values():
        file = descriptor_pb2.FileDescriptorProto.FromString(raw)
        file.name = "k8s.io/kubernetes/vendor/" + file.name
        deps = ["k8s.io/kubernetes/vendor/" + d if d.startswith("k8s.io/") else d for d in file.dependency]
        del file.dependency[:]
        file.dependency.extend(deps)
        vendored += b"\x00padding" + gzip.compress(file.SerializeToString(), mtime=0)
    old = tmp_path / "kubectl-1.27"
    old.write_bytes(vendored)
    schema = protowire._load(old)
    assert schema.pointers == protowire._schema().pointers
    assert schema.pool.FindMessageTypeByName("k8s.io.api.authorization.v1.SelfSubjectAccessReview")


@pytest.mark.parametrize("where", ["nowhere", "missing file", "not kubectl"])
def test_without_a_kubectl_to_read_the_schema_from_protobuf_gets_415_and_json_still_works(
    cluster: tuple[RunningSim, Kubectl], tmp_path: Path, monkeypatch: pytest.MonkeyPatch, where: str
) -> None:
    sim, _ = cluster
    body = envelope("v1", "ConfigMap", message("k8s.io.api.core.v1.ConfigMap").SerializeToString())
    monkeypatch.setenv("PATH", str(tmp_path))  # no kubectl on it
    monkeypatch.delenv(kubectl_schema.ENV, raising=False)
    expected = "no kubectl was found"
    if where == "missing file":
        monkeypatch.setenv(kubectl_schema.ENV, str(tmp_path / "kubectl"))
        expected = "cannot read"
    elif where == "not kubectl":
        (tmp_path / "kubectl").write_bytes(b"#!/bin/sh\n" + kubectl_schema.GZIP_MAGIC + b"junk")
        monkeypatch.setenv(kubectl_schema.ENV, str(tmp_path / "kubectl"))
        expected = "carries no Kubernetes protobuf schema"
    before = sim.store.resource_version
    status, answer = post(sim, "/api/v1/namespaces/default/configmaps", body)
    assert (status, answer["code"]) == (415, 415)
    assert expected in answer["message"]
    assert "application/json" in answer["message"] and "install kubectl" in answer["message"]
    assert all(e.resource != "configmaps" for e in sim.store.events_since(before))
    twin = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": f"json-{where.replace(' ', '-')}"}}
    request = urllib.request.Request(
        sim.url + "/api/v1/namespaces/default/configmaps",
        data=json.dumps(twin).encode(),
        method="POST",
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        assert response.status == 201


def test_the_simulator_starts_without_loading_the_protobuf_runtime() -> None:
    script = (
        "import sys\n"
        "from incident_response.sim.serve import run_sim\n"
        "with run_sim('healthy'):\n"
        "    pass\n"
        "print('google.protobuf' in sys.modules)\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert done.stdout.strip() == "False", done.stderr[-2000:]

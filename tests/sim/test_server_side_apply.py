"""Server-side apply with real kubectl: field managers, conflicts named as a real API server names them, forcing.

`kubectl apply --server-side` sends PATCH application/apply-patch+yaml with fieldManager=kubectl; the simulator
keeps metadata.managedFields per manager (sim/managed_fields.py) at the granularity of leaf fields.
"""

from __future__ import annotations

import copy
import json
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from support.kubectl_runner import Kubectl

from incident_response.sim.serve import RunningSim, run_sim

NS = "default"
CONFLICT_HELP = "Please review the fields above--they currently have other managers."


def deployment(replicas: int = 2, image: str = "registry.example.com/web:1", **labels: str) -> dict[str, Any]:
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "web", "namespace": NS, "labels": {"app": "web", **labels}},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": {"app": "web"}},
            "template": {
                "metadata": {"labels": {"app": "web"}},
                "spec": {"containers": [{"name": "web", "image": image}]},
            },
        },
    }


@pytest.fixture
def cluster(tmp_path: Path) -> Iterator[tuple[RunningSim, Kubectl]]:
    with run_sim("healthy", kubeconfig_path=tmp_path / "kubeconfig") as sim:
        yield sim, Kubectl(tmp_path / "kubeconfig", tmp_path / "cache")


def ssa(k: Kubectl, obj: dict[str, Any], *flags: str, check: bool = True) -> Any:
    return k.run("apply", "--server-side", *flags, "-f", "-", stdin=json.dumps(obj), check=check)


def managers(k: Kubectl, kind: str = "deployment", name: str = "web") -> dict[tuple[str, str, str], Any]:
    fields = k.json("get", kind, name, "-n", NS, "--show-managed-fields")["metadata"]["managedFields"]
    return {(f["manager"], f["operation"], f.get("subresource", "")): f["fieldsV1"] for f in fields}


def test_apply_creates_and_records_the_appliers_fields(cluster: tuple[RunningSim, Kubectl]) -> None:
    _, k = cluster
    assert ssa(k, deployment()).stdout.strip() == "deployment.apps/web serverside-applied"
    owned = managers(k)
    assert list(owned) == [("kubectl", "Apply", "")]
    fields = owned[("kubectl", "Apply", "")]
    assert fields["f:spec"]["f:replicas"] == {}
    assert fields["f:metadata"] == {"f:labels": {"f:app": {}}}
    container = fields["f:spec"]["f:template"]["f:spec"]["f:containers"]['k:{"name":"web"}']
    assert container == {".": {}, "f:image": {}, "f:name": {}}
    assert ssa(k, deployment()).returncode == 0
    assert k.json("get", "deployment", "web", "-n", NS)["metadata"]["generation"] == 1  # nothing changed


def test_a_field_kubectl_scale_set_conflicts_until_forced(cluster: tuple[RunningSim, Kubectl]) -> None:
    _, k = cluster
    ssa(k, deployment(replicas=2))
    k.run("scale", "deployment", "web", "-n", NS, "--replicas=3")
    assert managers(k)[("kubectl", "Update", "scale")] == {"f:spec": {"f:replicas": {}}}
    refused = ssa(k, deployment(replicas=5), check=False)
    assert refused.returncode != 0
    assert refused.stderr.startswith(
        'error: Apply failed with 1 conflict: conflict with "kubectl" with subresource "scale" using apps/v1: '
        ".spec.replicas\n" + CONFLICT_HELP
    )
    assert k.json("get", "deployment", "web", "-n", NS)["spec"]["replicas"] == 3
    # the same value is no conflict: both managers own it
    assert ssa(k, deployment(replicas=3)).returncode == 0
    assert "f:replicas" in managers(k)[("kubectl", "Update", "scale")]["f:spec"]
    k.run("scale", "deployment", "web", "-n", NS, "--replicas=4")
    assert ssa(k, deployment(replicas=6), "--force-conflicts").returncode == 0
    assert k.json("get", "deployment", "web", "-n", NS)["spec"]["replicas"] == 6
    assert ("kubectl", "Update", "scale") not in managers(k)  # forcing took the field from it


def test_two_appliers_conflict_by_name_and_share_equal_values(cluster: tuple[RunningSim, Kubectl]) -> None:
    _, k = cluster
    ssa(k, deployment())
    ci = deployment(replicas=4, image="registry.example.com/web:2")
    refused = ssa(k, ci, "--field-manager=ci", check=False)
    assert refused.returncode != 0
    assert (
        'Apply failed with 2 conflicts: conflicts with "kubectl":\n'
        "- .spec.replicas\n"
        '- .spec.template.spec.containers[name="web"].image\n'
    ) in refused.stderr
    shared = copy.deepcopy(deployment())
    shared["metadata"]["labels"] = {"team": "payments"}
    del shared["spec"]["replicas"]
    assert ssa(k, shared, "--field-manager=ci").returncode == 0
    labels = k.json("get", "deployment", "web", "-n", NS)["metadata"]["labels"]
    assert labels == {"app": "web", "team": "payments"}
    owned = managers(k)
    assert owned[("ci", "Apply", "")]["f:metadata"] == {"f:labels": {"f:team": {}}}
    assert "f:image" in owned[("ci", "Apply", "")]["f:spec"]["f:template"]["f:spec"]["f:containers"]['k:{"name":"web"}']


def test_a_field_dropped_from_the_configuration_goes_unless_another_manager_owns_it(
    cluster: tuple[RunningSim, Kubectl],
) -> None:
    _, k = cluster
    ssa(k, deployment(tier="frontend", owner="shop"))
    k.run("label", "deployment", "web", "-n", NS, "owner=payments", "--overwrite")  # kubectl-label takes owner
    ssa(k, deployment())  # neither tier nor owner any more
    labels = k.json("get", "deployment", "web", "-n", NS)["metadata"]["labels"]
    assert labels == {"app": "web", "owner": "payments"}


def test_client_side_apply_upgrades_to_server_side_without_conflicts(cluster: tuple[RunningSim, Kubectl]) -> None:
    _, k = cluster
    k.run("apply", "-f", "-", stdin=json.dumps(deployment()))
    assert list(managers(k)) == [("kubectl-client-side-apply", "Update", "")]
    assert ssa(k, deployment(image="registry.example.com/web:2")).returncode == 0
    obj = k.json("get", "deployment", "web", "-n", NS)
    assert obj["spec"]["template"]["spec"]["containers"][0]["image"] == "registry.example.com/web:2"
    assert ("kubectl", "Apply", "") in managers(k)
    last = json.loads(obj["metadata"]["annotations"]["kubectl.kubernetes.io/last-applied-configuration"])
    assert last["spec"]["template"]["spec"]["containers"][0]["image"] == "registry.example.com/web:2"


def written(k: Kubectl) -> tuple[Any, ...]:
    """What a write would change (the controllers keep writing status meanwhile)."""
    obj = k.json("get", "deployment", "web", "-n", NS, "--show-managed-fields")
    return obj["spec"], obj["metadata"]["generation"], obj["metadata"].get("labels"), obj["metadata"]["managedFields"]


def test_server_dry_run_changes_nothing(cluster: tuple[RunningSim, Kubectl]) -> None:
    _, k = cluster
    ssa(k, deployment())
    before = written(k)
    assert ssa(k, deployment(replicas=9), "--dry-run=server").returncode == 0
    assert written(k) == before


def test_apply_on_a_custom_resource(cluster: tuple[RunningSim, Kubectl]) -> None:
    _, k = cluster
    crd = {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": "gadgets.example.com"},
        "spec": {
            "group": "example.com",
            "scope": "Namespaced",
            "names": {"plural": "gadgets", "kind": "Gadget"},
            "versions": [
                {
                    "name": "v1",
                    "served": True,
                    "storage": True,
                    "schema": {"openAPIV3Schema": {"type": "object", "x-kubernetes-preserve-unknown-fields": True}},
                }
            ],
        },
    }
    ssa(k, crd)
    gadget = {"apiVersion": "example.com/v1", "kind": "Gadget", "metadata": {"name": "g", "namespace": NS}}
    assert ssa(k, {**gadget, "spec": {"level": 1}}).stdout.strip() == "gadget.example.com/g serverside-applied"
    refused = ssa(k, {**gadget, "spec": {"level": 2}}, "--field-manager=other", check=False)
    assert 'conflict with "kubectl": .spec.level' in refused.stderr
    assert k.json("get", "gadget", "g", "-n", NS)["spec"] == {"level": 1}


def raw_apply(sim: RunningSim, path: str, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    request = urllib.request.Request(
        sim.url + path,
        data=json.dumps(body).encode(),
        method="PATCH",
        headers={"Content-Type": "application/apply-patch+yaml"},
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read())


@pytest.mark.parametrize(
    ("query", "change", "code", "words"),
    [
        ("", None, 422, "fieldManager: Required value: is required for apply patch"),
        ("?fieldManager=x", lambda d: d.update(kind="StatefulSet"), 400, "apiVersion 'apps/v1' and kind 'Deployment'"),
        ("?fieldManager=x", lambda d: d["metadata"].update(name="other"), 400, "metadata.name must be 'web'"),
        ("?fieldManager=kubectl", lambda d: d["spec"].update(replicas=-1), 422, "spec.replicas"),
        ("?fieldManager=x", lambda d: d["spec"].update(replicas=7), 409, 'conflict with "kubectl": .spec.replicas'),
    ],
)
def test_bad_apply_requests_say_what_is_wrong_and_change_nothing(
    cluster: tuple[RunningSim, Kubectl], query: str, change: Any, code: int, words: str
) -> None:
    sim, k = cluster
    ssa(k, deployment())
    body = deployment()
    if change is not None:
        change(body)
    before = written(k)
    status, answer = raw_apply(sim, f"/apis/apps/v1/namespaces/{NS}/deployments/web{query}", body)
    assert (status, answer["kind"]) == (code, "Status") and words in answer["message"], answer
    assert written(k) == before

"""`kind: List` files: kubectl apply, create, replace and delete them item by item, with validation on.

kubectl validates a List against the OpenAPI v2 schemas (its server-side field-validation check skips Lists),
so the simulator must answer /openapi/v2; each item's create or patch is then validated by the server.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from support.kubectl_runner import Kubectl

from incident_response.sim.serve import RunningSim, run_sim

NS = "default"


@pytest.fixture
def cluster(tmp_path: Path) -> Iterator[tuple[RunningSim, Kubectl]]:
    with run_sim("healthy", kubeconfig_path=tmp_path / "kubeconfig") as sim:
        yield sim, Kubectl(tmp_path / "kubeconfig", tmp_path / "cache")


def items(image_tag: str = "1", mode: str = "fast") -> list[dict[str, Any]]:
    return [
        {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {"name": "settings", "namespace": NS},
            "data": {"mode": mode},
        },
        {
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": {"name": "worker", "namespace": NS},
            "spec": {
                "replicas": 2,
                "selector": {"matchLabels": {"app": "worker"}},
                "template": {
                    "metadata": {"labels": {"app": "worker"}},
                    "spec": {"containers": [{"name": "worker", "image": f"registry.example.com/worker:{image_tag}"}]},
                },
            },
        },
        {
            "apiVersion": "autoscaling/v1",
            "kind": "HorizontalPodAutoscaler",
            "metadata": {"name": "worker", "namespace": NS},
            "spec": {
                "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "worker"},
                "minReplicas": 2,
                "maxReplicas": 4,
                "targetCPUUtilizationPercentage": 70,
            },
        },
    ]


def write_list(path: Path, objects: list[dict[str, Any]]) -> str:
    path.write_text(yaml.safe_dump({"apiVersion": "v1", "kind": "List", "items": objects}), encoding="utf-8")
    return str(path)


def test_apply_a_list_creates_then_configures_then_leaves_unchanged_each_item(
    cluster: tuple[RunningSim, Kubectl], tmp_path: Path
) -> None:
    _, k = cluster
    first = write_list(tmp_path / "v1.yaml", items())
    out = k.run("apply", "-f", first).stdout.splitlines()
    assert out == [
        "configmap/settings created",
        "deployment.apps/worker created",
        "horizontalpodautoscaler.autoscaling/worker created",
    ]
    assert k.json("get", "configmap", "settings", "-n", NS)["data"] == {"mode": "fast"}
    assert (
        k.json("get", "hpa", "worker", "-n", NS)["spec"]["metrics"][0]["resource"]["target"]["averageUtilization"] == 70
    )
    assert k.run("apply", "-f", first).stdout.splitlines() == [
        "configmap/settings unchanged",
        "deployment.apps/worker unchanged",
        "horizontalpodautoscaler.autoscaling/worker unchanged",
    ]
    second = write_list(tmp_path / "v2.yaml", items(image_tag="2", mode="safe"))
    assert k.run("apply", "-f", second).stdout.splitlines() == [
        "configmap/settings configured",
        "deployment.apps/worker configured",
        "horizontalpodautoscaler.autoscaling/worker unchanged",
    ]
    image = k.json("get", "deployment", "worker", "-n", NS)["spec"]["template"]["spec"]["containers"][0]["image"]
    assert image == "registry.example.com/worker:2"
    assert k.run("delete", "-f", second).stdout.splitlines() == [
        'configmap "settings" deleted',
        'deployment.apps "worker" deleted',
        'horizontalpodautoscaler.autoscaling "worker" deleted',
    ]
    assert k.run("get", "configmap", "settings", "-n", NS, check=False).returncode != 0


def test_create_a_list_reports_each_item_and_an_invalid_item_fails_alone(
    cluster: tuple[RunningSim, Kubectl], tmp_path: Path
) -> None:
    _, k = cluster
    objects = items()
    objects[1]["spec"]["template"]["metadata"]["labels"] = {"app": "other"}  # selector does not match: 422
    done = k.run("create", "-f", write_list(tmp_path / "bad.yaml", objects), check=False)
    assert done.returncode != 0
    assert "configmap/settings created" in done.stdout
    assert "horizontalpodautoscaler.autoscaling/worker created" in done.stdout
    assert 'The Deployment "worker" is invalid' in done.stderr
    assert k.run("get", "deployment", "worker", "-n", NS, check=False).returncode != 0


def test_a_list_piped_as_json_is_applied_too(cluster: tuple[RunningSim, Kubectl]) -> None:
    _, k = cluster
    body = json.dumps({"apiVersion": "v1", "kind": "List", "items": items()[:1]})
    assert k.run("apply", "-f", "-", stdin=body).stdout.strip() == "configmap/settings created"

"""autoscaling/v1 HorizontalPodAutoscalers: `kubectl autoscale` works, and v1 and v2 are two views of one object.

The store keeps autoscaling/v2; v1 requests are converted both ways as upstream converts them (the cpu target is
`targetCPUUtilizationPercentage`, what v1 cannot say rides in autoscaling.alpha.kubernetes.io annotations).
"""

from __future__ import annotations

import json
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest
from support.kubectl_runner import Kubectl
from support.polling import eventually

from incident_response.sim.resources import DEPLOYMENTS
from incident_response.sim.serve import RunningSim, run_sim

NS = "default"
V1 = "horizontalpodautoscalers.v1.autoscaling"


@pytest.fixture
def cluster(tmp_path: Any) -> Iterator[tuple[RunningSim, Kubectl]]:
    with run_sim("healthy", kubeconfig_path=tmp_path / "kubeconfig") as sim:
        yield sim, Kubectl(tmp_path / "kubeconfig", tmp_path / "cache")


def deployment(name: str) -> dict[str, Any]:
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name, "namespace": NS},
        "spec": {
            "replicas": 1,
            "selector": {"matchLabels": {"app": name}},
            "template": {
                "metadata": {"labels": {"app": name}},
                "spec": {
                    "containers": [
                        {
                            "name": name,
                            "image": f"registry.example.com/{name}:1",
                            "resources": {"requests": {"cpu": "100m"}, "limits": {"cpu": "500m"}},
                        }
                    ]
                },
            },
        },
    }


def v2_hpa(name: str) -> dict[str, Any]:
    return {
        "apiVersion": "autoscaling/v2",
        "kind": "HorizontalPodAutoscaler",
        "metadata": {"name": name, "namespace": NS},
        "spec": {
            "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": name},
            "minReplicas": 1,
            "maxReplicas": 4,
            "metrics": [
                {
                    "type": "Resource",
                    "resource": {"name": "cpu", "target": {"type": "Utilization", "averageUtilization": 75}},
                },
                {
                    "type": "Resource",
                    "resource": {"name": "memory", "target": {"type": "AverageValue", "averageValue": "200Mi"}},
                },
            ],
            "behavior": {"scaleDown": {"stabilizationWindowSeconds": 120}},
        },
    }


def test_kubectl_autoscale_creates_an_hpa_the_controller_acts_on(cluster: tuple[RunningSim, Kubectl]) -> None:
    sim, k = cluster
    k.run("apply", "-f", "-", stdin=json.dumps(deployment("api")))
    out = k.run("autoscale", "deployment", "api", "--min", "2", "--max", "5", "--cpu-percent", "80", "-n", NS).stdout
    assert out.strip() == "horizontalpodautoscaler.autoscaling/api autoscaled"
    v2 = k.json("get", "hpa", "api", "-n", NS)
    assert v2["apiVersion"] == "autoscaling/v2"
    assert v2["spec"]["minReplicas"] == 2 and v2["spec"]["maxReplicas"] == 5
    assert v2["spec"]["scaleTargetRef"] == {"apiVersion": "apps/v1", "kind": "Deployment", "name": "api"}
    assert v2["spec"]["metrics"] == [
        {"type": "Resource", "resource": {"name": "cpu", "target": {"type": "Utilization", "averageUtilization": 80}}}
    ]
    v1 = k.json("get", V1, "api", "-n", NS)
    assert v1["apiVersion"] == "autoscaling/v1"
    assert v1["spec"]["targetCPUUtilizationPercentage"] == 80
    assert "metrics" not in v1["spec"]
    # the HPA controller raises the deployment to minReplicas
    eventually(lambda: sim.store.get(DEPLOYMENTS, NS, "api")["spec"]["replicas"] == 2, what="the HPA's 2 replicas")
    rows = k.table("hpa", "api", "-n", NS)
    assert rows[0]["MINPODS"] == "2" and rows[0]["MAXPODS"] == "5" and rows[0]["TARGETS"].endswith("/80%")


def test_an_hpa_without_a_cpu_target_gets_the_v2_default_of_80_percent(cluster: tuple[RunningSim, Kubectl]) -> None:
    _, k = cluster
    k.run("apply", "-f", "-", stdin=json.dumps(deployment("batch")))
    k.run("autoscale", "deployment", "batch", "--max", "3", "-n", NS)
    assert k.json("get", V1, "batch", "-n", NS)["spec"] == {
        "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "batch"},
        "minReplicas": 1,
        "maxReplicas": 3,
        "targetCPUUtilizationPercentage": 80,
    }


def test_a_v1_read_modify_write_keeps_what_only_v2_can_say(cluster: tuple[RunningSim, Kubectl]) -> None:
    _, k = cluster
    k.run("apply", "-f", "-", stdin=json.dumps(deployment("cart")))
    k.run("apply", "-f", "-", stdin=json.dumps(v2_hpa("cart")))
    v1 = k.json("get", V1, "cart", "-n", NS)
    assert v1["spec"]["targetCPUUtilizationPercentage"] == 75
    annotations = v1["metadata"]["annotations"]
    assert json.loads(annotations["autoscaling.alpha.kubernetes.io/metrics"]) == [v2_hpa("cart")["spec"]["metrics"][1]]
    assert json.loads(annotations["autoscaling.alpha.kubernetes.io/behavior"]) == {
        "scaleDown": {"stabilizationWindowSeconds": 120}
    }
    v1["spec"]["maxReplicas"] = 6
    k.run("replace", "-f", "-", stdin=json.dumps(v1))  # a PUT in v1
    k.run("patch", V1, "cart", "-n", NS, "--type=merge", "-p", '{"spec":{"targetCPUUtilizationPercentage":60}}')
    v2 = k.json("get", "hpa", "cart", "-n", NS)
    assert v2["spec"]["maxReplicas"] == 6
    assert v2["spec"]["metrics"][0]["resource"]["target"] == {"type": "Utilization", "averageUtilization": 60}
    assert v2["spec"]["metrics"][1] == v2_hpa("cart")["spec"]["metrics"][1]
    assert v2["spec"]["behavior"] == {"scaleDown": {"stabilizationWindowSeconds": 120}}
    assert not any(key.startswith("autoscaling.alpha") for key in (v2["metadata"].get("annotations") or {}))


def test_discovery_lists_both_versions_with_v2_preferred_and_v1_lists_and_watches_in_v1(
    cluster: tuple[RunningSim, Kubectl],
) -> None:
    sim, k = cluster
    versions = k.run("api-versions").stdout.split()
    assert "autoscaling/v1" in versions and "autoscaling/v2" in versions
    groups = json.loads(k.run("get", "--raw", "/apis").stdout)["groups"]
    autoscaling = next(g for g in groups if g["name"] == "autoscaling")
    assert autoscaling["preferredVersion"]["version"] == "v2"
    assert [v["version"] for v in autoscaling["versions"]] == ["v2", "v1"]
    listed = k.json("get", V1, "-n", "shop")
    assert listed["items"] and all(item["apiVersion"] == "autoscaling/v1" for item in listed["items"])
    url = f"{sim.url}/apis/autoscaling/v1/namespaces/shop/horizontalpodautoscalers?watch=true&timeoutSeconds=1"
    with urllib.request.urlopen(url, timeout=10) as response:
        events = [json.loads(line) for line in response.read().splitlines() if line.strip()]
    assert events and all(e["object"]["apiVersion"] == "autoscaling/v1" for e in events)
    assert all("targetCPUUtilizationPercentage" in e["object"]["spec"] for e in events)

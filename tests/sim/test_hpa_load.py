"""Load an HPA answers sensibly, checked with real kubectl: `load-millicores` is a total the running pods share,
so the autoscaler settles where utilization meets its target; `cpu-millicores` is what each pod uses whatever
their number, so an HPA whose target it exceeds can only climb to its maximum."""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from typing import TypeVar

import pytest
from conftest import SimFactory
from support import polling
from support.kubectl_runner import Kubectl

from incident_response.sim.behaviors import CPU_MILLICORES, LOAD_MILLICORES
from incident_response.sim.serve import RunningSim

T = TypeVar("T")
NS = "default"
REQUEST = 250  # millicores each pod requests
TARGET = 70  # percent


def eventually(check: Callable[[], T | None], timeout: float = 60.0, what: str = "the condition") -> T:
    return polling.eventually(check, timeout, what, interval=0.3)


def app(name: str, *, annotations: dict[str, str], pod_annotations: dict[str, str]) -> str:
    deployment = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name, "namespace": NS, "annotations": annotations},
        "spec": {
            "replicas": 2,
            "selector": {"matchLabels": {"app": name}},
            "template": {
                "metadata": {"labels": {"app": name}, "annotations": pod_annotations},
                "spec": {
                    "containers": [
                        {
                            "name": name,
                            "image": f"registry.example.com/{name}:1.0",
                            "resources": {"requests": {"cpu": f"{REQUEST}m"}, "limits": {"cpu": "2"}},
                        }
                    ]
                },
            },
        },
    }
    hpa = {
        "apiVersion": "autoscaling/v2",
        "kind": "HorizontalPodAutoscaler",
        "metadata": {"name": name, "namespace": NS},
        "spec": {
            "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": name},
            "minReplicas": 1,
            "maxReplicas": 10,
            "metrics": [
                {
                    "type": "Resource",
                    "resource": {"name": "cpu", "target": {"type": "Utilization", "averageUtilization": TARGET}},
                }
            ],
        },
    }
    return json.dumps({"apiVersion": "v1", "kind": "List", "items": [deployment, hpa]})


def hpa_row(k: Kubectl, name: str) -> dict[str, str]:
    (row,) = [r for r in k.table("hpa", "-n", NS) if r["NAME"] == name]
    return row


def settled(k: Kubectl, name: str, replicas: int) -> dict[str, str] | None:
    """The HPA's row once it shows `replicas` and the deployment runs that many ready pods."""
    row = hpa_row(k, name)
    ready = k.run("get", "deployment", name, "-n", NS, "-o", "jsonpath={.status.readyReplicas}").stdout
    return row if row["REPLICAS"] == str(replicas) and ready == str(replicas) else None


@pytest.fixture
def cluster(sim_factory: SimFactory, kubectl_for: Callable[[RunningSim], Kubectl]) -> tuple[RunningSim, Kubectl]:
    sim = sim_factory("healthy")
    return sim, kubectl_for(sim)


def test_shared_load_settles_the_hpa_where_utilization_meets_the_target(cluster: tuple[RunningSim, Kubectl]) -> None:
    _, k = cluster
    k.run("apply", "-f", "-", stdin=app("shop", annotations={LOAD_MILLICORES: "700"}, pod_annotations={}))
    wanted = math.ceil(700 / (REQUEST * TARGET / 100))  # 700m over pods of 175m each at the target: 4
    row = eventually(lambda: settled(k, "shop", wanted), what=f"the HPA to settle at {wanted}")
    assert row["TARGETS"] == f"cpu: {round(700 / wanted * 100 / REQUEST)}%/{TARGET}%"  # 700m / 4 pods = 70%
    # Twice the traffic: twice the pods, no rollout (the annotation is on the Deployment, not its template).
    k.run("annotate", "deployment", "shop", f"{LOAD_MILLICORES}=1400", "--overwrite", "-n", NS)
    eventually(lambda: settled(k, "shop", 2 * wanted), what="the HPA to follow the load")
    assert [
        line.split()[0]
        for line in k.run("rollout", "history", "deployment/shop", "-n", NS).stdout.splitlines()[2:]
        if line.strip()
    ] == ["1"]


def test_per_pod_cpu_above_the_target_pins_the_hpa_at_its_maximum(cluster: tuple[RunningSim, Kubectl]) -> None:
    _, k = cluster
    k.run("apply", "-f", "-", stdin=app("batch", annotations={}, pod_annotations={CPU_MILLICORES: "300"}))
    # 300m of a 250m request is 120% on every pod, however many there are: more pods never bring it down.
    row = eventually(lambda: settled(k, "batch", 10), what="the HPA to reach its maximum")
    assert row["TARGETS"] == f"cpu: 120%/{TARGET}%"
    described = k.run("describe", "hpa", "batch", "-n", NS).stdout
    assert "ScalingLimited" in described and "TooManyReplicas" in described

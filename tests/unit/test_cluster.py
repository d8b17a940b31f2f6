"""The Cluster API the HTTP layer calls: logs, usage, settle, events."""

from __future__ import annotations

from typing import Any

import pytest

from incident_response.sim import behaviors, errors
from incident_response.sim.cluster import Cluster, ManualClock, Timing
from incident_response.sim.resources import DEPLOYMENTS, EVENTS, NODES, PODS
from incident_response.sim.scenarios.builders import deployment_body, minimal
from incident_response.sim.store import Store

FAST = Timing(pod_start=0.1, ready_delay=0.1, crash_after=0.2, backoff_base=0.2, backoff_cap=1.0, termination=0.1)


def make() -> Cluster:
    clock = ManualClock()
    cluster = Cluster(Store(clock=clock.wall), FAST, clock=clock, sleep=clock.sleep)
    minimal(cluster)
    return cluster


def first_pod(cluster: Cluster, app: str) -> dict[str, Any]:
    return next(p for p in cluster.store.items(PODS, "default") if p["metadata"]["labels"].get("app") == app)


def logs(cluster: Cluster, name: str, **options: Any) -> str:
    args: dict[str, Any] = {
        "container": None,
        "previous": False,
        "tail_lines": None,
        "since_seconds": None,
        "timestamps": False,
        "limit_bytes": None,
    }
    args.update(options)
    return cluster.pod_logs("default", name, **args)


def test_pod_logs_options_and_errors() -> None:
    cluster = make()
    body = deployment_body("web", replicas=1)
    body["spec"]["template"]["spec"]["containers"].append({"name": "sidecar", "image": "envoy:1.30"})
    cluster.store.create(DEPLOYMENTS, body)
    assert cluster.settle(timeout=5)
    name = first_pod(cluster, "web")["metadata"]["name"]
    with pytest.raises(errors.ApiError) as choose:
        logs(cluster, name)
    assert choose.value.code == 400
    assert choose.value.message == f"a container name must be specified for pod {name}, choose one of: [web sidecar]"
    with pytest.raises(errors.ApiError) as previous:
        logs(cluster, name, container="web", previous=True)
    assert previous.value.message == f'previous terminated container "web" in pod "{name}" not found'
    with pytest.raises(errors.ApiError) as missing:
        logs(cluster, "nope", container="web")
    assert missing.value.code == 404
    text = logs(cluster, name, container="web", tail_lines=1, timestamps=True)
    assert text.count("\n") == 1 and text.split(" ", 1)[0].endswith("Z")
    assert len(logs(cluster, name, container="web", limit_bytes=10)) <= 10


def test_usage_defaults_and_annotations() -> None:
    cluster = make()
    cluster.store.create(
        DEPLOYMENTS,
        deployment_body(
            "web", replicas=1, pod_annotations={behaviors.CPU_MILLICORES: "120", behaviors.MEMORY_BYTES: "100Mi"}
        ),
    )
    assert cluster.settle(timeout=5)
    pod = first_pod(cluster, "web")
    assert cluster.pod_usage(pod) == (120, 100 * 2**20)
    cpu, memory = cluster.node_usage(cluster.store.get(NODES, None, pod["spec"]["nodeName"]))
    assert cpu >= 120 and memory >= 100 * 2**20
    assert cluster.pod_usage({"metadata": {"uid": "unknown"}}) is None


def test_events_are_deduplicated_with_count() -> None:
    cluster = make()
    cluster.store.create(
        DEPLOYMENTS, deployment_body("web", replicas=1, pod_annotations={behaviors.BEHAVIOR: behaviors.NOT_READY})
    )
    cluster.run_for(3.5)
    unhealthy = [e for e in cluster.store.items(EVENTS, "default") if e["reason"] == "Unhealthy"]
    assert len(unhealthy) == 1 and unhealthy[0]["count"] >= 3
    event = unhealthy[0]
    assert event["firstTimestamp"] <= event["lastTimestamp"]
    assert event["source"] == {"component": "kubelet", "host": first_pod(cluster, "web")["spec"]["nodeName"]}
    assert event["involvedObject"]["kind"] == "Pod" and event["involvedObject"]["uid"]

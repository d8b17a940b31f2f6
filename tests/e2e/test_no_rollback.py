"""A rollback with nowhere to go says what fits instead, from what the pods show, end to end.

Built incident: pdf-export, a Deployment created minutes ago (one revision), crash-loops; its refusal used to say
"consider scale or isolate instead" whatever the pods did. More replicas of a pod that crashes on its own crash the
same way, and a pod never ready gets no traffic to isolate: the refusal (and check_rollback_safety's next step) now
names the crashed container's log to read, the exact call, and a fix rolled forward. A one-revision StatefulSet
crash-looping gets the same from rollback_workload. A healthy one-revision deployment still hears about scaling, for
load only.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from mcp import Client
from support.mitigation_env import NS, Env, call, make_env, ready, refused

from incident_response.sim import behaviors
from incident_response.sim.scenarios.builders import deployment_body
from incident_response.sim.serve import RunningSim

pytestmark = pytest.mark.anyio


@pytest.fixture
def env(sim_factory: Callable[..., RunningSim], tmp_path: Path) -> Env:
    return make_env(sim_factory("healthy"), tmp_path / "state")


def restarted(env: Env, selector: str, count: int) -> Callable[[], bool]:
    def check() -> bool:
        pods = env.pods(selector)
        return len(pods) == count and all(
            (p["status"].get("containerStatuses") or [{}])[0].get("restartCount") for p in pods
        )

    return check


def statefulset(name: str) -> dict[str, Any]:
    labels = {"app": name}
    return {
        "metadata": {"name": name, "namespace": NS, "labels": labels},
        "spec": {
            "serviceName": name,
            "replicas": 1,
            "selector": {"matchLabels": labels},
            "template": {
                "metadata": {"labels": labels, "annotations": {behaviors.BEHAVIOR: behaviors.CRASHLOOP}},
                "spec": {"containers": [{"name": name, "image": f"registry.example.com/data/{name}:6.0"}]},
            },
        },
    }


async def test_a_crash_looping_deployment_with_one_revision_is_told_to_read_its_previous_log(env: Env) -> None:
    body = deployment_body(
        "pdf-export",
        namespace=NS,
        replicas=1,
        image="registry.example.com/docs/pdf-export:1.0",
        pod_annotations={behaviors.BEHAVIOR: behaviors.CRASHLOOP},
    )
    env.kube.create("deployments", body, NS)
    await env.until(restarted(env, "app=pdf-export", 1))
    (pod,) = [p["metadata"]["name"] for p in env.pods("app=pdf-export")]
    env.kube.create("statefulsets", statefulset("geo-index"), NS)
    await env.until(restarted(env, "app=geo-index", 1))
    async with Client(env.server("standard")) as client:
        message = await refused(client, "rollback_deployment", namespace=NS, deployment="pdf-export")
        safety = await call(client, "check_rollback_safety", namespace=NS, deployment="pdf-export")
        workload = await refused(client, "rollback_workload", namespace=NS, kind="statefulset", workload="geo-index")
        workload_safety = await call(
            client, "check_rollback_safety", namespace=NS, deployment="geo-index", kind="statefulset"
        )

    read = f"get_logs(namespace='{NS}', pod_or_deployment='{pod}', previous=true)"
    assert "no previous revision to roll back to (revisions kept: 1)" in message, message
    assert read in message and "rolled forward" in message, message
    assert "scale" not in message.replace("more replicas", "").lower(), message  # no scale for a crash loop
    assert "isolate" not in message.lower(), message
    assert safety["verdict"] == "BLOCKED" and read in safety["next_step"], safety["next_step"]
    previous = next(i for i in safety["items"] if i["check"] == "previous_revision")
    assert read in previous["detail"] and "scale or isolate" not in previous["detail"], previous
    assert "statefulset geo-index has no previous revision" in workload and "get_logs(" in workload, workload
    assert "previous=true" in workload and "delete_pod or scaling" not in workload, workload
    assert "get_logs(" in workload_safety["next_step"], workload_safety["next_step"]


async def test_a_healthy_deployment_with_one_revision_hears_of_scaling_for_load_only(env: Env) -> None:
    env.kube.create("deployments", deployment_body("tax-calc", namespace=NS, replicas=2), NS)
    await env.until(lambda: len([p for p in env.pods("app=tax-calc") if ready(p)]) == 2)
    await env.until(lambda: env.rolled_out("tax-calc", 2))
    async with Client(env.server("standard")) as client:
        message = await refused(client, "rollback_deployment", namespace=NS, deployment="tax-calc")
    assert "none of its pods fails: if load is what hurts, scale it" in message, message

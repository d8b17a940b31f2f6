"""An OOM kill after hours of running, told a leak by memory against uptime (the metrics API's current window).

metrics.k8s.io serves only the current usage (no history), so one pod's memory over time cannot be read from the
cluster. recommender's three pods, though, have been up 10 minutes (restarted after an OOM kill that ended a 6-hour
run), 2 hours and 4 hours. One kill: its timing cannot tell a leak from a load peak, and every tool said "a leak or
a load peak (their timing cannot tell ...)". Its image leaks (the sim's catalogue: 128Mi at start, 64Mi more per
hour of running), so its memory now climbs with uptime across the pods: assess_namespace, evaluate_decision's SCALE
walk and set_memory_limit's plan now say a slow leak, quoting the climb. With memory flat across those uptimes the
reading stays "a leak or a load peak". The pods' statuses are patched as the kubelet writes them, with real kubectl.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from mcp import Client
from support.kubectl_runner import Kubectl
from support.mitigation_env import NS, Env, make_env, ready
from support.oom_kills import stamp
from support.result_rule import budgeted

from incident_response.sim import behaviors
from incident_response.sim.serve import RunningSim

pytestmark = pytest.mark.anyio

IMAGE = "registry.example.com/shop/recommender:3.3.0"
H = timedelta(hours=1)
M = timedelta(minutes=1)
CLIMB = "a slow leak (memory now climbs with uptime: "


def recommender() -> str:
    labels = {"app": "recommender"}
    container = {
        "name": "recommender",
        "image": IMAGE,
        "resources": {"requests": {"cpu": "100m", "memory": "256Mi"}, "limits": {"cpu": "500m", "memory": "512Mi"}},
    }
    template = {"metadata": {"labels": labels}, "spec": {"containers": [container]}}
    spec = {"replicas": 3, "selector": {"matchLabels": labels}, "template": template}
    return json.dumps(
        {
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": {"name": "recommender", "namespace": NS},
            "spec": spec,
        }
    )


def pods(env: Env) -> list[dict[str, Any]]:
    return sorted(
        (p for p in env.pods("app=recommender") if not p["metadata"].get("deletionTimestamp")),
        key=lambda p: p["metadata"]["name"],
    )


async def dated(env: Env, kubectl: Kubectl, does: dict[str, str]) -> None:
    """recommender applied with its image doing `does`; its pods up 10 minutes (after a kill ending a 6h run), 2h
    and 4h, as the kubelet writes it."""
    env.sim.cluster.images[IMAGE] = does
    kubectl.run("apply", "-f", "-", stdin=recommender())
    await env.until(lambda: len([p for p in pods(env) if ready(p)]) == 3, 30)
    now = datetime.now(UTC)
    for (up, killed), pod in zip([(10 * M, True), (2 * H, False), (4 * H, False)], pods(env), strict=True):
        [status] = pod["status"]["containerStatuses"]
        status["state"] = {"running": {"startedAt": stamp(now - up)}}
        if killed:
            kill = now - up
            status["restartCount"] = 1
            status["lastState"] = {
                "terminated": {
                    "reason": "OOMKilled",
                    "exitCode": 137,
                    "startedAt": stamp(kill - 6 * H),
                    "finishedAt": stamp(kill),
                }
            }
        body = json.dumps({"status": {"containerStatuses": [status]}})
        kubectl.run("patch", "pod", pod["metadata"]["name"], "-n", NS, "--subresource=status", "-p", body)

    def restarted() -> bool:
        statuses = [p["status"]["containerStatuses"][0] for p in pods(env)]
        return sum(s.get("restartCount", 0) for s in statuses) == 1 and all(map(ready, pods(env)))

    await env.until(restarted, 20)


async def readings(env: Env) -> tuple[str, str, str]:
    async with Client(env.server("safe")) as client:
        assessed = await budgeted(client, "assess_namespace", namespace=NS)
        scale = await budgeted(client, "evaluate_decision", namespace=NS, action="SCALE", deployment="recommender")
        plan = await budgeted(
            client, "set_memory_limit", namespace=NS, deployment="recommender", container="recommender", limit="1Gi"
        )
    return assessed["decision"]["reason"], scale["reason"], plan["summary"]


async def test_memory_climbing_with_uptime_reads_as_a_leak(
    sim_factory: Callable[..., RunningSim], kubectl_for: Callable[[RunningSim], Kubectl], tmp_path: Path
) -> None:
    sim = sim_factory("healthy")
    env = make_env(sim, tmp_path / "state")
    await dated(env, kubectl_for(sim), {behaviors.MEMORY_BYTES: "128Mi", behaviors.MEMORY_GROWTH: "64Mi"})
    reason, scale, summary = await readings(env)

    for said in (reason, scale):
        assert CLIMB in said and "their timing cannot tell" not in said, said
        assert "10m after its start, 384Mi (75%) after 4h" in said, said
    assert "a slow leak (memory climbs with uptime: 139Mi at 10m, 384Mi at 4h)" in summary, summary
    assert "file the leak with recommender's owners" in reason, reason


async def test_memory_flat_across_uptimes_still_cannot_tell(
    sim_factory: Callable[..., RunningSim], kubectl_for: Callable[[RunningSim], Kubectl], tmp_path: Path
) -> None:
    sim = sim_factory("healthy")
    env = make_env(sim, tmp_path / "state")
    await dated(env, kubectl_for(sim), {behaviors.MEMORY_BYTES: "470Mi"})
    reason, scale, summary = await readings(env)

    assert "a leak or a load peak (their timing cannot tell" in reason, reason
    assert "a leak or a load peak" in scale and "a leak or a load peak" in summary, (scale, summary)
    assert CLIMB not in reason + scale + summary

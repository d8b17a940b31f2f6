"""A leaking app, with real kubectl as the oracle: `kubectl top` shows its memory climbing with uptime (the metrics
API's current window, the only figure a real cluster serves), the kubelet OOMKills it when it reaches its limit after
hours of running (lastState OOMKilled, startedAt -> finishedAt the length of the climb), and the restart starts the
climb over. The image catalogue's `memory-growth` gives it; no simulator key shows in what kubectl prints."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime

from conftest import SimFactory
from support.kubectl_runner import Kubectl
from support.polling import eventually

from incident_response.sim import behaviors
from incident_response.sim.serve import RunningSim

NS = "shop"
IMAGE = "registry.example.com/shop/recommender:3.2.0"
MI = 1024 * 1024


def deployment() -> str:
    labels = {"app": "recommender"}
    container = {
        "name": "recommender",
        "image": IMAGE,
        "resources": {"requests": {"memory": "128Mi", "cpu": "100m"}, "limits": {"memory": "256Mi", "cpu": "500m"}},
    }
    spec = {"replicas": 1, "selector": {"matchLabels": labels}, "template": {"metadata": {"labels": labels}}}
    spec["template"]["spec"] = {"containers": [container]}
    metadata = {"name": "recommender", "namespace": NS}
    return json.dumps({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": metadata, "spec": spec})


def top_mi(k: Kubectl) -> int:
    """recommender's memory as `kubectl top pod` prints it, in Mi."""
    out = k.run("top", "pod", "-n", NS, "-l", "app=recommender", "--no-headers").stdout.split()
    assert out and out[2].endswith("Mi"), out
    return int(out[2].removesuffix("Mi"))


def test_a_leak_climbs_with_uptime_and_is_oomkilled_at_its_limit(
    sim_factory: SimFactory, kubectl_for: Callable[[RunningSim], Kubectl]
) -> None:
    sim = sim_factory("healthy")
    # 64Mi at start, 64Mi more per hour: the 256Mi limit is reached after 3 hours of running.
    sim.cluster.images[IMAGE] = {behaviors.MEMORY_BYTES: "64Mi", behaviors.MEMORY_GROWTH: "64Mi"}
    k = kubectl_for(sim)
    k.run("apply", "-f", "-", stdin=deployment())
    k.run("rollout", "status", "deployment/recommender", "-n", NS, "--timeout=60s")
    assert 60 <= top_mi(k) <= 70

    sim.cluster.advance(90 * 60, step=60.0)  # an hour and a half in: half way to the limit
    assert 150 <= top_mi(k) <= 170
    sim.cluster.advance(95 * 60, step=60.0)  # past three hours: killed at the limit, restarted at once
    pod = eventually(
        lambda: next(
            (
                p
                for p in k.json("get", "pods", "-n", NS, "-l", "app=recommender")["items"]
                if (p["status"]["containerStatuses"][0].get("lastState") or {}).get("terminated")
            ),
            None,
        ),
        what="the OOM kill recorded",
    )
    [status] = pod["status"]["containerStatuses"]
    last = status["lastState"]["terminated"]
    assert last["reason"] == "OOMKilled" and last["exitCode"] == 137 and status["restartCount"] == 1
    ran = datetime.fromisoformat(last["finishedAt"]) - datetime.fromisoformat(last["startedAt"])
    hours = ran.total_seconds() / 3600
    assert 2.9 <= hours <= 3.1, hours
    name = pod["metadata"]["name"]
    eventually(lambda: "running" in k.json("get", "pod", name, "-n", NS)["status"]["containerStatuses"][0]["state"])
    assert top_mi(k) <= 80, "the restart starts the climb over"
    described = k.run("describe", "pod", name, "-n", NS).stdout
    assert "OOMKilled" in described and behaviors.PREFIX not in described

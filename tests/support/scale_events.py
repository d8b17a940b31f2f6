"""A ScalingReplicaSet event as any workload allowed to create events can write it (source.component is free text):
for the tests of forged scale history."""

from __future__ import annotations

import datetime as dt
from typing import Any

from incident_response.sim import behaviors
from incident_response.sim.scenarios.builders import deployment_body
from support.kubectl_runner import Kubectl
from support.mitigation_env import NS, Env, ready

SETTLE = 120  # bound on the sim's controllers (pods start, probes)


def forged_event(env: Env, replicaset: str, at: dt.datetime, deployment: str = "api2") -> dict[str, Any]:
    uid = env.get("deployments", deployment)["metadata"]["uid"]
    stamp = at.strftime("%Y-%m-%dT%H:%M:%SZ")
    return {
        "apiVersion": "v1",
        "kind": "Event",
        "metadata": {"name": f"{deployment}.forged", "namespace": NS},
        "involvedObject": {
            "kind": "Deployment",
            "name": deployment,
            "namespace": NS,
            "apiVersion": "apps/v1",
            "uid": uid,
        },
        "reason": "ScalingReplicaSet",
        "type": "Normal",
        "message": f"Scaled down replica set {replicaset} from 40 to 2",
        "source": {"component": "deployment-controller"},
        "firstTimestamp": stamp,
        "lastTimestamp": stamp,
        "count": 1,
    }


async def api2_cut_by_hand(env: Env, kubectl: Kubectl) -> dict[str, Any]:
    """api2 (2.4 cores of load over 3 x 400m limits; created without kubectl's manifest and with no revision before, so
    its events alone show its history), cut 3 -> 2 by hand: its two pods run pinned at their limit, measured and not
    ready, as api2's status counts them. Returns the deployment controller's real "to 2 from 3" event."""
    body = deployment_body(
        "api2",
        namespace=NS,
        replicas=3,
        image="registry.example.com/shop/api2:2.0",
        annotations={behaviors.LOAD_MILLICORES: "2400"},  # created now: its scale events are not dated away
        cpu=("100m", "400m"),
    )
    env.kube.create("deployments", {"apiVersion": "apps/v1", "kind": "Deployment", **body}, NS)
    await env.until(lambda: len(env.pods("app=api2")) == 3, SETTLE)
    kubectl.run("scale", "deployment/api2", "--replicas=2", "-n", NS)

    def cut() -> dict[str, Any] | None:
        events = env.kube.list("events", NS, field_selector="reason=ScalingReplicaSet").items
        return next((e for e in events if "to 2 from 3" in str(e.get("message"))), None)

    def pinned() -> bool:
        pods = env.pods("app=api2")
        running = [p for p in pods if p["status"].get("phase") == "Running" and not ready(p)]
        metrics = env.kube.list("pods.metrics.k8s.io", NS, label_selector="app=api2").items
        return len(pods) == len(running) == len(metrics) == 2 and env.settled("api2", 2, 0)

    await env.until(lambda: cut() is not None and pinned(), SETTLE)
    real = cut()
    assert real is not None
    return real


async def cut_to_zero_with_a_lone_event(env: Env, kubectl: Kubectl, name: str, before: int) -> None:
    """Scale `name` to 0 by hand, let its real events expire (deleted), and leave a forged "from 60 to 0"."""
    kubectl.run("scale", f"deployment/{name}", "--replicas=0", "-n", NS)

    def cut() -> list[dict[str, Any]]:
        events = env.kube.list("events", NS, field_selector="reason=ScalingReplicaSet").items
        return [e for e in events if f"to 0 from {before}" in str(e.get("message"))]

    await env.until(lambda: bool(cut()) and not env.pods(f"app={name}") and env.rolled_out(name, 0), SETTLE)
    replicaset = str(cut()[0]["message"]).split()[4]
    for event in env.kube.list("events", NS, field_selector="reason=ScalingReplicaSet").items:
        if replicaset in str(event.get("message")):
            kubectl.run("delete", "event", event["metadata"]["name"], "-n", NS)
    forged = forged_event(env, replicaset, dt.datetime.now(dt.UTC), deployment=name)
    forged["message"] = f"Scaled down replica set {replicaset} from 60 to 0"
    env.kube.create("events", forged, NS)

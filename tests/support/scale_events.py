"""A ScalingReplicaSet event as any workload allowed to create events can write it (source.component is free text):
for the tests of forged scale history."""

from __future__ import annotations

import datetime as dt
from typing import Any

from support.kubectl_runner import Kubectl
from support.mitigation_env import NS, Env

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

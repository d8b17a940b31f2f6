"""A ScalingReplicaSet event as any workload allowed to create events can write it (source.component is free text):
for the tests of forged scale history."""

from __future__ import annotations

import datetime as dt
from typing import Any

from support.mitigation_env import NS, Env


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

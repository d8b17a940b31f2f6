"""rollback_workload of a StatefulSet canaried by partition counts only the pods above it (review-assist7).

kv (3 members, OrderedReady, claims per member) with partition 2: 4.1 -> 4.2 reaches kv-2 alone, which crash-loops.
The rollback plan said "3 pod start-ups" and "claims data-kv-{0..2} are not rolled back: revision 1 reads the newer
data" beside "partition: pods below ordinal 2 are not rolled back": kv-0 and kv-1 never left 4.1, so they neither
restart nor hold data 4.2 wrote. One start-up, one claim.
"""

from __future__ import annotations

import json

import pytest
from mcp import Client
from support.kubectl_runner import Kubectl
from support.mitigation_env import Env, call, ready
from support.plan_warnings import proses

pytestmark = pytest.mark.anyio
NS = "shop"
LABELS = {"app": "kv"}
KV = {
    "apiVersion": "apps/v1",
    "kind": "StatefulSet",
    "metadata": {"name": "kv", "namespace": NS},
    "spec": {
        "replicas": 3,
        "serviceName": "kv",
        "selector": {"matchLabels": LABELS},
        "updateStrategy": {"type": "RollingUpdate", "rollingUpdate": {"partition": 2}},
        "template": {
            "metadata": {"labels": LABELS},
            "spec": {
                "containers": [
                    {
                        "name": "kv",
                        "image": "registry.example.com/shop/kv:4.1.0",
                        "volumeMounts": [{"name": "data", "mountPath": "/data"}],
                    }
                ]
            },
        },
        "volumeClaimTemplates": [
            {
                "metadata": {"name": "data"},
                "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}}},
            }
        ],
    },
}


async def test_a_partition_canary_rollback_restarts_and_warns_about_its_canary_only(built: tuple[Env, Kubectl]) -> None:
    env, kubectl = built
    sim = env.sim
    kubectl.run("apply", "-f", "-", stdin=json.dumps(KV))
    await env.until(lambda: len(env.pods("app=kv")) == 3 and all(map(ready, env.pods("app=kv"))), 60)
    # kv 4.2.0 crashes through its image (the sim's catalogue): the revision differs from 4.1 in the image alone.
    sim.cluster.images["registry.example.com/shop/kv:4.2.0"] = {"sim.incident-response.dev/behavior": "crashloop"}
    patch = {
        "spec": {"template": {"spec": {"containers": [{"name": "kv", "image": "registry.example.com/shop/kv:4.2.0"}]}}}
    }
    kubectl.run("patch", "statefulset", "kv", "-n", NS, "-p", json.dumps(patch))

    def canary_crashing() -> bool:
        pods = {p["metadata"]["name"]: p for p in env.pods("app=kv")}
        statuses = ((pods.get("kv-2") or {}).get("status") or {}).get("containerStatuses") or []
        return any((s.get("state") or {}).get("waiting", {}).get("reason") == "CrashLoopBackOff" for s in statuses)

    await env.until(canary_crashing, 60)
    async with Client(env.server("safe")) as client:
        plan = await call(client, "rollback_workload", namespace=NS, kind="statefulset", workload="kv")

    warnings = proses(plan["warnings"])
    assert any("(kv-2 first): 1 pod start-ups" in w for w in warnings), warnings
    (claims,) = [w for w in warnings if w.startswith("claims ")]
    assert claims.startswith("claims data-kv-2 are not rolled back"), claims

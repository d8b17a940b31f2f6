"""A database Deployment at its CPU limit is never scaled out onto its one volume (review-assist6 G7).

orders-db (postgres, one replica, PVC orders-db-data ReadWriteOnce) runs at its 1-CPU limit. assess_namespace
proposed scale_deployment(orders-db, 5), evaluate_decision PROCEEDed and the plan warned only that a manual scale is
temporary: every replica of a Deployment mounts the same claim, so the new pods hang on other nodes (Multi-Attach) or
run a second database on one data directory. Now no call proposes it, the SCALE tree says DO_NOT (raise its CPU
limit or lower its load), and scale_deployment refuses a count above one; taking it offline still plans (in safe
mode: blocked, shown and not run).
"""

from __future__ import annotations

import json

import pytest
from mcp import Client
from support.kubectl_runner import Kubectl
from support.mitigation_env import Env, call, ready, refused

from incident_response.sim import behaviors

pytestmark = pytest.mark.anyio
NS = "shop"
BUSY = {
    "metadata": {"annotations": {behaviors.ROLLED_OUT_MINUTES_AGO: str(30 * 24 * 60)}},
    "spec": {"template": {"metadata": {"annotations": {behaviors.CPU_MILLICORES: "995"}}}},
}


async def test_a_database_at_its_cpu_limit_is_not_scaled_out_onto_its_one_volume(built: tuple[Env, Kubectl]) -> None:
    env, kubectl = built
    claim = env.get("persistentvolumeclaims", "orders-db-data")
    assert claim["spec"]["accessModes"] == ["ReadWriteOnce"]
    kubectl.run("patch", "deployment/orders-db", "-n", NS, "-p", json.dumps(BUSY))

    def busy() -> bool:
        pods = [p for p in env.pods("app=orders-db") if not p["metadata"].get("deletionTimestamp")]
        annotations = [(p["metadata"].get("annotations") or {}).get(behaviors.CPU_MILLICORES) for p in pods]
        return len(pods) == 1 and annotations == ["995"] and ready(pods[0]) and env.rolled_out("orders-db", 1)

    await env.until(busy, 40)

    async with Client(env.server("safe")) as client:
        assessed = await call(client, "assess_namespace", namespace=NS)
        walked = await call(client, "evaluate_decision", namespace=NS, deployment="orders-db", action="SCALE")
        refusal = await refused(client, "scale_deployment", namespace=NS, deployment="orders-db", replicas=3)
        offline = await call(client, "scale_deployment", namespace=NS, deployment="orders-db", replicas=0)

    (problem,) = [p for p in assessed["problems"] if "orders-db" in p["components"]]
    assert problem["next_tool"] is None and problem["rule"].endswith("(shared volume)"), problem
    assert not any(p["next_tool"] == "scale_deployment" for p in assessed["problems"]), assessed["problems"]
    assert walked["verdict"] == "DO_NOT" and walked["next_tool"] is None, walked["summary"]
    assert "orders-db-data" in walked["reason"], walked["reason"]
    assert "orders-db-data (ReadWriteOnce)" in refusal and "Nothing was planned" in refusal, refusal
    assert offline["status"] == "blocked" and "--replicas=0" in offline["command"], offline


async def test_a_web_tier_on_a_read_write_many_volume_is_still_scaled_out(built: tuple[Env, Kubectl]) -> None:
    """api (3 replicas) at its CPU limit mounts a ReadWriteMany claim (shared uploads on NFS): every replica may mount
    it, scale_deployment plans it, so assess and evaluate must not rule scaling out as they do for a database's
    ReadWriteOnce volume (before: 'no tool here plans either' and DO_NOT, the fastest mitigation taken away)."""
    env, kubectl = built
    media = {
        "apiVersion": "v1",
        "kind": "PersistentVolumeClaim",
        "metadata": {"name": "media", "namespace": NS},
        "spec": {"accessModes": ["ReadWriteMany"], "resources": {"requests": {"storage": "5Gi"}}},
    }
    kubectl.run("apply", "-f", "-", stdin=json.dumps(media))
    mount = {
        # Dated 2 days back, after api's 3-day-old revision (the sim dates no rollout before an older one): an old
        # change, so the CPU at the limit is load, not a release to roll back (review-assist7 H3).
        "metadata": {"annotations": {behaviors.ROLLED_OUT_MINUTES_AGO: str(2 * 24 * 60)}},
        "spec": {
            "template": {
                "metadata": {"annotations": {behaviors.CPU_MILLICORES: "398"}},
                "spec": {
                    "volumes": [{"name": "media", "persistentVolumeClaim": {"claimName": "media"}}],
                    "containers": [{"name": "api", "volumeMounts": [{"name": "media", "mountPath": "/media"}]}],
                },
            }
        },
    }
    kubectl.run("patch", "deployment/api", "-n", NS, "-p", json.dumps(mount))

    def busy() -> bool:
        pods = [p for p in env.pods("app=api") if not p["metadata"].get("deletionTimestamp")]
        annotations = {(p["metadata"].get("annotations") or {}).get(behaviors.CPU_MILLICORES) for p in pods}
        return len(pods) == 3 and annotations == {"398"} and all(ready(p) for p in pods) and env.rolled_out("api", 3)

    await env.until(busy, 40)

    async with Client(env.server("safe")) as client:
        assessed = await call(client, "assess_namespace", namespace=NS)
        walked = await call(client, "evaluate_decision", namespace=NS, deployment="api", action="SCALE")
        planned = await call(client, "scale_deployment", namespace=NS, deployment="api", replicas=5)

    (problem,) = [p for p in assessed["problems"] if "api" in p["components"]]
    assert not problem["rule"].endswith("(shared volume)"), problem
    assert problem["next_tool"] == "scale_deployment", problem
    assert walked["verdict"] != "DO_NOT", walked["summary"]
    assert planned["status"] == "blocked" and "--replicas=5" in planned["command"], planned


async def test_scaling_a_caller_while_a_store_is_saturated_is_cautioned(built: tuple[Env, Kubectl]) -> None:
    """api overloaded while orders-db (one volume) runs at its CPU limit: scaling api was PROCEED with no word about
    the database its extra replicas may call (play/slowdep.py). The walk now cautions about it."""
    env, kubectl = built
    kubectl.run("patch", "deployment/orders-db", "-n", NS, "-p", json.dumps(BUSY))
    kubectl.run("annotate", "deployment/api", "-n", NS, f"{behaviors.LOAD_MILLICORES}=2400", "--overwrite")

    def both_busy() -> bool:
        api = [p for p in env.pods("app=api") if not p["metadata"].get("deletionTimestamp")]
        db = [p for p in env.pods("app=orders-db") if not p["metadata"].get("deletionTimestamp")]
        busy_db = [(p["metadata"].get("annotations") or {}).get(behaviors.CPU_MILLICORES) for p in db] == ["995"]
        pods_say = busy_db and ready(db[0]) and len(api) == 3 and not any(ready(p) for p in api)
        return pods_say and env.rolled_out("orders-db", 1) and env.settled("api", 3, 0)

    await env.until(both_busy, 40)
    async with Client(env.server("safe")) as client:
        walked = await call(client, "evaluate_decision", namespace=NS, deployment="api", action="SCALE")
        assessed = await call(client, "assess_namespace", namespace=NS)

    assert walked["verdict"] == "PROCEED" and walked["next_tool"] == "scale_deployment", walked["summary"]
    assert any(c.startswith("orders-db (its pods mount a volume") for c in walked["cautions"]), walked["cautions"]
    (api,) = [p for p in assessed["problems"] if p["components"] == ["api"]]
    assert api["next_tool"] == "scale_deployment", api
    assert "but orders-db (its pods mount a volume" in assessed["decision"]["reason"], assessed["summary"]

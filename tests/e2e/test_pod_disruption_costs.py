"""delete_pod and drain_node say, pod by pod, what the disruption costs beyond "a replacement starts" (review-assist
F24): the only ready replica of its workload (the workload is down until the replacement is Ready; no budget guards
it) and a ReadWriteOnce claim (the volume must detach and attach on the new node first). End to end on the shop's
orders-db (one replica, a ReadWriteOnce PVC, no PodDisruptionBudget); real kubectl takes the rendered delete.
"""

from __future__ import annotations

from typing import Any

import pytest
from mcp import Client
from support.mitigation_env import NS, call, ready
from support.plan_warnings import proses

pytestmark = pytest.mark.anyio


async def test_the_only_ready_replica_and_a_rwo_claim_are_named_per_pod(built: Any) -> None:
    env, kubectl = built
    [db] = [p for p in env.pods("app=orders-db") if ready(p)]
    name, node = db["metadata"]["name"], db["spec"]["nodeName"]
    [web, *_] = [p for p in env.pods("app=web") if ready(p)]
    only = (
        f"Pod {name} is the only ready replica of deployment orders-db: orders-db is down until its replacement is "
        "Ready."
    )
    rwo = (
        f"Pod {name} mounts PVC orders-db-data (ReadWriteOnce): the volume must detach from {node} and attach on the "
        "new node before its replacement starts."
    )
    async with Client(env.server("full")) as client:
        deleted = await call(client, "delete_pod", namespace=NS, pod=name)
        other = await call(client, "delete_pod", namespace=NS, pod=web["metadata"]["name"])
        drained = await call(client, "drain_node", node=node)
        for plan in (deleted, other, drained):
            await call(client, "cancel_command", token=plan["token"])

    assert only in proses(deleted["warnings"]) and rwo in proses(deleted["warnings"]), proses(deleted["warnings"])
    assert not any("only ready replica" in w or "mounts PVC" in w for w in proses(other["warnings"])), proses(
        other["warnings"]
    )
    assert only in proses(drained["warnings"]) and rwo in proses(drained["warnings"]), proses(drained["warnings"])
    # web has a PodDisruptionBudget and several replicas: no such line for it in the drain.
    assert not any("deployment web" in w for w in proses(drained["warnings"])), proses(drained["warnings"])
    # The oracle: real kubectl takes the rendered delete (server-side dry run: nothing changes).
    dry = kubectl.shell(deleted["command"] + " --dry-run=server")
    assert f'pod "{name}" deleted' in dry.stdout, dry.stdout + dry.stderr
    assert env.get("pods", name)["metadata"].get("deletionTimestamp") is None

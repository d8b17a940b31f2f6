"""A pod waiting for a ReadWriteOnce volume attached to another node (Multi-Attach), named through an MCP client
(review-assist7 H7).

orders-db (postgres, one replica, claim orders-db-data ReadWriteOnce) has a pod stuck ContainerCreating with the
attach/detach controller's 'Multi-Attach error for volume "pvc-..." Volume is already used by pod(s) ...':
- scaled to two with its node cordoned: assess_namespace said "pods of orders-db fail without a clear cause"; now it
  names the volume and the pod holding it and says scale back (more replicas would wait too), and the SCALE walk says
  DO_NOT, naming that cause;
- a rollout with maxSurge put the new pod on another node: assess said ROLLBACK ("its pods fail since"); now it says
  the rollout cannot finish while the old pod holds the volume, the release not shown bad (rollback or Recreate);
- its node went down and the pod was evicted: the replacement waits on the old pod, Terminating for ever: assess said
  "without a clear cause"; now it says force-delete the old pod once the node is fenced (6 minutes, or the
  out-of-service taint).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from mcp import Client
from support.mitigation_env import NS, Env, make_env
from support.result_rule import budgeted

from incident_response.sim import behaviors
from incident_response.sim.serve import RunningSim

pytestmark = pytest.mark.anyio

MULTI_ATTACH = (
    'Multi-Attach error for volume "pvc-5e1c2b7a-93d4-4f0e-9a51-0c2f4b7d8e11" Volume is already used by pod(s)'
)


def orders_db(env: Env) -> tuple[str, str]:
    (db,) = env.pods("app=orders-db")
    return db["metadata"]["name"], db["spec"]["nodeName"]


async def blocked(env: Env) -> None:
    await env.until(lambda: bool(env.sim.cluster.attachments.blocked), 60)
    env.sim.advance(5)  # the controller's event is written on its next sync


async def read(env: Env) -> tuple[dict[str, Any], dict[str, Any]]:
    async with Client(env.server("safe")) as client:
        assessed = await budgeted(client, "assess_namespace", namespace=NS)
        scale = await budgeted(client, "evaluate_decision", namespace=NS, action="SCALE", deployment="orders-db")
    return assessed["decision"], scale


def names_the_wait(decision: dict[str, Any], holder: str, node: str) -> None:
    assert decision["primary_action"] == "INVESTIGATE", decision
    assert "pods of orders-db wait for a volume attached to another node" in decision["reason"], decision["reason"]
    assert f"{MULTI_ATTACH} {holder}" in decision["reason"] and f"{holder} on {node}" in decision["reason"]
    assert "without a clear cause" not in decision["reason"]


async def test_a_second_replica_on_another_node_is_scaled_back_not_up(
    sim_factory: Callable[..., RunningSim], tmp_path: Path
) -> None:
    env = make_env(sim_factory("healthy"), tmp_path / "state")
    holder, node = orders_db(env)
    env.kube.patch("nodes", node, {"spec": {"unschedulable": True}}, None, patch_type="merge")
    env.kube.patch("deployments", "orders-db", {"spec": {"replicas": 2}}, NS, patch_type="merge")
    await blocked(env)
    decision, scale = await read(env)

    names_the_wait(decision, holder, node)
    assert "replicas of orders-db on other nodes never start, so scale it back to 1" in decision["reason"]
    assert decision["next_tool"] != "scale_deployment"
    assert scale["verdict"] == "DO_NOT" and "its pods fail as assess_namespace says" in scale["reason"], scale


async def test_a_surge_rollout_held_up_by_the_old_pod_is_not_blamed_on_the_release(
    sim_factory: Callable[..., RunningSim], tmp_path: Path
) -> None:
    env = make_env(sim_factory("healthy"), tmp_path / "state")
    holder, node = orders_db(env)
    env.kube.patch("nodes", node, {"spec": {"unschedulable": True}}, None, patch_type="merge")
    surge = {
        "spec": {
            "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": 1, "maxUnavailable": 0}},
            "template": {"spec": {"containers": [{"name": "orders-db", "image": "docker.io/library/postgres:16.5"}]}},
        }
    }
    env.kube.patch("deployments", "orders-db", surge, NS, patch_type="strategic")
    await blocked(env)
    decision, scale = await read(env)

    names_the_wait(decision, holder, node)
    assert decision["rule"] == "a rollout's new pods wait for a volume the old pods hold", decision
    assert "so the rollout cannot finish. Nothing shows the release bad" in decision["reason"], decision["reason"]
    assert "strategy Recreate (or maxSurge 0)" in decision["reason"]
    assert scale["verdict"] == "DO_NOT", scale


async def test_a_replacement_after_a_node_failure_waits_for_the_old_pod_to_be_force_deleted(
    sim_factory: Callable[..., RunningSim], tmp_path: Path
) -> None:
    env = make_env(sim_factory("healthy"), tmp_path / "state")
    holder, node = orders_db(env)
    condition = {"metadata": {"annotations": {behaviors.NODE_CONDITION: "NotReady"}}}
    env.kube.patch("nodes", node, condition, None, patch_type="merge")
    await env.until(lambda: env.sim.cluster.nodes._was_up.get(node) is False)
    env.sim.advance(310)  # past the 300 s every pod tolerates an unreachable node: evicted, Terminating for ever
    await blocked(env)
    decision, scale = await read(env)

    names_the_wait(decision, holder, node)
    assert "is being deleted and keeps the volume until it is gone" in decision["reason"], decision["reason"]
    assert "force-delete it (delete_pod force=true); the volume detaches 6 minutes later" in decision["reason"]
    assert scale["verdict"] == "DO_NOT", scale

"""check_rollback_safety for a StatefulSet and a DaemonSet end to end: an MCP client, our server in safe mode, the
simulated cluster's bad-statefulset and bad-daemonset (a crash-looping image bump each), and kubectl's own view of
the same workloads as the oracle for what the tool says about revisions and pods."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import anyio.to_thread
import pytest
from mcp import Client
from support.kubectl_runner import Kubectl
from support.mitigation_env import NS, call, make_env, refused
from support.rollback_checks import TOOL, check_without_writing, item, statuses

from incident_response.sim.serve import RunningSim

pytestmark = pytest.mark.anyio


def history(k: Kubectl, target: str) -> list[int]:
    lines = k.run("rollout", "history", target, "-n", NS).stdout.splitlines()[2:]
    return [int(line.split()[0]) for line in lines if line.strip()]


async def test_bad_statefulset_asks_about_the_claims_and_names_the_ordered_rollout(
    sim_factory: Callable[..., RunningSim], kubectl_for: Callable[[RunningSim], Kubectl], tmp_path: Path
) -> None:
    sim = sim_factory("bad-statefulset")
    env, k = make_env(sim, tmp_path / "state"), kubectl_for(sim)
    async with Client(env.server("safe")) as client:
        result = await check_without_writing(env, client, deployment="sessions", kind="statefulset")
    assert result["kind"] == "statefulset"
    assert result["revisions_kept"] == await anyio.to_thread.run_sync(history, k, "statefulset/sessions") == [1, 2]
    assert (result["current_revision"], result["target_revision"]) == (2, 1)
    listed = json.loads(k.run("get", "controllerrevisions", "-n", NS, "-l", "app=sessions", "-o", "json").stdout)
    by_number = {r["revision"]: r["metadata"]["name"] for r in listed["items"]}
    assert result["target_replicaset"] == by_number[1]
    assert result["target_images"] == ["registry.example.com/shop/sessions:7.2.5"]
    assert statuses(result) == {
        "previous_revision": "ok",
        "known_good": "ok",  # sessions-0 and sessions-1 still run revision 1, Ready
        "image_available": "ok",
        "migrations": "not_visible",
        "stateful": "warning",
        "update_strategy": "ok",
    }
    assert result["verdict"] == "CHECK_FIRST"
    assert result["summary"].startswith("CHECK FIRST before rolling back statefulset sessions from revision 2 to 1")
    claims = [r["NAME"] for r in k.table("pvc", "-n", NS) if r["NAME"].startswith("data-sessions-")]
    stateful = item(result, "stateful")["detail"]
    assert all(c in stateful for c in claims) and len(claims) == 3
    assert "undoes no data change or schema migration" in stateful
    strategy = item(result, "update_strategy")["detail"]
    assert "one pod at a time from the highest ordinal (sessions-2 first)" in strategy
    stuck = [r["NAME"] for r in k.table("pods", "-n", NS, "-l", "app=sessions") if r["STATUS"] == "CrashLoopBackOff"]
    assert stuck == ["sessions-2"] and "sessions-2 never got Ready" in strategy
    assert "served 30d and 2 of its pods are still Running and Ready" in item(result, "known_good")["detail"]
    assert any("data-sessions-0" in q for q in result["questions_for_human"]), result["questions_for_human"]
    assert result["next_step"].endswith(
        f"plan rollback_workload(namespace='{NS}', kind='statefulset', workload='sessions', to_revision=1)"
    )


async def test_bad_daemonset_is_clear_and_says_how_nodes_are_rolled(
    sim_factory: Callable[..., RunningSim], kubectl_for: Callable[[RunningSim], Kubectl], tmp_path: Path
) -> None:
    sim = sim_factory("bad-daemonset")
    env, k = make_env(sim, tmp_path / "state"), kubectl_for(sim)
    async with Client(env.server("safe")) as client:
        result = await check_without_writing(env, client, deployment="db-proxy", kind="daemonset")
        same = await check_without_writing(env, client, deployment="db-proxy", kind="daemonset", to_revision=2)
        unknown = await refused(client, TOOL, namespace=NS, deployment="db-proxy", kind="daemonset", to_revision=9)
        wrong_kind = await refused(client, TOOL, namespace=NS, deployment="db-proxy", kind="statefulset")
        wrong_default = await refused(client, TOOL, namespace=NS, deployment="sessions-nope")
    assert result["revisions_kept"] == await anyio.to_thread.run_sync(history, k, "daemonset/db-proxy") == [1, 2]
    assert (result["current_revision"], result["target_revision"]) == (2, 1)
    assert statuses(result) == {
        "previous_revision": "ok",
        "known_good": "ok",
        "image_available": "ok",
        "migrations": "not_visible",
        "stateful": "ok",
        "update_strategy": "ok",
    }
    assert result["verdict"] == "CLEAR"
    nodes = k.table("nodes")
    strategy = item(result, "update_strategy")
    assert "rolls back node by node (maxUnavailable 1, maxSurge 0)" in strategy["detail"]
    assert "each node is without its db-proxy pod while that pod is replaced" in strategy["detail"]
    assert strategy["evidence"][0].startswith(f"status: {len(nodes)} nodes should run it, {len(nodes)} do")
    assert (
        "rollback_workload(namespace='shop', kind='daemonset', workload='db-proxy', to_revision=1)"
        in (result["next_step"])
    )
    assert same["verdict"] == "BLOCKED"
    assert "already runs revision 2's pod template" in item(same, "previous_revision")["detail"]
    assert "has no revision 9 (revisions kept: 1, 2)" in unknown
    assert "no statefulset 'db-proxy' in namespace shop, but there is a daemonset: pass kind='daemonset'" in wrong_kind
    assert "no deployment 'sessions-nope' in namespace shop" in wrong_default


async def test_an_ondelete_statefulset_says_the_pods_must_be_deleted_after_the_rollback(
    sim_factory: Callable[..., RunningSim], kubectl_for: Callable[[RunningSim], Kubectl], tmp_path: Path
) -> None:
    sim = sim_factory("bad-statefulset")
    env, k = make_env(sim, tmp_path / "state"), kubectl_for(sim)
    patch = json.dumps({"spec": {"updateStrategy": {"type": "OnDelete", "rollingUpdate": None}}})
    await anyio.to_thread.run_sync(lambda: k.run("patch", "statefulset", "sessions", "-n", NS, "-p", patch))
    async with Client(env.server("safe")) as client:
        result = await check_without_writing(env, client, deployment="sessions", kind="statefulset")
    strategy = item(result, "update_strategy")
    assert strategy["status"] == "warning" and "OnDelete" in strategy["detail"]
    assert "delete the pods not at revision 1 one at a time, highest ordinal first (delete_pod)" in strategy["detail"]
    assert strategy["evidence"] == ["pod/sessions-2 is not at revision 1"]
    assert result["verdict"] == "CHECK_FIRST"
    async with Client(env.server("safe")) as client:
        walk = await call(client, "evaluate_decision", namespace=NS, migrations_forward_only=False)
    assert walk["verdict"] == "PROCEED" and walk["next_tool"] == "rollback_workload", walk
    assert any("uses updateStrategy OnDelete" in caution for caution in walk["cautions"]), walk["cautions"]

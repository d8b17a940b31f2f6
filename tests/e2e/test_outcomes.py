"""Outcomes say what happened: `failed` changed nothing; a multi-step plan that fails after some steps applied is
`partial`, naming the steps applied, the step that failed and the undo for what was applied.

The failures are the simulated API server's injected faults on one chosen write.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from mcp import Client
from support.mitigation_env import NS, Env, call, make_env

from incident_response.sim.serve import RunningSim
from incident_response.tools.engine.journal import Journal

pytestmark = pytest.mark.anyio


@pytest.fixture
def start(sim_factory: Callable[..., RunningSim], tmp_path: Path) -> Callable[[str], Env]:
    def begin(scenario: str) -> Env:
        env = make_env(sim_factory(scenario), tmp_path / "state")
        if scenario == "canary":
            env.kube.delete("horizontalpodautoscalers", "web", NS)  # it would resize web-stable on its own clock
        return env

    return begin


def replicas(env: Env, name: str) -> int:
    return int(env.get("deployments", name)["spec"]["replicas"])


def refuse_scale(env: Env, name: str) -> None:
    env.sim.faults.add(
        "status",
        verb="patch",
        resource="deployments",
        namespace=NS,
        name=name,
        status=403,
        message="injected: forbidden",
        times=1,
    )


async def confirm(client: Client, plan: dict[str, Any]) -> dict[str, Any]:
    assert plan["status"] == "pending", plan
    return await call(client, "confirm_command", token=plan["token"])


async def test_shift_traffic_failing_first_changes_nothing_and_failing_second_is_partial(
    start: Callable[[str], Env],
) -> None:
    env = start("canary")
    shift = {"namespace": NS, "from_deployment": "web-canary", "to_deployment": "web-stable", "replicas": 5}
    async with Client(env.server("full")) as client:
        first = await call(client, "shift_traffic", **shift)
        refuse_scale(env, "web-stable")
        failed = await confirm(client, first)
        assert failed["status"] == "failed" and "nothing changed" in failed["message"], failed
        assert failed["applied_steps"] == [] and failed["undo_applied"] is None
        assert failed["failed_step"] == first["steps"][0]
        assert (replicas(env, "web-stable"), replicas(env, "web-canary")) == (4, 1)

        second = await call(client, "shift_traffic", **shift)
        refuse_scale(env, "web-canary")
        partial = await confirm(client, second)
        again = await call(client, "confirm_command", token=second["token"])
    assert partial["status"] == "partial", partial
    assert partial["applied_steps"] == [second["steps"][0]]
    assert partial["failed_step"] == second["steps"][1]
    assert partial["undo_applied"] == "kubectl scale deployment/web-stable --replicas=4 -n shop --context sim"
    assert [s["status"] for s in partial["steps"]] == ["succeeded", "failed"]
    assert second["steps"][0] in partial["message"] and partial["undo_applied"] in partial["message"]
    assert (replicas(env, "web-stable"), replicas(env, "web-canary")) == (5, 1)
    assert again["status"] == "used" and "partial" in again["message"]
    row = Journal(env.state).command(second["token"])
    assert row is not None and row.state == "partial"


async def test_rollback_canary_partial_names_the_undo_of_the_canary_scale(start: Callable[[str], Env]) -> None:
    env = start("canary")
    async with Client(env.server("full")) as client:
        plan = await call(client, "rollback_canary", namespace=NS, app="web")
        refuse_scale(env, "web-stable")
        partial = await confirm(client, plan)
    assert partial["status"] == "partial", partial
    assert partial["applied_steps"] == ["kubectl scale deployment/web-canary --replicas=0 -n shop --context sim"]
    assert partial["failed_step"] == "kubectl scale deployment/web-stable --replicas=5 -n shop --context sim"
    assert partial["undo_applied"] == "kubectl scale deployment/web-canary --replicas=1 -n shop --context sim"
    assert (replicas(env, "web-canary"), replicas(env, "web-stable")) == (0, 4)


async def test_drain_refused_eviction_leaves_a_cordoned_node_as_a_partial_measure(start: Callable[[str], Env]) -> None:
    env = start("node-failure")
    async with Client(env.server("full")) as client:
        plan = await call(client, "drain_node", node="node-2")
        env.sim.faults.add(
            "status",
            verb="create",
            resource="pods",
            subresource="eviction",
            status=429,
            message="injected: Cannot evict pod as it would violate the pod's disruption budget.",
            times=1,
        )
        partial = await confirm(client, plan)
        measures = (await call(client, "list_temporary_measures"))["measures"]
    assert partial["status"] == "partial", partial
    assert partial["applied_steps"] == ["kubectl cordon node-2 --context sim"]
    assert partial["failed_step"] == plan["steps"][1]
    assert partial["undo_applied"] == "kubectl uncordon node-2 --context sim"
    assert [s["status"] for s in partial["steps"]] == ["succeeded", "failed"] + ["skipped"] * (len(plan["steps"]) - 2)
    assert env.get("nodes", "node-2", None)["spec"]["unschedulable"] is True
    # The cordon is in place, so it is a temporary measure to restore like any other.
    assert [m["tool"] for m in measures] == ["drain_node"]


async def test_remove_pods_partial_undo_relabels_only_the_pods_already_relabelled(start: Callable[[str], Env]) -> None:
    env = start("poison")
    bad = sorted(p["metadata"]["name"] for p in env.pods("version=bad"))
    assert len(bad) == 2
    async with Client(env.server("full")) as client:
        plan = await call(
            client, "remove_pods_from_service", namespace=NS, service="api", selector="app=api,version=bad"
        )
        env.sim.faults.add(
            "status",
            verb="patch",
            resource="pods",
            namespace=NS,
            name=bad[1],
            status=403,
            message="injected: forbidden",
            times=1,
        )
        partial = await confirm(client, plan)
    assert partial["status"] == "partial", partial
    assert partial["applied_steps"] == [f"kubectl label pod {bad[0]} app- -n shop --context sim"]
    assert partial["failed_step"] == f"kubectl label pod {bad[1]} app- -n shop --context sim"
    assert partial["undo_applied"] == f"kubectl label pod {bad[0]} app=api -n shop --context sim"
    assert "app" not in env.get("pods", bad[0])["metadata"]["labels"]
    assert env.get("pods", bad[1])["metadata"]["labels"]["app"] == "api"


async def test_a_lost_answer_after_an_applied_step_is_unknown_and_names_what_was_applied(
    start: Callable[[str], Env],
) -> None:
    env = start("canary")
    async with Client(env.server("full")) as client:
        plan = await call(
            client, "shift_traffic", namespace=NS, from_deployment="web-canary", to_deployment="web-stable", replicas=5
        )
        env.sim.faults.add("drop_after", verb="patch", resource="deployments", namespace=NS, name="web-canary", times=1)
        unknown = await confirm(client, plan)
    assert unknown["status"] == "unknown", unknown
    assert unknown["applied_steps"] == [plan["steps"][0]] and unknown["failed_step"] == plan["steps"][1]
    assert unknown["undo_applied"] == "kubectl scale deployment/web-stable --replicas=4 -n shop --context sim"
    assert plan["steps"][0] in unknown["message"] and "may or may not" in unknown["message"]

"""A failed node whose own unready pods hold a PodDisruptionBudget down: the next step is delete_pod, not a drain
that the API server refuses again and again, end to end.

Built incident: the node-failure shop (node-2 NotReady, pods of api, checkout, payments and web on it) with a
PodDisruptionBudget over api asking for all 3 of its pods. api's pod on node-2 is not Ready, so the budget is
unhealthy and refuses its eviction (429) for as long as that pod exists; its replacement is only created once it is
gone. After the cordon, the assessment used to send the assistant to drain_node (partial: stops at the 429), and
again after that, a loop. An SRE deletes the stuck pod (deletion is not limited by budgets), then drains the rest.
assess_namespace and evaluate_decision say so together, and the drain's own plan names delete_pod too.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from mcp import Client
from support.mitigation_env import NS, Env, call, make_env, plan_and_confirm
from support.plan_warnings import proses

from incident_response.sim.serve import RunningSim

pytestmark = pytest.mark.anyio


@pytest.fixture
def env(sim_factory: Callable[..., RunningSim], tmp_path: Path) -> Env:
    return make_env(sim_factory("node-failure"), tmp_path / "state")


def on_node(env: Env, app: str, node: str) -> list[str]:
    return sorted(
        p["metadata"]["name"]
        for p in env.pods(f"app={app}")
        if p["spec"].get("nodeName") == node and not p["metadata"].get("deletionTimestamp")
    )


async def agreed(client: Client) -> tuple[dict[str, Any], dict[str, Any]]:
    assessed = await call(client, "assess_namespace", namespace=NS)
    decided = await call(client, "evaluate_decision", namespace=NS)
    decision = assessed["decision"]
    assert decided["verdict"] == "PROCEED", decided["summary"]
    assert (decided["next_tool"], decided["next_arguments"]) == (decision["next_tool"], decision["next_arguments"])
    return decision, decided


async def test_a_pod_a_budget_will_not_let_go_is_deleted_before_the_drain(env: Env) -> None:
    (stuck,) = on_node(env, "api", "node-2")
    budget = {
        "metadata": {"name": "api", "namespace": NS},
        "spec": {"minAvailable": len(env.pods("app=api")), "selector": {"matchLabels": {"app": "api"}}},
    }
    env.kube.create("poddisruptionbudgets", budget, NS)
    async with Client(env.server("full")) as client:
        first, _ = await agreed(client)
        assert (first["next_tool"], first["next_arguments"]) == ("cordon_node", {"node": "node-2"}), first
        await plan_and_confirm(client, env, "cordon_node", node="node-2")

        # Cordoned: a drain would stop at api's pod (429) again and again. Delete it first.
        second, _ = await agreed(client)
        assert (second["next_tool"], second["next_arguments"]) == ("delete_pod", {"namespace": NS, "pod": stuck})
        assert "PodDisruptionBudget api" in second["reason"] and "drain_node(node-2)" in second["reason"], second
        # Planned anyway, the drain says the same about the pod the budget holds.
        drain = await call(client, "drain_node", node="node-2")
        assert any(stuck in w and "delete_pod" in w for w in proses(drain["warnings"])), proses(drain["warnings"])
        await call(client, "cancel_command", token=drain["token"])

        await plan_and_confirm(client, env, "delete_pod", namespace=NS, pod=stuck)
        # The rest of node-2's pods: drained, and the drain goes through.
        third, _ = await agreed(client)
        assert (third["next_tool"], third["next_arguments"]) == ("drain_node", {"node": "node-2"}), third
        await plan_and_confirm(client, env, "drain_node", node="node-2")
    for app in ("checkout", "payments", "web"):
        assert on_node(env, app, "node-2") == [], app

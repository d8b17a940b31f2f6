"""A brand-new Deployment whose first revision crash-loops, alone (no older sibling behind its Service): the
assessment reads why before anything else, and says why not a rollback (there is no earlier revision) and why not a
scale to 0 (review-assist F10's remainder).

As an on-call engineer sees it: a first release that fails has served no one unless something used it already, so
pulling it mitigates nothing, and scaling it to 0 deletes the crashed pods whose previous log says why it fails. So
INVESTIGATE with the crashed log, and assess_namespace and evaluate_decision agree; walked as a ROLLBACK or a SCALE by
hand, both trees come back to that read. End to end through an MCP client on a deployment built in the sim.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from mcp import Client
from support.mitigation_env import NS, Env, call, make_env

from incident_response.sim import behaviors
from incident_response.sim.scenarios.builders import deployment_body
from incident_response.sim.serve import RunningSim

pytestmark = pytest.mark.anyio


@pytest.fixture
def env(sim_factory: Callable[..., RunningSim], tmp_path: Path) -> Env:
    return make_env(sim_factory("healthy"), tmp_path / "state")


def crashed_once(pod: dict[str, Any]) -> bool:
    return any(int(s.get("restartCount") or 0) >= 1 for s in (pod.get("status") or {}).get("containerStatuses") or [])


async def test_a_new_deployment_failing_since_it_was_created_is_read_first_not_pulled(env: Env) -> None:
    body = deployment_body(
        "ledger",
        namespace=NS,
        replicas=2,
        image="registry.example.com/shop/ledger:1.0",
        annotations={behaviors.ROLLED_OUT_MINUTES_AGO: "20"},
        pod_annotations={behaviors.BEHAVIOR: behaviors.CRASHLOOP},
    )
    env.kube.create("deployments", body, NS)
    service = {"metadata": {"name": "ledger"}, "spec": {"selector": {"app": "ledger"}, "ports": [{"port": 80}]}}
    env.kube.create("services", {"apiVersion": "v1", "kind": "Service", **service}, NS)
    await env.until(lambda: len(pods := env.pods("app=ledger")) == 2 and all(map(crashed_once, pods)), 60)

    async with Client(env.server("full")) as client:
        assessed = await call(client, "assess_namespace", namespace=NS)
        walked = await call(client, "evaluate_decision", namespace=NS)
        rollback = await call(client, "evaluate_decision", namespace=NS, action="ROLLBACK", deployment="ledger")
        scale = await call(client, "evaluate_decision", namespace=NS, action="SCALE", deployment="ledger")

    decision = assessed["decision"]
    assert (decision["primary_action"], decision["next_tool"]) == ("INVESTIGATE", "get_logs"), decision
    read = decision["next_arguments"]
    assert read["previous"] is True and read["pod_or_deployment"].startswith("ledger-"), read
    assert decision["reason"].startswith(
        "deployment ledger is new and its first revision fails: there is no earlier one to roll back to. If nothing "
        "used it before, nothing is lost while it fails: find out why first (a scale to 0 would stop the restarts "
        "but delete the crashed pods and their logs)"
    ), decision["reason"]
    assert "deployment ledger rolled out revision 1 20 minutes ago (no earlier revision kept)" in decision["evidence"]
    # One answer whichever way it is asked.
    assert (walked["verdict"], walked["next_tool"], walked["next_arguments"]) == ("PROCEED", "get_logs", read), walked
    for tree in (rollback, scale):
        assert (tree["verdict"], tree["next_tool"], tree["next_arguments"]) == ("DO_NOT", "get_logs", read), tree

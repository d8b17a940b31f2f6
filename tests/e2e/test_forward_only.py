"""After the human rules the rollback out, no decision tree sends the assistant back to it, end to end
(review-assist F31).

Built incident: the bad-deploy shop (checkout's revision 3 crash-loops while its old pods serve). The human answers
that revision 3 ran a forward-only migration: the ROLLBACK tree says DO_NOT. Walked with the same answer, the SCALE
tree ("no load pressure") and the ISOLATE tree ("no failing pod names another component") used to answer
TRY_INSTEAD ROLLBACK: a loop back to what the human just ruled out. Now they end at what fits (the crashed
container's log for pods that fail on their own), and the DO_NOT says to fix forward.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from mcp import Client
from support.mitigation_env import NS, Env, call, make_env

from incident_response.sim.serve import RunningSim

pytestmark = pytest.mark.anyio


@pytest.fixture
def env(sim_factory: Callable[..., RunningSim], tmp_path: Path) -> Env:
    return make_env(sim_factory("bad-deploy"), tmp_path / "state")


async def test_no_tree_leads_back_to_a_rollback_the_human_ruled_out(env: Env) -> None:
    async with Client(env.server("safe")) as client:
        rollback = await call(client, "evaluate_decision", namespace=NS, migrations_forward_only=True)
        walks = {
            tree: await call(
                client,
                "evaluate_decision",
                namespace=NS,
                action=tree,
                deployment="checkout",
                migrations_forward_only=True,
            )
            for tree in ("SCALE", "ISOLATE")
        }
    assert (rollback["action"], rollback["verdict"]) == ("ROLLBACK", "DO_NOT"), rollback["summary"]
    assert "Fix forward" in rollback["reason"], rollback["reason"]
    for tree, walk in walks.items():
        assert walk["alternative"] != "ROLLBACK", (tree, walk["summary"])
        assert walk["next_arguments"].get("action") != "ROLLBACK", (tree, walk["summary"])
        assert walk["verdict"] != "PROCEED" or walk["next_tool"] != "rollback_deployment", (tree, walk["summary"])
        # checkout's new pods crash on their own: the crashed container's log is what is left to read.
        assert walk["next_tool"] == "get_logs" and walk["next_arguments"]["previous"] is True, (tree, walk["summary"])

"""A bad rollout the human paused before calling for help: the rollback needs a resume first, and every tool says
so, end to end (review-assist F28).

Built incident: the bad-deploy shop (checkout's revision 3 crash-loops) with `spec.paused: true` set on checkout, as
`kubectl rollout pause` does. kubectl refuses to roll back a paused deployment, and so does rollback_deployment: the
assessment used to name rollback_deployment as the complete next call, whose refusal gave no way forward; only
evaluate_decision said FIX_FIRST with the resume command.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from mcp import Client
from support.mitigation_env import NS, Env, call, make_env, refused

from incident_response.sim.serve import RunningSim

pytestmark = pytest.mark.anyio

RESUME = f"kubectl rollout resume deployment/checkout -n {NS}"


@pytest.fixture
def env(sim_factory: Callable[..., RunningSim], tmp_path: Path) -> Env:
    return make_env(sim_factory("bad-deploy"), tmp_path / "state")


async def test_a_paused_bad_rollout_is_resumed_by_the_human_before_the_rollback(env: Env) -> None:
    env.kube.patch("deployments", "checkout", {"spec": {"paused": True}}, NS, patch_type="strategic")
    await env.until(lambda: env.observed("checkout"))
    async with Client(env.server("standard")) as client:
        assessed = await call(client, "assess_namespace", namespace=NS)
        decided = await call(client, "evaluate_decision", namespace=NS)
        refusal = await refused(client, "rollback_deployment", namespace=NS, deployment="checkout")

    decision = assessed["decision"]
    assert (decision["primary_action"], decision["target"]) == ("ROLLBACK", "deployment/checkout"), decision
    # No tool to call yet: the human resumes first, then the rollback is planned.
    assert decision["next_tool"] is None and RESUME in decision["reason"], decision
    assert "then rollback_deployment(namespace=shop, deployment=checkout" in decision["reason"], decision
    assert (decided["verdict"], decided["next_tool"]) == ("FIX_FIRST", None), decided["summary"]
    assert RESUME in decided["reason"], decided["reason"]
    assert "is paused" in refusal and RESUME in refusal and "plan the rollback again" in refusal, refusal

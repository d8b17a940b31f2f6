"""assess_namespace's next call is complete: planned as given, with no evaluate_decision hop in between; and a
verdict whose next step is the mitigation assess chose says PROCEED (the OOM path included)."""

from __future__ import annotations

import pytest
from mcp import Client
from support.mitigation_env import NS, Start, call

pytestmark = pytest.mark.anyio


@pytest.mark.parametrize(
    ("scenario", "tool", "required"),
    [
        ("oom", "rollback_deployment", {"deployment": "payments"}),  # its rollout never finished (F27)
        ("overload", "override_hpa", {"hpa": "web"}),
    ],
)
async def test_the_next_call_of_the_assessment_plans_as_given(
    shared: Start, scenario: str, tool: str, required: dict[str, object]
) -> None:
    env = shared(scenario)
    async with Client(env.server("full")) as client:
        assessed = await call(client, "assess_namespace", namespace=NS)
        decision = assessed["decision"]
        assert decision["next_tool"] == tool
        arguments = decision["next_arguments"]
        assert required.items() <= arguments.items(), arguments
        if tool == "override_hpa":  # bounds above the pinned max of 6, as the load calls for
            assert arguments["min_replicas"] > 6 and arguments["max_replicas"] >= arguments["min_replicas"]
        plan = await call(client, tool, **arguments)
        assert plan["status"] == "pending" and plan["token"], plan
        await call(client, "cancel_command", token=plan["token"])
        evaluated = await call(client, "evaluate_decision", namespace=NS)
        assert (evaluated["verdict"], evaluated["next_tool"]) == ("PROCEED", tool), evaluated

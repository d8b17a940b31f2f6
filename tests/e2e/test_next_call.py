"""assess_namespace's next call is complete: planned as given, with no evaluate_decision hop in between; and a
verdict whose next step is the mitigation assess chose says PROCEED (the OOM path included)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from mcp import Client
from support.mitigation_env import NS, Env, call, make_env
from support.sims import SharedSims

pytestmark = pytest.mark.anyio

Start = Callable[[str], Env]


@pytest.fixture
def shared(shared_sims: SharedSims, tmp_path: Path) -> Start:
    counter = iter(range(100))

    def begin(scenario: str) -> Env:
        return make_env(shared_sims(scenario), tmp_path / f"state{next(counter)}")

    return begin


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

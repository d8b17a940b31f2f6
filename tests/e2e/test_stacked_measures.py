"""Two temporary measures of the same kind on one object are restored last first, end to end.

Played: an HPA override sized from pinned usage fell short (12 of 23), so a second override raised it again. The
first override's restore writes back the bounds it replaced: restored first, it put the HPA back to 3..4 under the
second override, and the second's restore then put back 12..12, an override no measure listed any more. The restore
of a measure with a later one of the same kind on the same object in place is refused, naming the later one.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from mcp import Client
from support.mitigation_env import NS, Env, call, make_env, plan_and_confirm, refused

from incident_response.sim.serve import RunningSim

pytestmark = pytest.mark.anyio


@pytest.fixture
def env(sim_factory: Callable[..., RunningSim], tmp_path: Path) -> Env:
    return make_env(sim_factory("healthy"), tmp_path / "state")


def bounds(env: Env) -> tuple[int, int]:
    spec = env.get("horizontalpodautoscalers", "checkout")["spec"]
    return spec["minReplicas"], spec["maxReplicas"]


async def restore(client: Client, env: Env, measure: str) -> None:
    plan = await call(client, "restore_measure", measure_id=measure)
    assert plan["status"] == "pending", plan
    done = await call(client, "confirm_command", token=plan["token"])
    assert done["status"] == "succeeded", done


async def test_hpa_overrides_are_restored_last_first(env: Env) -> None:
    original = bounds(env)
    async with Client(env.server("full")) as client:
        first, _ = await plan_and_confirm(
            client, env, "override_hpa", namespace=NS, hpa="checkout", min_replicas=4, max_replicas=9
        )
        second, _ = await plan_and_confirm(
            client, env, "override_hpa", namespace=NS, hpa="checkout", min_replicas=6, max_replicas=10
        )
        assert bounds(env) == (6, 10)

        message = await refused(client, "restore_measure", measure_id=first["token"])
        assert f"later override_hpa (measure {second['token']})" in message and "nothing was planned" in message
        assert bounds(env) == (6, 10)

        await restore(client, env, second["token"])
        assert bounds(env) == (4, 9)
        await restore(client, env, first["token"])
        assert bounds(env) == original
        listed = await call(client, "list_temporary_measures")
    assert [m for m in listed["measures"] if m["tool"] == "override_hpa"] == []

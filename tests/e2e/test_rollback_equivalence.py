"""`kubectl rollout undo` on one copy of bad-deploy, confirmed rollback_deployment on another: same objects after."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import anyio
import pytest
from mcp import Client
from support.confirm_env import NAMESPACE, Env, call, make_env, plan, without_autoscaler
from support.equivalence import assert_equivalent, snapshot
from support.kubectl_runner import Kubectl

from incident_response.sim.serve import RunningSim

pytestmark = pytest.mark.anyio


async def settled(env: Env) -> dict[str, dict[str, object]]:
    await env.wait_rolled_out()
    await anyio.to_thread.run_sync(env.sim.wait_ticks, 4)
    return snapshot(env.kube, NAMESPACE, ("deployments", "replicasets"))


@pytest.mark.parametrize(
    "kubectl_args, to_revision, rendered",
    [((), None, False), (("--to-revision=1",), 1, False), ((), None, True)],
    ids=["previous", "to-revision-1", "our-rendered-command"],
)
async def test_kubectl_and_confirm_leave_the_same_objects(
    sim_factory: Callable[..., RunningSim],
    kubectl_for: Callable[[RunningSim], Kubectl],
    tmp_path: Path,
    kubectl_args: tuple[str, ...],
    to_revision: int | None,
    rendered: bool,
) -> None:
    by_kubectl = without_autoscaler(make_env(sim_factory("bad-deploy"), tmp_path / "state-a"))
    by_us = without_autoscaler(make_env(sim_factory("bad-deploy"), tmp_path / "state-b"))
    async with Client(by_us.server("full")) as client:
        arguments = {} if to_revision is None else {"to_revision": to_revision}
        p = await plan(client, by_us, **arguments)
        kubectl = kubectl_for(by_kubectl.sim)
        if rendered:
            kubectl.shell(p["command"])
        else:
            kubectl.run("rollout", "undo", f"deployment/{by_kubectl.deployment}", "-n", NAMESPACE, *kubectl_args)
        done = await call(client, "confirm_command", token=p["token"])
    assert done["status"] == "succeeded", done
    assert_equivalent(await settled(by_kubectl), await settled(by_us))

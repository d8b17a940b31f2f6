"""A tool a server does not list cannot be called on it: `--toolsets`, the read-only profile and safe mode leave
the planners and confirm_command out, and a client that calls them by name anyway (a model that knows the names
from another server) gets `Unknown tool`; a token planned elsewhere on the same state directory stays pending."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from mcp import Client
from support.confirm_env import NAMESPACE, make_env, plan

from incident_response.server.app import build_server
from incident_response.server.config import Settings
from incident_response.sim.serve import RunningSim
from incident_response.tools.engine.journal import Journal
from incident_response.tools.kube.client import ClusterSource

pytestmark = pytest.mark.anyio


@pytest.mark.parametrize(
    "narrowed",
    [{"toolsets": ("assess",)}, {"read_only": True}, {"mode": "safe"}],
    ids=["toolsets", "read-only", "safe"],
)
async def test_a_tool_left_out_of_the_listing_cannot_be_called(
    sim_factory: Callable[..., RunningSim], tmp_path: Path, narrowed: dict[str, Any]
) -> None:
    env = make_env(sim_factory("bad-deploy"), tmp_path / "state")
    async with Client(env.server("full")) as planner:
        token = (await plan(planner, env))["token"]
    assert env.sim.kubeconfig_path is not None
    source = ClusterSource(kubeconfig=env.sim.kubeconfig_path, context=env.sim.context)
    async with Client(build_server(Settings(state_dir=env.state, cluster=source, **narrowed))) as client:
        listed = {tool.name for tool in (await client.list_tools()).tools}
        calls = {
            "rollback_deployment": {"namespace": NAMESPACE, "deployment": env.deployment},
            "scale_deployment": {"namespace": NAMESPACE, "deployment": env.deployment, "replicas": 0},
            "confirm_command": {"token": token},
        }
        for tool, arguments in calls.items():
            if tool in listed:
                continue  # safe mode lists the planners: they answer `blocked`, tested in test_confirmation
            result = await client.call_tool(tool, arguments)
            assert result.is_error and "Unknown tool" in str(result.content), (tool, result.content)
    assert "confirm_command" not in listed
    row = Journal(env.state).command(token)
    assert row is not None and row.state == "pending"
    assert env.image() != env.revision_image(2)

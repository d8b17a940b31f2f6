"""Probe (not collected): a tool not listed under --toolsets / --read-only / safe mode."""
from __future__ import annotations

from pathlib import Path
from typing import Any, Callable

import pytest
from mcp import Client
from support.confirm_env import make_env

from incident_response.server.app import build_server
from incident_response.server.config import Settings
from incident_response.sim.serve import RunningSim
from incident_response.tools.kube.client import ClusterSource

pytestmark = pytest.mark.anyio


@pytest.mark.parametrize("kw", [{"toolsets": ("assess",)}, {"read_only": True}, {"mode": "safe"}])
async def test_probe(sim_factory: Callable[..., RunningSim], tmp_path: Path, kw: dict[str, Any]) -> None:
    env = make_env(sim_factory("bad-deploy"), tmp_path / "state")
    async with Client(env.server("standard")) as c:
        token = (await c.call_tool("rollback_deployment", {"namespace": "shop", "deployment": "checkout"})).structured_content["token"]
    source = ClusterSource(kubeconfig=env.sim.kubeconfig_path, context=env.sim.context)
    settings = Settings(state_dir=env.state, cluster=source, **kw)
    async with Client(build_server(settings)) as c:
        names = {t.name for t in (await c.list_tools()).tools}
        for tool, args in [("rollback_deployment", {"namespace": "shop", "deployment": "checkout"}),
                           ("confirm_command", {"token": token}), ("cancel_command", {"token": token}),
                           ("declare_incident", {"title": "x"})]:
            r = await c.call_tool(tool, args)
            print(kw, tool, "listed" if tool in names else "UNLISTED", "err" if r.is_error else "ok", (r.structured_content or {}).get("status"), r.content[0].text[:150] if r.content else "")

"""A server whose state directory every user may write plans nothing and confirms nothing (another user could have
planted an approved plan there), says why and what to do, and still answers read-only tools."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
from mcp import Client

from incident_response.server.app import build_server
from incident_response.server.config import Settings, resolve_cluster
from incident_response.tools.engine.journal import DB_NAME

pytestmark = pytest.mark.anyio


async def test_a_world_writable_state_dir_refuses_plans_and_confirms(sim_factory: Any, tmp_path: Path) -> None:
    sim = sim_factory("bad-deploy")
    assert sim.kubeconfig_path is not None
    shared = tmp_path / "shared"
    shared.mkdir()
    os.chmod(shared, 0o777)
    settings = Settings(cluster=resolve_cluster(sim.kubeconfig_path, None, {}), state_dir=shared)
    async with Client(build_server(settings)) as client:
        read = await client.call_tool("list_pods", {"namespace": "shop"})
        planned = await client.call_tool("rollback_deployment", {"namespace": "shop", "deployment": "checkout"})
        confirmed = await client.call_tool("confirm_command", {"token": "irm_" + "a" * 43})
    assert not read.is_error
    for refused in (planned, confirmed):
        text = getattr(refused.content[0], "text", "")
        assert refused.is_error and "writable by every user" in text and f"chmod o-w {shared}" in text, text
    assert not (shared / DB_NAME).exists()

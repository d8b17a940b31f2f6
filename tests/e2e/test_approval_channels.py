"""Who approved, through which channel, end to end: an MCP client, our server, the `approve` command as a process,
and the simulated cluster running `bad-deploy`."""

from __future__ import annotations

import re
import secrets
import shlex
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import anyio
import pytest
from mcp import Client
from support.confirm_env import Env, call, make_env, plan

from incident_response.sim.serve import RunningSim
from incident_response.tools.engine import pending
from incident_response.tools.engine.approvals import CLI_NON_INTERACTIVE
from incident_response.tools.engine.journal import Journal

pytestmark = pytest.mark.anyio

LAUNCHER = "from incident_response.server.cli import main; main()"


@pytest.fixture
def env(sim_factory: Callable[..., RunningSim], tmp_path: Path) -> Env:
    return make_env(sim_factory("bad-deploy"), tmp_path / "state")


def run_as_told(message: str, *extra: str) -> subprocess.CompletedProcess[str]:
    """Run the approve command line exactly as the server's message spells it (plus `extra`), without a terminal."""
    found = re.search(r"incident-response-mcp approve \S+ --state-dir \S+", message)
    assert found, message
    argv = shlex.split(found.group(0))[1:]
    return subprocess.run(
        [sys.executable, "-c", LAUNCHER, *argv, *extra], stdin=subprocess.DEVNULL, capture_output=True, text=True,
        timeout=60,
    )  # fmt: skip


async def test_a_token_starting_with_a_dash_is_approved_and_confirmed_as_told(
    env: Env, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Journals written before the generator stopped drawing them hold such tokens; forge one for this server.
    monkeypatch.setattr(pending, "new_token", lambda: "-" + secrets.token_urlsafe(32)[1:])
    good = env.revision_image(2)
    async with Client(env.server()) as client:
        p = await plan(client, env)
        assert p["token"].startswith("-")
        waiting = await call(client, "confirm_command", token=p["token"])
        assert waiting["status"] == "awaiting_approval"
        done = await anyio.to_thread.run_sync(lambda: run_as_told(waiting["message"], "--yes"))
        assert done.returncode == 0, done.stderr
        confirmed = await call(client, "confirm_command", token=p["token"])
    assert confirmed["status"] == "succeeded", confirmed
    assert confirmed["approval_channel"] == CLI_NON_INTERACTIVE
    assert env.image() == good
    row = Journal(env.state).command(p["token"])
    assert row and row.state == "succeeded"

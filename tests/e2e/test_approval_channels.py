"""Who approved, through which channel, end to end: an MCP client, our server, the `approve` command as a process,
and the simulated cluster running `bad-deploy`."""

from __future__ import annotations

import re
import shlex
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import anyio
import pytest
from mcp import Client
from mcp.server import MCPServer
from mcp.types import ElicitRequestFormParams, ElicitResult, Implementation
from support.confirm_env import Env, call, make_env, plan
from support.dialog import human_answer
from support.texts import handoff_fields

from incident_response.server import approvals_command
from incident_response.server.app import build_server
from incident_response.server.config import Settings
from incident_response.sim.serve import RunningSim
from incident_response.tools.engine.approvals import CLI_NON_INTERACTIVE, CLI_TERMINAL, ELICITATION, Approvals
from incident_response.tools.engine.journal import Journal
from incident_response.tools.engine.pending import HumanAnswer, PendingEngine
from incident_response.tools.kube.client import ClusterSource

pytestmark = pytest.mark.anyio

LAUNCHER = "from incident_response.server.cli import main; main()"


@pytest.fixture
def env(sim_factory: Callable[..., RunningSim], tmp_path: Path) -> Env:
    return make_env(sim_factory("bad-deploy"), tmp_path / "state")


def server(env: Env, approvals: Approvals = "any") -> MCPServer[Any]:
    assert env.sim.kubeconfig_path is not None
    source = ClusterSource(kubeconfig=env.sim.kubeconfig_path, context=env.sim.context)
    return build_server(Settings(state_dir=env.state, cluster=source, approvals=approvals), clock=env.clock)


def accepting(asked: list[str]) -> Any:
    """A client whose dialog answers yes to whatever it is asked (as a client driven by an agent could)."""

    async def callback(context: Any, params: ElicitRequestFormParams) -> ElicitResult:
        asked.append(params.message)
        return ElicitResult(action="accept", content=human_answer(params))

    return callback


def claim_of(env: Env, token: str) -> dict[str, Any]:
    [claimed] = [e for e in Journal(env.state).events(token=token) if e.kind == "claimed"]
    assert claimed.detail is not None
    return claimed.detail


def run_as_told(message: str, *extra: str) -> subprocess.CompletedProcess[str]:
    """Run the approve command line exactly as the server's message spells it (plus `extra`), without a terminal."""
    found = re.search(r"incident-response-mcp approve \S+ --state-dir \S+", message)
    assert found, message
    argv = shlex.split(found.group(0))[1:]
    return subprocess.run(
        [sys.executable, "-c", LAUNCHER, *argv, *extra],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=60,
        start_new_session=True,  # outside any terminal session, as a script runs (on a terminal --yes is refused)
    )


async def test_the_approve_command_the_server_spells_out_works_as_told(env: Env) -> None:
    # Tokens start with `irm_`, never with '-' (tests/unit/test_approvals_cli.py covers older tokens that did, at
    # the command line; through MCP such a plan records no cluster and is refused as wrong_cluster anyway).
    good = env.revision_image(2)
    async with Client(env.server()) as client:
        p = await plan(client, env)
        assert p["token"].startswith("irm_")
        waiting = await call(client, "confirm_command", token=p["token"])
        assert waiting["status"] == "awaiting_approval"
        done = await anyio.to_thread.run_sync(lambda: run_as_told(waiting["message"], "--yes"))
        assert done.returncode == 0, done.stderr
        confirmed = await call(client, "confirm_command", token=p["token"])
        handoff = await handoff_fields(client, namespace="shop")
    assert confirmed["status"] == "succeeded", confirmed
    assert confirmed["approval_channel"] == CLI_NON_INTERACTIVE
    assert env.image() == good
    # A scripted approval leaves a trace a person reads: who, and that nobody was asked (stderr, the handoff).
    assert f"APPROVED WITHOUT ASKING anyone (--yes, no terminal) as {confirmed['approved_by']}" in done.stderr
    timeline = {e["kind"]: e["text"] for e in handoff["timeline"] if e["kind"] in ("approved", "confirmed")}
    assert timeline == {
        "approved": f"rollback_deployment approved by {confirmed['approved_by']} via cli (non-interactive)",
        "confirmed": "rollback_deployment confirmed on an approval via cli (non-interactive) (this OS user approved "
        "with --yes outside any terminal session: no person was asked)",
    }


async def test_an_elicitation_approval_is_recorded_as_attested_by_the_client_not_as_human(env: Env) -> None:
    asked: list[str] = []
    client_info = Implementation(name="oncall-desk", version="9.1")
    async with Client(server(env), client_info=client_info, elicitation_callback=accepting(asked)) as client:
        p = await plan(client, env)
        done = await call(client, "confirm_command", token=p["token"])
        handoff = await handoff_fields(client, namespace="shop")
    assert done["status"] == "succeeded" and len(asked) == 1
    assert done["approval_channel"] == ELICITATION
    assert done["approved_by"] == "the user of MCP client 'oncall-desk 9.1' (attested by the client)"
    assert claim_of(env, p["token"]) == {"mode": "standard", "approval_channel": ELICITATION, "human_approved": False}
    [confirmed] = [e["text"] for e in handoff["timeline"] if e["kind"] == "confirmed"]
    assert confirmed == (
        "rollback_deployment confirmed on an approval via elicitation (attested by the named MCP client, not verified "
        "as human)"
    )


@pytest.mark.parametrize("channel, human", [(CLI_TERMINAL, True), (CLI_NON_INTERACTIVE, False)])
async def test_only_the_terminal_prompt_counts_as_a_human_verified(env: Env, channel: str, human: bool) -> None:
    async with Client(server(env)) as client:
        p = await plan(client, env)
        engine = PendingEngine(Journal(env.state))
        assert approvals_command.decide(engine, p["token"], approved=True, channel=channel).status == "approved"
        done = await call(client, "confirm_command", token=p["token"])
    assert done["status"] == "succeeded" and done["approval_channel"] == channel
    assert claim_of(env, p["token"]) == {"mode": "standard", "approval_channel": channel, "human_approved": human}


async def test_approvals_cli_never_asks_the_client_and_waits_for_the_approve_command(env: Env) -> None:
    asked: list[str] = []
    bad, good = env.image(), env.revision_image(2)
    async with Client(server(env, "cli"), elicitation_callback=accepting(asked)) as client:
        p = await plan(client, env)
        waiting = await call(client, "confirm_command", token=p["token"])
        assert waiting["status"] == "awaiting_approval" and "--approvals cli" in waiting["message"]
        assert asked == [] and env.image() == bad
        done = await anyio.to_thread.run_sync(lambda: run_as_told(waiting["message"], "--yes"))
        assert done.returncode == 0, done.stderr
        confirmed = await call(client, "confirm_command", token=p["token"])
    assert confirmed["status"] == "succeeded" and confirmed["approval_channel"] == CLI_NON_INTERACTIVE
    assert asked == [] and env.image() == good


async def test_approvals_cli_refuses_a_plan_another_server_had_approved_in_a_client_dialog(env: Env) -> None:
    bad = env.image()
    async with Client(server(env, "cli")) as client:
        p = await plan(client, env)
        # A server sharing the state directory without --approvals cli recorded its client's dialog answer.
        answer = HumanAnswer(
            approved=True, approver="the user of MCP client 'x' (attested by the client)", channel=ELICITATION
        )
        assert PendingEngine(Journal(env.state)).decide(p["token"], answer).status == "approved"
        refused = await call(client, "confirm_command", token=p["token"])
    assert refused["status"] == "refused" and "--approvals cli" in refused["message"], refused
    assert env.image() == bad
    assert [e.kind for e in Journal(env.state).events(token=p["token"])] == ["proposed", "approved"]

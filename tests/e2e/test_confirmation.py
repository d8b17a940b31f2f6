"""The safety model end to end: an MCP client, our server, and the simulated cluster running `bad-deploy`."""

from __future__ import annotations

import getpass
import os
import signal
import subprocess
import sys
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any, Literal

import anyio
import pytest
from mcp import Client, StdioServerParameters
from mcp.types import ElicitRequestFormParams, ElicitResult, Implementation
from support.confirm_env import NAMESPACE, Env, call, make_env, plan, without_autoscaler
from support.dialog import human_answer

from incident_response.server import approvals_command
from incident_response.sim.serve import RunningSim
from incident_response.tools.engine.journal import Journal
from incident_response.tools.engine.pending import PendingEngine

pytestmark = pytest.mark.anyio


@pytest.fixture
def env(sim_factory: Callable[..., RunningSim], tmp_path: Path) -> Env:
    return make_env(sim_factory("bad-deploy"), tmp_path / "state")


def approve_as_cli(env: Env, token: str, approved: bool = True) -> str:
    return approvals_command.decide(PendingEngine(Journal(env.state)), token, approved=approved).status


def elicitation(
    action: Literal["accept", "decline", "cancel"], seen: list[str], content: dict[str, Any] | None = None
) -> Any:
    async def callback(context: Any, params: ElicitRequestFormParams) -> ElicitResult:
        seen.append(params.message)
        return ElicitResult(action=action, content=content)

    return callback


def typing_the_code(seen: list[str]) -> Any:
    async def callback(context: Any, params: ElicitRequestFormParams) -> ElicitResult:
        seen.append(params.message)
        return ElicitResult(action="accept", content=human_answer(params))

    return callback


async def test_standard_mode_waits_for_the_cli_approval_then_rolls_back(env: Env) -> None:
    bad, good = env.image(), env.revision_image(2)
    async with Client(env.server("standard")) as client:
        p = await plan(client, env)
        assert p["status"] == "pending" and p["command"] == (
            f"kubectl rollout undo deployment/{env.deployment} -n shop --to-revision=2 --context sim"
        )
        assert p["undo_command"].endswith("--to-revision=3 --context sim")
        assert any(c["before"] == bad and c["after"] == good for c in p["diff"]), p["diff"]
        waiting = await call(client, "confirm_command", token=p["token"])
        assert waiting["status"] == "awaiting_approval" and f"approve {p['token']}" in waiting["message"]
        assert env.image() == bad
        assert approve_as_cli(env, p["token"]) == "approved"
        done = await call(client, "confirm_command", token=p["token"])
        assert done["status"] == "succeeded", done
        assert done["approved_by"] == getpass.getuser() and done["approval_channel"] == "cli"
    assert env.image() == good
    rolled = await env.wait_rolled_out()
    assert rolled["metadata"]["annotations"]["deployment.kubernetes.io/revision"] == "4"


async def test_full_mode_runs_and_the_journal_says_no_human_approved(env: Env) -> None:
    good = env.revision_image(2)
    async with Client(env.server("full")) as client:
        p = await plan(client, env)
        done = await call(client, "confirm_command", token=p["token"])
    assert done["status"] == "succeeded" and done["approval_channel"] == "none (full mode)"
    assert env.image() == good
    claimed = [e for e in Journal(env.state).events(token=p["token"]) if e.kind == "claimed"]
    assert claimed[0].detail == {"mode": "full", "approval_channel": "none (full mode)", "human_approved": False}


async def test_safe_mode_blocks_and_cannot_confirm(env: Env) -> None:
    """Safe mode plans only as advice and does not list confirm_command (it could only refuse there); a token planned
    by a standard server sharing the state stays unrun. The engine's own refusal is tests/test_pending.py's."""
    async with Client(env.server("standard")) as client:
        token = (await plan(client, env))["token"]
    async with Client(env.server("safe")) as client:
        blocked = await plan(client, env)
        assert blocked["status"] == "blocked" and blocked["token"] is None and "rollout undo" in blocked["command"]
        tools = {tool.name for tool in (await client.list_tools()).tools}
        attempt = await client.call_tool("confirm_command", {"token": token})
    assert "confirm_command" not in tools and {"cancel_command", "list_pending_commands"} <= tools
    assert attempt.is_error
    assert env.image() != env.revision_image(2)


@pytest.mark.parametrize("mode", ["auto", "legacy"])
async def test_elicitation_accept_runs(env: Env, mode: Literal["auto", "legacy"]) -> None:
    seen: list[str] = []
    good = env.revision_image(2)
    client_info = Implementation(name="oncall-desk", version="9.1")
    async with Client(
        env.server(),
        mode=mode,
        client_info=client_info,
        elicitation_callback=typing_the_code(seen),
    ) as c:
        p = await plan(c, env)
        done = await call(c, "confirm_command", token=p["token"])
    assert done["status"] == "succeeded" and done["approval_channel"] == "elicitation"
    # The journal names the client the human answered in, and that the name is the client's own claim.
    assert done["approved_by"] == "the user of MCP client 'oncall-desk 9.1' (attested by the client)"
    assert p["command"] in seen[0] and p["undo_command"] in seen[0] and good in seen[0]
    assert env.image() == good


@pytest.mark.parametrize(
    "action, content",
    [("decline", None), ("accept", {"code": "12345"}), ("accept", {"approve": True})],
    ids=["declined", "wrong-code", "old-form"],
)
async def test_elicitation_refusal_denies(
    env: Env, action: Literal["accept", "decline"], content: dict[str, Any] | None
) -> None:
    seen: list[str] = []
    bad = env.image()
    async with Client(env.server(), elicitation_callback=elicitation(action, seen, content)) as c:
        p = await plan(c, env)
        denied = await call(c, "confirm_command", token=p["token"])
        again = await call(c, "confirm_command", token=p["token"])
    assert denied["status"] == "denied" and again["status"] == "denied"
    assert len(seen) == 1 and env.image() == bad


async def test_elicitation_dismissed_leaves_it_pending(env: Env) -> None:
    seen: list[str] = []
    async with Client(env.server(), elicitation_callback=elicitation("cancel", seen)) as c:
        p = await plan(c, env)
        dismissed = await call(c, "confirm_command", token=p["token"])
    assert dismissed["status"] == "awaiting_approval"
    assert approve_as_cli(env, p["token"]) == "approved"


@pytest.mark.parametrize("mode", ["auto", "legacy"])
async def test_client_without_elicitation_is_told_what_the_human_must_run(
    env: Env, mode: Literal["auto", "legacy"]
) -> None:
    async with Client(env.server(), mode=mode) as c:
        p = await plan(c, env)
        waiting = await call(c, "confirm_command", token=p["token"])
    assert waiting["status"] == "awaiting_approval"
    assert f"incident-response-mcp approve {p['token']} --state-dir {env.state}" in waiting["message"]
    assert env.image() != env.revision_image(2)


async def test_dead_tokens_are_refused_by_name(env: Env) -> None:
    bad = env.image()
    async with Client(env.server()) as c:
        forged = await call(c, "confirm_command", token="A" * 43)
        assert forged["status"] == "unknown_token"

        cancelled = await plan(c, env)
        assert (await call(c, "cancel_command", token=cancelled["token"]))["status"] == "cancelled"
        assert (await call(c, "confirm_command", token=cancelled["token"]))["status"] == "cancelled"

        denied = await plan(c, env)
        assert approve_as_cli(env, denied["token"], approved=False) == "denied"
        assert (await call(c, "confirm_command", token=denied["token"]))["status"] == "denied"

        expired = await plan(c, env)
        approve_as_cli(env, expired["token"])
        env.clock.now += timedelta(minutes=15, seconds=1)
        assert (await call(c, "confirm_command", token=expired["token"]))["status"] == "expired"
        assert env.image() == bad

        replayed = await plan(c, env)
        approve_as_cli(env, replayed["token"])
        assert (await call(c, "confirm_command", token=replayed["token"]))["status"] == "succeeded"
        used = await call(c, "confirm_command", token=replayed["token"])
        assert used["status"] == "used" and "succeeded" in used["message"]
        listed = await call(c, "list_pending_commands")
    assert listed["commands"] == []


async def test_twenty_concurrent_confirms_execute_once(env: Env) -> None:
    generation = env.get()["metadata"]["generation"]
    statuses: list[str] = []
    async with Client(env.server("standard")) as c:
        p = await plan(c, env)
        approve_as_cli(env, p["token"])

        async def confirm() -> None:
            statuses.append((await call(c, "confirm_command", token=p["token"]))["status"])

        with anyio.fail_after(60):
            async with anyio.create_task_group() as tg:
                for _ in range(20):
                    tg.start_soon(confirm)
    assert sorted(statuses) == ["succeeded"] + ["used"] * 19
    assert env.get()["metadata"]["generation"] == generation + 1
    kinds = [e.kind for e in Journal(env.state).events(token=p["token"])]
    assert kinds.count("claimed") == 1 and kinds.count("executed") == 1


async def test_plan_made_stale_by_another_rollout(env: Env) -> None:
    async with Client(env.server("full")) as c:
        p = await plan(c, env)
        env.kube.patch(
            "deployments",
            env.deployment,
            {"spec": {"template": {"metadata": {"annotations": {"x": "y"}}}}},
            NAMESPACE,
            patch_type="strategic",
        )
        before = env.get()
        stale = await call(c, "confirm_command", token=p["token"])
    assert stale["status"] == "stale"
    assert any(ch["path"] == "/metadata/generation" for ch in stale["changes"]), stale["changes"]
    assert "generation" in stale["message"]
    assert env.get()["spec"]["template"] == before["spec"]["template"]


async def test_plan_made_stale_by_a_scale(env: Env) -> None:
    without_autoscaler(env)  # the checkout HPA would take the manual scale back before the confirm looks
    async with Client(env.server("full")) as c:
        p = await plan(c, env)
        replicas = env.get()["spec"]["replicas"]
        env.kube.patch(
            "deployments",
            env.deployment,
            {"spec": {"replicas": replicas + 2}},
            NAMESPACE,
            patch_type="merge",
            subresource="scale",
        )
        stale = await call(c, "confirm_command", token=p["token"])
    changes = {ch["path"]: (ch["planned"], ch["now"]) for ch in stale["changes"]}
    assert stale["status"] == "stale" and changes["/spec/replicas"] == (replicas, replicas + 2)
    assert env.image() != env.revision_image(2)


@pytest.mark.parametrize(
    "fault, expected",
    [
        ({"action": "status", "status": 500}, "unknown"),
        ({"action": "status", "status": 503}, "unknown"),
        ({"action": "status", "status": 409, "message": "injected conflict"}, "failed"),
        ({"action": "status", "status": 403, "message": "injected forbidden"}, "failed"),
        ({"action": "drop_before"}, "unknown"),
        ({"action": "drop_after"}, "unknown"),
    ],
)
async def test_api_failing_mid_execution_is_never_success(env: Env, fault: dict[str, Any], expected: str) -> None:
    async with Client(env.server("full")) as c:
        p = await plan(c, env)
        env.sim.faults.add(verb="patch", resource="deployments", namespace=NAMESPACE, times=1, **fault)
        result = await call(c, "confirm_command", token=p["token"])
        again = await call(c, "confirm_command", token=p["token"])
    assert result["status"] == expected, result
    assert result["steps"][0]["status"] == expected
    assert again["status"] == "used"
    if expected == "failed":
        assert env.image() != env.revision_image(2)
    row = Journal(env.state).command(p["token"])
    assert row and row.state == expected


def stdio_server(env: Env, pidfile: Path) -> StdioServerParameters:
    """The real `serve` command over stdio; a shell records its pid, then execs it (same pid) so we can SIGKILL it."""
    assert env.sim.kubeconfig_path is not None
    serve = [
        sys.executable,
        "-c",
        "from incident_response.server.cli import main; main()",
        "serve",
        "--kubeconfig",
        str(env.sim.kubeconfig_path),
        "--context",
        env.sim.context,
        "--state-dir",
        str(env.state),
    ]
    return StdioServerParameters(
        command="/bin/sh", args=["-c", 'echo $$ > "$1"; shift; exec "$@"', "sh", str(pidfile), *serve]
    )


def cli(env: Env, *argv: str) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-c", "from incident_response.server.cli import main; main()", *argv]
    return subprocess.run(
        [*command, "--state-dir", str(env.state)],
        capture_output=True,
        text=True,
        timeout=60,
        stdin=subprocess.DEVNULL,
        start_new_session=True,
    )


async def test_journal_tells_the_whole_story_after_sigkill_and_restart(env: Env, tmp_path: Path) -> None:
    pidfile = tmp_path / "server.pid"
    left: dict[str, Any] | None = None
    first_error: BaseException | None = None  # closing a client whose server was SIGKILLed raises; keep it to show
    try:
        with anyio.fail_after(120):
            async with Client(stdio_server(env, pidfile)) as c:
                p = await plan(c, env)
                assert (await call(c, "confirm_command", token=p["token"]))["status"] == "awaiting_approval"
                approved = await anyio.to_thread.run_sync(lambda: cli(env, "approve", p["token"], "--yes"))
                assert approved.returncode == 0, approved.stderr
                assert (await call(c, "confirm_command", token=p["token"]))["status"] == "succeeded"
                left = await plan(c, env, to_revision=1)
                os.kill(int(pidfile.read_text().strip()), signal.SIGKILL)
    except (Exception, BaseExceptionGroup) as e:
        first_error = e
    assert left is not None, f"the first server failed before it was killed: {first_error!r}"
    async with Client(stdio_server(env, pidfile)) as c:
        assert (await call(c, "confirm_command", token=p["token"]))["status"] == "used"
        listed = await call(c, "list_pending_commands")
    assert [item["token"] for item in listed["commands"]] == [left["token"]]
    journal = Journal(env.state)
    story = [(e.kind, e.actor, e.channel) for e in journal.events(token=p["token"])]
    assert story == [
        ("proposed", None, None),
        ("approved", getpass.getuser(), "cli (non-interactive)"),
        ("claimed", None, None),
        ("executed", None, None),
    ]
    executed = journal.events(token=p["token"])[-1]
    assert executed.detail and executed.detail["status"] == "succeeded"
    row = journal.command(p["token"])
    assert row and row.result and row.result["after"]
    tools = [(t.tool, t.status) for t in journal.tool_calls()]
    assert tools[:4] == [
        ("rollback_deployment", "pending"),
        ("confirm_command", "awaiting_approval"),
        ("confirm_command", "succeeded"),
        ("rollback_deployment", "pending"),
    ]
    assert ("confirm_command", "used") in tools[4:]
    assert len({e.incident for e in journal.events()} - {None}) == 1

"""Over HTTP each principal gets a bounded number of tool calls per minute (`--rate-limit`): a client looping on
calls (every call is a journal entry; in team mode an object in etcd) is refused with a tool error that says how
long to wait, nothing of the refused call is run or recorded, and another principal is not slowed by it. Confirms
and cancels have their own budget (a loop of reads cannot hold them back), itself limited per token and in all."""

from __future__ import annotations

import sqlite3
from collections.abc import Awaitable, Callable
from pathlib import Path

import anyio
import pytest
from mcp.types import CallToolResult
from support.confirm_env import DEPLOYMENT, NAMESPACE
from support.http_server import approve_out_of_band, client_as, credentials_file, http_server

from incident_response.server.rate_limit import PER_TOKEN
from incident_response.sim.serve import RunningSim
from incident_response.tools.engine.journal import DB_NAME

pytestmark = pytest.mark.anyio

ALICE = "alice-" + "a" * 40
BOB = "bob-" + "b" * 40


async def test_a_principal_past_its_rate_is_refused_and_nothing_is_recorded(
    sim_factory: Callable[..., RunningSim], tmp_path: Path
) -> None:
    sim = sim_factory("healthy")
    users = credentials_file(tmp_path, f"alice {ALICE}\nbob {BOB}\n")
    # Two calls a minute: the third within the same minute is refused (the test makes three calls in far less).
    with http_server(sim, tmp_path, "--auth-token-file", str(users), "--rate-limit", "2") as url:
        async with client_as(url, ALICE) as alice, client_as(url, BOB) as bob:
            answers = [await alice.call_tool("server_info", {}) for _ in range(3)]
            other = await bob.call_tool("server_info", {})
    assert [a.is_error for a in answers] == [False, False, True]
    refusal = str(answers[2].content)
    assert "alice" in refusal and "2 tool calls a minute" in refusal and "wait" in refusal.lower(), refusal
    assert not other.is_error
    with sqlite3.connect(tmp_path / "state" / DB_NAME) as db:
        recorded = db.execute("SELECT COUNT(*) FROM tool_calls WHERE tool = 'server_info'").fetchone()[0]
    assert recorded == 3  # alice's two and bob's one: the refused call left no trace


async def until_limited(call: Callable[[int], Awaitable[CallToolResult]], most: int = 60) -> tuple[int, str]:
    """Call until the rate limit answers (at most `most` times): how many calls went through, and the refusal."""
    for n in range(most):
        result = await call(n)
        text = " ".join(getattr(part, "text", "") for part in result.content)
        if result.is_error and text.startswith("rate limit"):
            return n, text
    pytest.fail(f"{most} calls and no rate limit")


async def test_a_loop_of_reads_on_a_shared_token_does_not_hold_back_a_confirm_and_a_confirm_flood_is_limited(
    sim_factory: Callable[..., RunningSim], tmp_path: Path
) -> None:
    """Two clients share alice's token (one principal), as a team sharing one static token does: one loops on reads
    until refused; the other's confirm still runs. Then a loop on confirm_command is refused too: soon for one
    token, and at --rate-limit for made-up ones, so neither a stuck poller nor a guesser gets unbounded calls."""
    sim = sim_factory("bad-deploy")
    users = credentials_file(tmp_path, f"alice {ALICE}\nbob {BOB}\n")
    with http_server(sim, tmp_path, "--auth-token-file", str(users), "--rate-limit", "10") as url:
        async with client_as(url, ALICE) as planner, client_as(url, ALICE) as looping, client_as(url, BOB) as bob:
            planned = await planner.call_tool("rollback_deployment", {"namespace": NAMESPACE, "deployment": DEPLOYMENT})
            assert not planned.is_error and planned.structured_content is not None, planned.content
            token = planned.structured_content["token"]
            approved = await anyio.to_thread.run_sync(approve_out_of_band, token, tmp_path / "state")
            assert approved.returncode == 0, approved.stderr

            reads, refused = await until_limited(lambda n: looping.call_tool("server_info", {}))
            # Bounds with room for the refill (one call every 6 s) on a slow machine; the refusal's words are the point.
            assert reads < 20 and "a pending command can still be confirmed or cancelled" in refused, refused
            confirmed = await planner.call_tool("confirm_command", {"token": token})
            assert not confirmed.is_error and confirmed.structured_content is not None, confirmed.content
            assert confirmed.structured_content["status"] == "succeeded", confirmed.structured_content
            assert not (await bob.call_tool("server_info", {})).is_error

            # The looping client turns to confirm_command: its own confirms pass too (its reads were refused), and on
            # one token it is refused after a few calls.
            polls, refused = await until_limited(lambda n: looping.call_tool("confirm_command", {"token": token}))
            assert 1 <= polls < 2 * PER_TOKEN and "for this token" in refused, (polls, refused)
            # Made-up tokens (a guesser) are not held per token, but the principal's decisions stop them.
            guesses, refused = await until_limited(
                lambda n: looping.call_tool("confirm_command", {"token": f"made-up-{n}"})
            )
            assert guesses < 20 and "confirm_command/cancel_command calls a minute" in refused, (guesses, refused)
    with sqlite3.connect(tmp_path / "state" / DB_NAME) as db:
        rows = dict(db.execute("SELECT tool, COUNT(*) FROM tool_calls GROUP BY tool").fetchall())
    # Only what went through was recorded: the plan, the reads, the confirm, the polls and the guesses.
    assert rows.get("confirm_command") == 1 + polls + guesses, rows
    assert rows.get("server_info") == reads + 1, rows  # and bob's one

"""Over HTTP each principal gets a bounded number of tool calls per minute (`--rate-limit`): a client looping on
calls (every call is a journal entry; in team mode an object in etcd) is refused with a tool error that says how
long to wait, nothing of the refused call is run or recorded, and another principal is not slowed by it."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from pathlib import Path

import pytest
from support.http_server import client_as, credentials_file, http_server

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

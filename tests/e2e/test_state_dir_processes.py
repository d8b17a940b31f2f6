"""Processes sharing one state directory, as the server and the approve CLI do: the journal's claims race fairly
across processes, and a claim whose process was killed (SIGKILL) mid-execution is relabelled `unknown`, never run
again. Real processes, so this is not in the unit tier.
"""

from __future__ import annotations

import socket
import subprocess
import sys
import textwrap
from pathlib import Path

import anyio
import anyio.to_thread
import pytest
from support.fakekube import FakeKube, seat
from support.journals import plan, scale_draft

from incident_response.tools.engine.journal import Journal
from incident_response.tools.engine.pending import ABANDONED, PendingEngine

pytestmark = pytest.mark.anyio

# Claims the token in full mode, then hangs in the confirm-time re-read, where the test kills it (SIGKILL).
CHILD = r"""
import sys, time
from incident_response.tools.engine.binding import Binding, ClusterIdentity
from incident_response.tools.engine.journal import Journal
from incident_response.tools.engine.pending import PendingEngine

class Hang:
    context = "test"

    def get(self, resource, name, namespace=None):
        print("claimed", flush=True)
        time.sleep(600)

here = Binding(cluster=ClusterIdentity(server="https://fake.invalid", context="test"), mode="full", namespaces=[])
PendingEngine(Journal(sys.argv[1])).confirm(sys.argv[2], here=here, kube=Hang())
"""


async def killed_mid_execution(state: Path) -> tuple[PendingEngine, str, int]:
    """Propose a plan, let a child process claim it and die (SIGKILL) in the middle of executing it."""
    engine = PendingEngine(Journal(state))
    token = engine.propose(scale_draft(), seat("full")).token
    assert token is not None
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, str(state), token], stdout=subprocess.PIPE, text=True, stderr=subprocess.PIPE
    )
    assert child.stdout is not None
    try:
        with anyio.fail_after(30):
            line = await anyio.to_thread.run_sync(child.stdout.readline, abandon_on_cancel=True)
        assert line.strip() == "claimed", child.communicate(timeout=30)[1]
    finally:
        child.kill()
        child.wait(timeout=30)
    row = engine.journal.command(token)
    assert row is not None and row.state == "executing" and row.claimer is not None
    assert (row.claimer["pid"], row.claimer["host"]) == (child.pid, socket.gethostname())
    return engine, token, child.pid


async def test_confirm_after_the_claimer_was_killed_answers_unknown_and_says_to_verify(tmp_path: Path) -> None:
    engine, token, pid = await killed_mid_execution(tmp_path / "state")
    kube = FakeKube()
    answer = engine.confirm(token, here=seat("full"), kube=kube)
    assert answer.status == "unknown" and answer.message == ABANDONED and "before anything else" in answer.message
    assert kube.writes == []  # nothing is retried
    row = engine.journal.command(token)
    assert row is not None and row.state == "unknown" and row.result == {"status": "unknown", "message": ABANDONED}
    [event] = [e for e in engine.journal.events(token=token) if e.kind == "abandoned"]
    assert event.detail is not None and event.detail["claimer"]["pid"] == pid
    again = engine.confirm(token, here=seat("full"), kube=kube)
    assert again.status == "used" and "outcome: unknown" in again.message


async def test_listing_pending_commands_sweeps_abandoned_executions(tmp_path: Path) -> None:
    engine, token, _ = await killed_mid_execution(tmp_path / "state")
    assert engine.live() == []
    row = engine.journal.command(token)
    assert row is not None and row.state == "unknown"


def test_other_processes_see_committed_rows_and_race_fairly(tmp_path: Path) -> None:
    """Five processes race to claim one token: exactly one wins."""
    j = Journal(tmp_path)
    j.add_command(plan("t", "I"), state="approved")
    script = textwrap.dedent(f"""
        from incident_response.tools.engine.journal import Journal
        j = Journal({str(tmp_path)!r})
        print(j.transition("t", ["approved"], "executing", event="claimed"))
    """)
    procs = [subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True) for _ in range(5)]
    outputs = [p.communicate(timeout=60)[0].strip() for p in procs]
    assert sorted(outputs) == ["False"] * 4 + ["True"]
    assert [e.kind for e in j.events(token="t")] == ["proposed", "claimed"]

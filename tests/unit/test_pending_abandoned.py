"""A command claimed by a process that then died stays `executing` no longer: a later call relabels it `unknown`."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from support.fakekube import FakeKube, seat
from support.journals import scale_draft

from incident_response.tools.engine.claimers import CLAIM_LEASE, claimer
from incident_response.tools.engine.journal import DB_NAME, Journal
from incident_response.tools.engine.pending import PendingEngine

pytestmark = pytest.mark.anyio


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 8, 1, 12, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


def claimed_by(engine: PendingEngine, who: dict[str, object]) -> str:
    token = engine.propose(scale_draft(), seat("full")).token
    assert token is not None
    now = engine.clock().timestamp()
    assert engine.journal.transition(
        token, ("pending",), "executing", event="claimed", fields={"claimed_at": now, "claimer": who}
    )
    return token


def test_a_live_claimer_keeps_its_claim(tmp_path: Path) -> None:
    engine = PendingEngine(Journal(tmp_path), clock=Clock())
    token = claimed_by(engine, claimer(engine.clock().timestamp()))  # this very process
    assert engine.confirm(token, here=seat("full"), kube=FakeKube()).status == "used"
    engine.live()
    row = engine.journal.command(token)
    assert row is not None and row.state == "executing"


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="process start times come from /proc")
def test_a_claim_whose_pid_now_belongs_to_a_newer_process_is_relabelled_at_once(tmp_path: Path) -> None:
    """pid reuse: the pid runs, but a process started after the claimer's (its recorded start time differs)."""
    engine = PendingEngine(Journal(tmp_path), clock=Clock())
    mine = claimer(engine.clock().timestamp())
    assert isinstance(mine["started"], int)
    token = claimed_by(engine, {**mine, "started": mine["started"] - 1})  # same pid, an earlier (dead) process
    assert engine.confirm(token, here=seat("full"), kube=FakeKube()).status == "unknown"
    row = engine.journal.command(token)
    assert row is not None and row.state == "unknown"


def test_a_claim_from_another_host_is_relabelled_only_when_its_lease_ran_out(tmp_path: Path) -> None:
    clock = Clock()
    engine = PendingEngine(Journal(tmp_path), clock=clock)
    lease_until = clock().timestamp() + 60
    token = claimed_by(engine, {"pid": 1, "host": "another-host", "lease_until": lease_until})
    engine.live()
    assert (row := engine.journal.command(token)) is not None and row.state == "executing"
    clock.now += timedelta(seconds=61)
    assert engine.confirm(token, here=seat("full"), kube=FakeKube()).status == "unknown"


def test_a_claim_recorded_before_claimers_were_uses_the_lease(tmp_path: Path) -> None:
    clock = Clock()
    engine = PendingEngine(Journal(tmp_path), clock=clock)
    token = claimed_by(engine, {})
    engine.journal.transition(token, ("executing",), "executing", event="test", fields={"claimer": None})
    engine.live()
    assert (row := engine.journal.command(token)) is not None and row.state == "executing"
    clock.now += timedelta(seconds=CLAIM_LEASE + 1)
    engine.live()
    assert (row := engine.journal.command(token)) is not None and row.state == "unknown"


def test_a_journal_from_before_the_claimer_column_is_migrated(tmp_path: Path) -> None:
    db = sqlite3.connect(tmp_path / DB_NAME)
    db.execute(
        "CREATE TABLE commands (token TEXT PRIMARY KEY, incident TEXT NOT NULL, tool TEXT NOT NULL, state TEXT NOT "
        "NULL, plan TEXT NOT NULL, fingerprint TEXT NOT NULL, created_at REAL NOT NULL, expires_at REAL NOT NULL, "
        "approved_fingerprint TEXT, decided_by TEXT, decided_channel TEXT, decided_at REAL, claimed_at REAL, "
        "finished_at REAL, result TEXT, temporary INTEGER NOT NULL DEFAULT 0, restores TEXT)"
    )
    db.close()
    engine = PendingEngine(Journal(tmp_path))
    Journal(tmp_path)  # a second process opening the same journal finds it migrated
    token = engine.propose(scale_draft(), seat("full")).token
    assert token is not None and (row := engine.journal.command(token)) is not None and row.claimer is None

"""The journal's incidents: new columns on old journals, one open incident at a time, saves that lose a race."""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

import pytest
from support.journals import OLD_SCHEMA

from incident_response.tools.engine import journal as journal_module
from incident_response.tools.engine.journal import DB_NAME, IncidentRow, Journal


def test_a_journal_of_the_previous_schema_opens_with_the_new_columns(tmp_path: Path) -> None:
    db = sqlite3.connect(tmp_path / DB_NAME)
    db.executescript(OLD_SCHEMA)
    db.close()
    journal = Journal(tmp_path)
    old = journal.incident("inc-old")
    assert old is not None and old.status == "undeclared" and old.severity is None
    assert journal.current_incident() == "inc-old"
    declared = old.model_copy(update={"title": "checkout down", "severity": "SEV2", "declared_at": 1700000100.0})
    assert journal.save_incident(old, declared, [("declared", {"severity": "SEV2"})]) == declared
    assert journal.incident("inc-old") == declared
    assert [e.kind for e in journal.events(incident="inc-old")] == ["incident_opened", "declared"]
    columns = {row[1] for row in sqlite3.connect(journal.path).execute("PRAGMA table_info(incidents)")}
    assert {"severity", "namespace", "declared_at", "stabilized_at", "scope"} <= columns


@pytest.mark.parametrize("first_look", ["current", "by id"])
def test_an_incident_from_before_scopes_is_taken_by_the_first_scoped_server(tmp_path: Path, first_look: str) -> None:
    with sqlite3.connect(tmp_path / DB_NAME) as db:
        db.executescript(OLD_SCHEMA)
    shop, payments = Journal(tmp_path, scope=lambda: "a" * 32), Journal(tmp_path, scope=lambda: "b" * 32)
    taken = shop.current_incident() if first_look == "current" else shop.incident("inc-old")
    assert taken == "inc-old" or (taken is not None and not isinstance(taken, str) and taken.scope == "a" * 32)
    assert payments.incident("inc-old") is None and payments.current_incident() != "inc-old"
    assert shop.current_incident() == "inc-old" and [i.id for i in shop.incidents()] == ["inc-old"]


def test_incident_ids_stay_unique_when_several_open_in_one_second(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # One second for all three, by a fixed clock rather than by the machine being fast enough.
    monkeypatch.setattr(journal_module.time, "time", lambda: 1_800_000_000.25)
    journal = Journal(tmp_path)
    ids = [journal.open_incident("untitled incident") for _ in range(3)]
    assert len(set(ids)) == 3
    assert ids[1] == ids[0] + "-2" and ids[2] == ids[0] + "-3"


def test_processes_starting_at_once_open_one_incident(tmp_path: Path) -> None:
    Journal(tmp_path)  # schema first, as a server does before serving
    barrier, found = threading.Barrier(6), list[str]()

    def attribute() -> None:
        journal = Journal(tmp_path)
        barrier.wait()
        found.append(journal.current_incident())

    threads = [threading.Thread(target=attribute) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert len(found) == 6 and len(set(found)) == 1
    assert len(Journal(tmp_path).incidents()) == 1


def test_a_new_incident_is_saved_only_while_none_is_open(tmp_path: Path) -> None:
    journal = Journal(tmp_path)
    first = journal.current_incident()
    new = IncidentRow(id="", title="second", opened_at=1.0, severity="SEV3", declared_at=1.0)
    assert journal.save_incident(None, new, [("declared", {})]) is None
    assert [i.id for i in journal.incidents()] == [first]
    assert [e.kind for e in journal.events()] == ["incident_opened"]


def test_a_save_over_a_row_that_changed_meanwhile_writes_nothing(tmp_path: Path) -> None:
    journal = Journal(tmp_path)
    row = journal.incident(journal.current_incident())
    assert row is not None
    ours = row.model_copy(update={"title": "ours", "severity": "SEV2", "declared_at": 5.0})
    theirs = row.model_copy(update={"title": "theirs", "severity": "SEV1", "declared_at": 6.0})
    assert journal.save_incident(row, theirs, [("declared", {"by": "them"})]) == theirs
    assert journal.save_incident(row, ours, [("declared", {"by": "us"})]) is None
    assert journal.incident(row.id) == theirs
    assert [e.detail for e in journal.events(incident=row.id) if e.kind == "declared"] == [{"by": "them"}]


def test_resolved_incidents_are_not_current_and_the_next_call_opens_a_fresh_one(tmp_path: Path) -> None:
    journal = Journal(tmp_path)
    row = journal.incident(journal.current_incident())
    assert row is not None
    journal.save_incident(row, row.model_copy(update={"closed_at": row.opened_at + 1}), [("resolved", {})])
    fresh = journal.current_incident()
    assert fresh != row.id
    assert [(i.id, i.status) for i in journal.incidents()] == [(fresh, "undeclared"), (row.id, "resolved")]
    assert [i.id for i in journal.incidents(open_only=True)] == [fresh]

from pathlib import Path
from typing import Any

from support.journals import plan

from incident_response.tools.engine.journal import Journal
from incident_response.tools.engine.pending import new_token


def test_state_dir_is_private_and_wal(tmp_path: Path) -> None:
    j = Journal(tmp_path / "s")
    assert (tmp_path / "s").stat().st_mode & 0o777 == 0o700
    assert j.path.stat().st_mode & 0o777 == 0o600
    import sqlite3

    assert sqlite3.connect(j.path).execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_current_incident_is_opened_once(tmp_path: Path) -> None:
    j = Journal(tmp_path)
    first = j.current_incident()
    assert j.current_incident() == first
    named = j.open_incident("checkout down", incident_id="INC-7")
    assert named == "INC-7" and j.current_incident() == "INC-7"


def test_tool_calls_are_recorded_with_arguments_and_duration(tmp_path: Path) -> None:
    j = Journal(tmp_path)
    j.record_tool_call("list_pods", {"namespace": "shop"}, status="ok", duration_ms=12.5, incident="I")
    token = new_token()
    j.record_tool_call("confirm_command", {"token": token}, status="error", duration_ms=1, error="boom", incident="I")
    calls = j.tool_calls(incident="I")
    assert [(c.tool, c.arguments, c.status) for c in calls] == [
        ("list_pods", {"namespace": "shop"}, "ok"),
        ("confirm_command", {"token": token}, "error"),
    ]
    assert calls[1].error == "boom" and calls[0].duration_ms == 12.5


def test_transition_is_conditional_and_writes_its_event(tmp_path: Path) -> None:
    j = Journal(tmp_path)
    j.add_command(plan("t1", "I"), state="pending")
    assert j.transition(
        "t1", ["pending"], "approved", event="approved", actor="alice", channel="cli", fields={"decided_by": "alice"}
    )
    assert not j.transition("t1", ["pending"], "denied", event="denied")
    row = j.command("t1")
    assert row and row.state == "approved" and row.decided_by == "alice"
    assert [(e.kind, e.actor) for e in j.events(incident="I")] == [("proposed", None), ("approved", "alice")]


def test_expired_rows_cannot_be_claimed(tmp_path: Path) -> None:
    j = Journal(tmp_path)
    j.add_command(plan("t", "I"), state="approved")
    row = j.command("t")
    assert row
    assert not j.transition("t", ["approved"], "executing", event="claimed", unexpired_at=row.expires_at)
    assert j.transition("t", ["approved"], "executing", event="claimed", unexpired_at=row.expires_at - 1)


def test_temporary_measures_exclude_restored_ones(tmp_path: Path) -> None:
    j = Journal(tmp_path)
    measures: list[tuple[str, dict[str, Any]]] = [
        ("cordon", {"temporary": True}),
        ("isolate", {"temporary": True}),
        ("uncordon", {"restores": "cordon"}),
        ("scale", {}),
    ]
    for token, extra in measures:
        j.add_command(plan(token, "I", **extra), state="succeeded")
    assert [m.token for m in j.temporary_measures()] == ["isolate"]


def test_one_connection_and_only_the_per_call_records_skip_the_sync(tmp_path: Path, monkeypatch: Any) -> None:
    """Plans, decisions, claims and declared incidents commit synced to disk (synchronous=FULL: a claim survives power
    loss, so a command cannot run twice after a reboot); the per-call records (tool calls, timeline notes) and the
    untitled incident a call opens to gather them commit NORMAL, which a process crash cannot lose (the next synced
    commit syncs them too). One connection serves the journal: opening one per call (and closing the last one, which
    checkpoints the WAL) cost more than the write."""
    import sqlite3

    statements: list[str] = []
    connect = sqlite3.connect

    def traced(*args: Any, **kwargs: Any) -> sqlite3.Connection:
        db = connect(*args, **kwargs)
        statements.append("CONNECT")
        db.set_trace_callback(statements.append)
        return db

    monkeypatch.setattr(sqlite3, "connect", traced)
    j = Journal(tmp_path)
    ops = {
        "current_incident": lambda: j.current_incident("shop"),
        "open_incident": lambda: j.open_incident("checkout down", incident_id="I"),
        "record_tool_call": lambda: j.record_tool_call("list_pods", {}, status="ok", duration_ms=1, incident="I"),
        "add_command": lambda: j.add_command(plan("t", "I"), state="pending"),
        "record_event": lambda: j.record_event("assessed", incident="I", detail={}),
        "transition": lambda: j.transition("t", ["pending"], "executing", event="claimed"),
    }
    synced: dict[str, bool] = {}
    for name, op in ops.items():
        start = len(statements)
        op()
        level = next(
            (s.split("=")[1] for s in reversed(statements[:start]) if s.startswith("PRAGMA synchronous=")), "FULL"
        )
        for s in statements[start:]:
            if s.startswith("PRAGMA synchronous="):
                level = s.split("=")[1]
            if s == "COMMIT":
                synced[name] = level == "FULL"
    assert synced == {
        "current_incident": False,
        "open_incident": True,
        "record_tool_call": False,
        "add_command": True,
        "record_event": False,
        "transition": True,
    }
    assert statements.count("CONNECT") == 1


def test_times_come_from_the_injected_clock(tmp_path: Path) -> None:
    later = 1_900_000_000.0  # 2030: far from the wall clock
    j = Journal(tmp_path, clock=lambda: later)
    incident = j.open_incident("checkout down")
    j.record_tool_call("list_pods", {}, status="ok", duration_ms=1, incident=incident)
    j.add_command(plan("t", incident), state="pending")
    j.transition("t", ["pending"], "approved", event="approved")
    j.record_event("assessed", incident=incident)
    row = j.incident(incident)
    assert row is not None and row.opened_at == later
    assert [c.at for c in j.tool_calls(incident=incident)] == [later]
    assert {e.at for e in j.events(incident=incident)} == {later}
    assert j.record_event("verified", incident=incident, at=later + 60) is None
    assert j.events(incident=incident)[-1].at == later + 60  # a time the caller gives still wins


def test_the_warm_ups_write_changes_nothing_and_leaves_the_first_record_a_plain_insert(
    tmp_path: Path, monkeypatch: Any
) -> None:
    """Journal.prepare_writes (the server's warm-up) pays what the first tool call's record paid: the switch to
    synchronous=NORMAL and the first write of the process (a new WAL, its header synced). The journal's content and
    user_version are what they were."""
    import sqlite3

    j = Journal(tmp_path)
    j.record_tool_call("list_pods", {"namespace": "shop"}, status="ok", duration_ms=1, incident="I")

    def content() -> list[Any]:
        db = sqlite3.connect(j.path)
        try:
            tables = [r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")]
            version = db.execute("PRAGMA user_version").fetchone()[0]
            return [version, *[(t, db.execute(f"SELECT * FROM {t} ORDER BY rowid").fetchall()) for t in tables]]
        finally:
            db.close()

    before = content()
    fresh = Journal(tmp_path)  # another process's connection: its first write
    statements: list[str] = []
    with fresh._connect() as db:
        db.set_trace_callback(statements.append)
    fresh.prepare_writes()
    assert "PRAGMA synchronous=NORMAL" in statements and "COMMIT" in statements
    assert content() == before
    statements.clear()
    fresh.record_tool_call("list_pods", {"namespace": "shop"}, status="ok", duration_ms=1, incident="I")
    assert [s.split(" ")[0] for s in statements] == ["BEGIN", "INSERT", "COMMIT"]

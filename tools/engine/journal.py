"""The incident journal: one SQLite file in the state directory, shared by every server process and the CLI.

WAL mode, so several processes on one host can read while one writes, and every committed row survives a crash of
the process (SIGKILL included). Every state change of a pending command is one conditional UPDATE inside a
`BEGIN IMMEDIATE` transaction together with its timeline event, so two processes can never both win a transition.
Those writes (plans, approvals, claims, outcomes, incidents) commit with `synchronous=FULL`: durable on disk before
the call returns, so a claim survives power loss too and a command cannot run twice after a reboot. The per-call
records (tool calls, timeline notes such as an assessment or a verification) commit with `synchronous=NORMAL`: a
power loss may lose the last of them (never a process crash), and the next durable write syncs them anyway; on a
disk that is ~20 ms less per tool call. So does the untitled incident a call opens when none is open
(`current_incident`): it only gathers those records, and the first durable write that names it (a plan, a
declaration) syncs it with them, since one sync of the WAL covers every commit before it.

One connection per journal and process, used under a lock (tools run in worker threads; opening a connection and
setting it up per call cost more than the write). Times come from the server's clock (`clock`: the injected one in
tests), so the timeline and the plans' times agree.

The schema and the masking boundary of its writes are in journal_sql.py; who claimed a command and whether it can
still finish, in claimers.py; the refusal of a state directory others may write, in state_dir_guard.py.

Layer: tools.engine.
"""

from __future__ import annotations

import itertools
import os
import secrets
import sqlite3
import threading
import time
import weakref
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

from incident_response.tools.engine import attribution, store
from incident_response.tools.engine.journal_sql import (
    ADDED_COLUMNS,
    INCIDENT_COLUMNS,
    INSERT_INCIDENT,
    NEWEST_FIRST,
    SCHEMA,
    MaskingConnection,
    command_row,
    dumps,
    loads,
)
from incident_response.tools.engine.records import (  # re-exported: the rows were defined here first
    UNTITLED as UNTITLED,
)
from incident_response.tools.engine.records import (
    CommandRow as CommandRow,
)
from incident_response.tools.engine.records import (
    Event as Event,
)
from incident_response.tools.engine.records import (
    IncidentRow as IncidentRow,
)
from incident_response.tools.engine.records import (
    IncidentStatus as IncidentStatus,
)
from incident_response.tools.engine.records import (
    ToolCall as ToolCall,
)
from incident_response.tools.engine.state_dir_guard import refuse_shared

DB_NAME = "journal.sqlite3"
SEAL_KEY_NAME = "seal.key"


class Journal:
    """The SQLite store (tools.engine.store.Store): tool calls, pending commands and the incident timeline."""

    def __init__(
        self,
        state_dir: str | os.PathLike[str],
        *,
        scope: Callable[[], str] | None = None,
        clock: Callable[[], float] | None = None,
    ) -> None:
        """`scope`: the incident scope of the server this store serves (tools.engine.incident_scope), asked when an
        incident is read or opened; without it (the approve CLI, tests) the store reads every scope's incidents.
        `clock`: the server's time in epoch seconds (default the wall clock's)."""
        self.state_dir = Path(state_dir)
        self.scope = scope
        self.clock = clock or time.time
        self._lock = threading.RLock()
        self._db: sqlite3.Connection | None = None
        self._pid = 0
        self._full = True
        # The state dir holds live tokens: readable by this OS user only.
        self.state_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        refuse_shared(self.state_dir)
        self.path = self.state_dir / DB_NAME
        with self._connect() as db:
            db.execute("PRAGMA journal_mode=WAL")
            db.executescript(SCHEMA)
        with self._write() as db:
            for table, columns in ADDED_COLUMNS.items():
                have = {row["name"] for row in db.execute(f"PRAGMA table_info({table})")}
                for column, kind in columns.items():
                    if column not in have:
                        db.execute(f"ALTER TABLE {table} ADD COLUMN {column} {kind}")
        os.chmod(self.path, 0o600)

    def approve_flags(self) -> str:
        return f"--state-dir {self.state_dir}"

    def prepare_writes(self) -> None:
        """What this process's first record would otherwise pay (the server's warm-up calls it): once the last
        process has closed the journal, the next write starts a new WAL and syncs its header (~4-19 ms on a loaded
        disk, in the first tool call). Paid by a write that changes nothing: user_version (unused) set to itself."""
        with self._write(durable=False) as db:
            (version,) = db.execute("PRAGMA user_version").fetchone()
            db.execute(f"PRAGMA user_version={int(version)}")

    def seal_key(self) -> bytes:
        """The key of sealed values' digests (plan.seal_digest), beside the journal but not in it: a copy of the
        journal file alone cannot be used to test guesses of what it sealed. Made once, by whichever process is
        first (link() is atomic: a second writer finds the first one's key)."""
        path = self.state_dir / SEAL_KEY_NAME
        if not path.exists():
            fresh = self.state_dir / f".{SEAL_KEY_NAME}.{os.getpid()}.{secrets.token_hex(4)}"
            descriptor = os.open(fresh, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(descriptor, "wb") as out:
                out.write(secrets.token_bytes(32))
            try:
                os.link(fresh, path)
            except FileExistsError:
                pass
            finally:
                fresh.unlink()
        return path.read_bytes()

    @contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        """This process's connection, held alone by the caller until the block ends."""
        with self._lock:
            if self._db is None or self._pid != os.getpid():  # a connection must not cross a fork
                db = sqlite3.connect(self.path, timeout=30, isolation_level=None, check_same_thread=False)
                db.row_factory = sqlite3.Row
                db.execute("PRAGMA synchronous=FULL")
                db.execute("PRAGMA busy_timeout=30000")
                weakref.finalize(self, _close, db, os.getpid())
                self._db, self._pid, self._full = db, os.getpid(), True
            yield self._db

    @contextmanager
    def _write(self, *, durable: bool = True) -> Iterator[MaskingConnection]:
        """One IMMEDIATE transaction: takes the write lock up front, so check-then-update cannot interleave.
        `durable`: synced to disk at commit (synchronous=FULL); else NORMAL (see the module's docstring)."""
        with self._connect() as db:
            if durable != self._full:
                db.execute(f"PRAGMA synchronous={'FULL' if durable else 'NORMAL'}")
                self._full = durable
            db.execute("BEGIN IMMEDIATE")
            try:
                yield MaskingConnection(db)
            except BaseException:
                db.execute("ROLLBACK")
                raise
            db.execute("COMMIT")

    def _select(self, table: str, order_by: str, **equal: str | tuple[str, ...] | None) -> list[sqlite3.Row]:
        """Rows of `table` whose columns equal the given values (a tuple: any of them); None means any value."""
        query, args = f"SELECT * FROM {table} WHERE 1=1", list[Any]()
        for column, value in equal.items():
            if isinstance(value, tuple):
                query += f" AND {column} IN ({', '.join('?' for _ in value)})"
                args += value
            elif value is not None:
                query, args = query + f" AND {column} = ?", [*args, value]
        with self._connect() as db:
            return db.execute(f"{query} ORDER BY {order_by}", args).fetchall()

    @staticmethod
    def _event(
        db: MaskingConnection,
        kind: str,
        *,
        incident: str | None,
        token: str | None = None,
        actor: str | None = None,
        channel: str | None = None,
        detail: dict[str, Any] | None = None,
        at: float,
    ) -> None:
        db.execute(
            "INSERT INTO events (incident, at, token, kind, actor, channel, detail) VALUES (?, ?, ?, ?, ?, ?, ?)",
            (incident, at, token, kind, actor, channel, None if detail is None else dumps(detail)),
        )

    # --- incidents ------------------------------------------------------------------------------------------------

    @staticmethod
    def _insert_incident(db: MaskingConnection, row: IncidentRow) -> IncidentRow:
        """Insert `row`; an empty id gets a fresh one, made unique within the journal (several may open per second)."""
        if not row.id:
            base = time.strftime("inc-%Y%m%d-%H%M%S", time.gmtime(row.opened_at)) + f"-{os.getpid() % 10000}"
            taken = {r["id"] for r in db.execute("SELECT id FROM incidents WHERE id LIKE ?", (base + "%",))}
            row = row.model_copy(update={"id": next(c for c in _candidates(base) if c not in taken)})
        db.execute(INSERT_INCIDENT, [getattr(row, column) for column in INCIDENT_COLUMNS])
        return row

    def _scoped(self) -> tuple[str, list[Any]]:
        """A WHERE clause's condition on this store's incident scope ("" without one)."""
        return ("", []) if self.scope is None else (" AND scope = ?", [self.scope()])

    def _open(self, db: MaskingConnection | sqlite3.Connection) -> list[IncidentRow]:
        """The open incidents of this store's scope, newest first."""
        condition, args = self._scoped()
        rows = db.execute(f"SELECT * FROM incidents WHERE closed_at IS NULL{condition} {NEWEST_FIRST}", args)
        return [IncidentRow(**dict(r)) for r in rows.fetchall()]

    def _stamped(self, row: IncidentRow) -> IncidentRow:
        return row if self.scope is None else row.model_copy(update={"scope": self.scope()})

    def open_incident(self, title: str, *, incident_id: str | None = None) -> str:
        opened = self.clock()
        fresh = self._stamped(IncidentRow(id=incident_id or "", title=title, opened_at=opened))
        with self._write() as db:
            row = self._insert_incident(db, fresh)
            self._event(db, "incident_opened", incident=row.id, detail={"title": title}, at=opened)
        return row.id

    def current_incident(self, namespace: str | None = None) -> str:
        """The open incident a call in `namespace` belongs to (tools.engine.attribution); opens an untitled one when
        none fits, so nothing is unattributed."""
        with self._connect() as db:
            found = attribution.incident_for(self._open(db), namespace)
        if found is not None:
            return found.id
        opened = self.clock()
        fresh = self._stamped(IncidentRow(id="", title=UNTITLED, opened_at=opened))
        with self._write(durable=False) as db:  # as durable as the call records it gathers (module docstring)
            # Re-checked under the write lock: two processes starting at once must not open two incidents.
            found = attribution.incident_for(self._open(db), namespace)
            if found is not None:
                return found.id
            unclaimed = None if self.scope is None else self._claim_open(db, namespace)
            if unclaimed is not None:
                return unclaimed
            row = self._insert_incident(db, fresh)
            self._event(db, "incident_opened", incident=row.id, detail={"title": UNTITLED}, at=opened)
        return row.id

    def _claim_open(self, db: MaskingConnection, namespace: str | None) -> str | None:
        """An incident opened before incidents had scopes (its server unknown) is taken by the first scoped server
        that looks for its own open incident (in its namespace), so an upgrade mid-incident keeps working on it."""
        rows = db.execute(f"SELECT * FROM incidents WHERE closed_at IS NULL AND scope IS NULL {NEWEST_FIRST}")
        found = attribution.incident_for([IncidentRow(**dict(r)) for r in rows.fetchall()], namespace)
        if found is None:
            return None
        db.execute("UPDATE incidents SET scope = ? WHERE id = ? AND scope IS NULL", [self._scoped()[1][0], found.id])
        return found.id

    def incident(self, incident_id: str) -> IncidentRow | None:
        """The incident, if it is of this store's scope (one from before scopes is taken by the first to name it)."""
        with self._connect() as db:
            found = db.execute("SELECT * FROM incidents WHERE id = ?", [incident_id]).fetchone()
        condition, args = self._scoped()
        if found is not None and args and found["scope"] is None:
            with self._write() as db:
                db.execute("UPDATE incidents SET scope = ? WHERE id = ? AND scope IS NULL", [*args, incident_id])
                found = db.execute("SELECT * FROM incidents WHERE id = ?", [incident_id]).fetchone()
        if found is None or (args and found["scope"] != args[0]):
            return None
        return IncidentRow(**dict(found))

    def incidents(self, *, open_only: bool = False, limit: int = 20) -> list[IncidentRow]:
        """Newest first, of this store's scope."""
        condition, args = self._scoped()
        where = " AND closed_at IS NULL" if open_only else ""
        with self._connect() as db:
            rows = db.execute(
                f"SELECT * FROM incidents WHERE 1=1{where}{condition} {NEWEST_FIRST} LIMIT ?", [*args, limit]
            ).fetchall()
        return [IncidentRow(**dict(r)) for r in rows]

    def save_incident(
        self,
        before: IncidentRow | None,
        after: IncidentRow,
        events: Sequence[tuple[str, dict[str, Any]]],
        *,
        at: float | None = None,
    ) -> IncidentRow | None:
        """Write `after` and its timeline events in one transaction, only if the journal still holds `before`.

        `before` None inserts a new incident, only while no incident of this store's scope is open for its namespace
        (one open incident per namespace, and one without; it gets the store's scope). Returns the saved row, or None
        when another process changed things first: read again and decide again. `at` dates the events (the server's
        clock when the change is dated by it, as a verification's stabilization is).
        """
        now = self.clock() if at is None else at
        with self._write() as db:
            if before is None:
                if any(attribution.same_lane(row, after.namespace) for row in self._open(db)):
                    return None
                after = self._insert_incident(db, self._stamped(after))
            else:
                found = db.execute("SELECT * FROM incidents WHERE id = ?", (before.id,)).fetchone()
                if found is None or IncidentRow(**dict(found)) != before:
                    return None
                moved = after.namespace is not None and after.namespace != before.namespace and after.closed_at is None
                others = [r for r in self._open(db) if r.id != before.id]
                if moved and any(attribution.same_lane(r, after.namespace) for r in others):
                    return None  # another incident is open for that namespace (declare_incident says which)
                after = after.model_copy(update={"scope": before.scope})  # an incident stays in its scope
                columns = [c for c in INCIDENT_COLUMNS if c != "id"]
                db.execute(
                    f"UPDATE incidents SET {', '.join(f'{c} = ?' for c in columns)} WHERE id = ?",
                    [*(getattr(after, c) for c in columns), before.id],
                )
            for kind, detail in events:
                self._event(db, kind, incident=after.id, detail=detail, at=now)
        return after

    # --- tool calls -----------------------------------------------------------------------------------------------

    def record_tool_call(
        self,
        tool: str,
        arguments: dict[str, Any],
        *,
        status: str,
        duration_ms: float,
        error: str | None = None,
        incident: str | None = None,
        cluster: dict[str, Any] | None = None,
    ) -> None:
        with self._write(durable=False) as db:
            db.execute(
                "INSERT INTO tool_calls (incident, at, tool, arguments, status, error, duration_ms, pid, cluster)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    incident,
                    self.clock(),
                    tool,
                    dumps(arguments),
                    status,
                    error,
                    duration_ms,
                    os.getpid(),
                    None if cluster is None else dumps(cluster),
                ),
            )

    def tool_calls(self, *, incident: str | None = None, tool: str | None = None) -> list[ToolCall]:
        rows = self._select("tool_calls", "id", incident=incident, tool=tool)
        return [
            ToolCall(**{**dict(r), "arguments": loads(r["arguments"]), "cluster": loads(r["cluster"])}) for r in rows
        ]

    # --- pending commands -----------------------------------------------------------------------------------------

    def add_command(self, plan: dict[str, Any], *, state: str, actor: str | None = None) -> None:
        """Store a proposed command and its `proposed` event in one transaction."""
        with self._write() as db:
            db.execute(
                "INSERT INTO commands (token, incident, tool, state, plan, fingerprint, created_at, expires_at,"
                " temporary, restores) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    plan["token"],
                    plan["incident"],
                    plan["tool"],
                    state,
                    dumps(plan),
                    plan["fingerprint"],
                    _epoch(plan["created_at"]),
                    _epoch(plan["expires_at"]),
                    int(bool(plan.get("temporary"))),
                    plan.get("restores"),
                ),
            )
            self._event(
                db,
                "proposed",
                incident=plan["incident"],
                token=plan["token"],
                actor=actor,
                detail={"tool": plan["tool"], "command": plan.get("command"), "summary": plan.get("summary")},
                at=self.clock(),
            )

    def record_event(
        self,
        kind: str,
        *,
        incident: str | None,
        token: str | None = None,
        actor: str | None = None,
        channel: str | None = None,
        detail: dict[str, Any] | None = None,
        at: float | None = None,
    ) -> None:
        when = self.clock() if at is None else at
        with self._write(durable=False) as db:
            self._event(db, kind, incident=incident, token=token, actor=actor, channel=channel, detail=detail, at=when)

    def transition(
        self,
        token: str,
        from_states: Sequence[str],
        to_state: str,
        *,
        event: str,
        unexpired_at: float | None = None,
        actor: str | None = None,
        channel: str | None = None,
        detail: dict[str, Any] | None = None,
        fields: dict[str, Any] | None = None,
    ) -> bool:
        """Move a command from one of `from_states` to `to_state` if it is still there; True if this call won.

        `unexpired_at` adds the condition `expires_at > unexpired_at`. The event is written in the same
        transaction, so the timeline never shows a transition that did not happen, or misses one that did.
        """
        sets = {"state": to_state, **(fields or {})}
        for key in ("result", "claimer"):
            if key in sets and sets[key] is not None:
                sets[key] = dumps(sets[key])
        assignments = ", ".join(f"{column} = ?" for column in sets)
        marks = ", ".join("?" for _ in from_states)
        query = f"UPDATE commands SET {assignments} WHERE token = ? AND state IN ({marks})"
        args: list[Any] = [*sets.values(), token, *from_states]
        if unexpired_at is not None:
            query += " AND expires_at > ?"
            args.append(unexpired_at)
        with self._write() as db:
            won = db.execute(query, args).rowcount == 1
            if won:
                row = db.execute("SELECT incident FROM commands WHERE token = ?", (token,)).fetchone()
                self._event(
                    db,
                    event,
                    incident=row["incident"],
                    token=token,
                    actor=actor,
                    channel=channel,
                    detail=detail,
                    at=self.clock(),
                )
        return won

    def command(self, token: str) -> CommandRow | None:
        with self._connect() as db:
            row = db.execute("SELECT * FROM commands WHERE token = ?", (token,)).fetchone()
        return None if row is None else command_row(row)

    def commands(self, *, states: Sequence[str] | None = None, incident: str | None = None) -> list[CommandRow]:
        rows = self._select("commands", "created_at", state=tuple(states) if states else None, incident=incident)
        return [command_row(r) for r in rows]

    def temporary_measures(self, *, incident: str | None = None) -> list[CommandRow]:
        """Commands that left a temporary measure (succeeded, or partly applied: a drain that cordoned and then
        stopped leaves the cordon), minus those a later succeeded command restored."""
        # Over every incident's commands: a measure may be ended by a command of a later incident (or of another
        # server's, whose incidents are its own).
        closed = {e.token for e in self.events() if e.kind == store.REVERTED_OUTSIDE and e.token}
        measures = store.temporary_measures(self.commands(states=["succeeded", "partial"]), closed)
        return [m for m in measures if incident is None or m.incident == incident]

    def claimer_lost(self, row: CommandRow) -> bool:
        return False  # one host: claimers.claimer_gone's pid checks are all there is

    # --- the timeline ---------------------------------------------------------------------------------------------

    def events(self, *, incident: str | None = None, token: str | None = None) -> list[Event]:
        rows = self._select("events", "id", incident=incident, token=token)
        return [Event(**{**dict(r), "detail": loads(r["detail"])}) for r in rows]


def _close(db: sqlite3.Connection, pid: int) -> None:
    if os.getpid() == pid:  # a forked child leaves its parent's connection alone
        db.close()


def _candidates(base: str) -> Iterator[str]:
    yield base
    for n in itertools.count(2):
        yield f"{base}-{n}"


def _epoch(value: Any) -> float:
    """Plans carry ISO datetimes (pydantic JSON); columns hold epoch seconds for cheap comparisons."""
    if isinstance(value, datetime):
        return value.timestamp()
    return datetime.fromisoformat(str(value)).timestamp()

"""The journal's SQLite schema and rows, and its side of the masking boundary: every value a write puts into the
file passes the masker (MaskingConnection), JSON columns are masked as data (dumps) and read back (loads).

Layer: tools.engine.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Sequence
from typing import Any

from incident_response.tools.core.masking import mask_data, mask_text
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

SCHEMA = """
CREATE TABLE IF NOT EXISTS incidents (
    id TEXT PRIMARY KEY, title TEXT NOT NULL, opened_at REAL NOT NULL, closed_at REAL,
    severity TEXT, namespace TEXT, declared_at REAL, stabilized_at REAL, scope TEXT
);
CREATE TABLE IF NOT EXISTS tool_calls (
    id INTEGER PRIMARY KEY AUTOINCREMENT, incident TEXT, at REAL NOT NULL, tool TEXT NOT NULL,
    arguments TEXT NOT NULL, status TEXT NOT NULL, error TEXT, duration_ms REAL NOT NULL, pid INTEGER, cluster TEXT
);
CREATE TABLE IF NOT EXISTS commands (
    token TEXT PRIMARY KEY, incident TEXT NOT NULL, tool TEXT NOT NULL, state TEXT NOT NULL,
    plan TEXT NOT NULL, fingerprint TEXT NOT NULL, created_at REAL NOT NULL, expires_at REAL NOT NULL,
    approved_fingerprint TEXT, decided_by TEXT, decided_channel TEXT, decided_at REAL,
    claimed_at REAL, finished_at REAL, result TEXT, temporary INTEGER NOT NULL DEFAULT 0, restores TEXT,
    claimer TEXT, decided_principal TEXT
);
CREATE TABLE IF NOT EXISTS events (
    id INTEGER PRIMARY KEY AUTOINCREMENT, incident TEXT, at REAL NOT NULL, token TEXT, kind TEXT NOT NULL,
    actor TEXT, channel TEXT, detail TEXT
);
CREATE INDEX IF NOT EXISTS events_incident ON events (incident, id);
CREATE INDEX IF NOT EXISTS commands_state ON commands (state);
"""
# Columns added after the first release, for journals created before them.
ADDED_COLUMNS = {
    "commands": {"claimer": "TEXT", "decided_principal": "TEXT"},
    "tool_calls": {"cluster": "TEXT"},
    "incidents": {
        "severity": "TEXT",
        "namespace": "TEXT",
        "declared_at": "REAL",
        "stabilized_at": "REAL",
        "scope": "TEXT",
    },
}
NEWEST_FIRST = "ORDER BY opened_at DESC, rowid DESC"


class Masked(str):
    """A column value that has been through the masker already (JSON masked as data, keys and positions counting)."""


def dumps(value: Any) -> Masked:
    plain = json.loads(json.dumps(value, default=str))
    return Masked(json.dumps(mask_data(plain), sort_keys=True))


class MaskingConnection:
    """The journal's side of the masking boundary (README, Secrets): every value a write puts into the file passes
    the masker; values that only find rows (the WHERE clause's) do not, so a lookup still finds its row."""

    def __init__(self, db: sqlite3.Connection) -> None:
        self.db = db

    def execute(self, sql: str, parameters: Sequence[Any] = ()) -> sqlite3.Cursor:
        head, where, _ = sql.upper().partition(" WHERE ")
        written = len(parameters) - (sql[len(head) :].count("?") if where else 0)
        masked = [
            mask_text(p) if i < written and isinstance(p, str) and not isinstance(p, Masked) else p
            for i, p in enumerate(parameters)
        ]
        return self.db.execute(sql, masked)


def loads(value: str | None) -> Any:
    return None if value is None else json.loads(value)


INCIDENT_COLUMNS = tuple(IncidentRow.model_fields)
INSERT_INCIDENT = (
    f"INSERT INTO incidents ({', '.join(INCIDENT_COLUMNS)}) VALUES ({', '.join('?' for _ in INCIDENT_COLUMNS)})"
)


def command_row(row: sqlite3.Row) -> CommandRow:
    data = dict(row)
    data["plan"] = loads(data["plan"])
    data["result"] = loads(data["result"])
    data["claimer"] = loads(data.get("claimer"))
    data["temporary"] = bool(data["temporary"])
    return CommandRow(**data)

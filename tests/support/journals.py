"""Journal files as earlier releases wrote them, for the tests that open an old journal."""

# The schema as the first release created it: no severity, namespace, declared_at, stabilized_at, claimer.
OLD_SCHEMA = """
CREATE TABLE incidents (id TEXT PRIMARY KEY, title TEXT NOT NULL, opened_at REAL NOT NULL, closed_at REAL);
CREATE TABLE tool_calls (
    id INTEGER PRIMARY KEY AUTOINCREMENT, incident TEXT, at REAL NOT NULL, tool TEXT NOT NULL,
    arguments TEXT NOT NULL, status TEXT NOT NULL, error TEXT, duration_ms REAL NOT NULL, pid INTEGER
);
CREATE TABLE commands (
    token TEXT PRIMARY KEY, incident TEXT NOT NULL, tool TEXT NOT NULL, state TEXT NOT NULL,
    plan TEXT NOT NULL, fingerprint TEXT NOT NULL, created_at REAL NOT NULL, expires_at REAL NOT NULL,
    approved_fingerprint TEXT, decided_by TEXT, decided_channel TEXT, decided_at REAL,
    claimed_at REAL, finished_at REAL, result TEXT, temporary INTEGER NOT NULL DEFAULT 0, restores TEXT
);
CREATE TABLE events (
    id INTEGER PRIMARY KEY AUTOINCREMENT, incident TEXT, at REAL NOT NULL, token TEXT, kind TEXT NOT NULL,
    actor TEXT, channel TEXT, detail TEXT
);
INSERT INTO incidents (id, title, opened_at) VALUES ('inc-old', 'untitled incident', 1700000000.0);
INSERT INTO events (incident, at, kind) VALUES ('inc-old', 1700000000.0, 'incident_opened');
"""

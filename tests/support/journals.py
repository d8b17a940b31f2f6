"""Journal contents for tests: files as earlier releases wrote them, a command row, a plan to propose."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from incident_response.tools.engine.plan import KubeWrite, PlanDraft, Precondition, Step, Target

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


def plan(token: str, incident: str, **extra: Any) -> dict[str, Any]:
    """A command row as the journal stores it, valid for a year."""
    now = datetime.now(UTC)
    return {
        "token": token,
        "incident": incident,
        "tool": "rollback_deployment",
        "fingerprint": "f" * 64,
        "created_at": now.isoformat(),
        "expires_at": now.replace(year=now.year + 1).isoformat(),
        "command": "kubectl rollout undo deployment/web -n shop",
        **extra,
    }


def scale_draft() -> PlanDraft:
    """Scale shop/web from 3 to 5 replicas (a precondition on the 3)."""
    return PlanDraft(
        tool="test_tool",
        summary="scale web",
        target=Target(kind="Deployment", namespace="shop", name="web"),
        steps=[
            Step(
                description="scale",
                command="kubectl scale deployment/web --replicas=5 -n shop",
                action=KubeWrite(
                    verb="patch",
                    resource="deployments",
                    namespace="shop",
                    name="web",
                    body={"spec": {"replicas": 5}},
                    patch_type="merge",
                ),
            )
        ],
        preconditions=[
            Precondition(resource="deployments", namespace="shop", name="web", expect={"/spec/replicas": 3})
        ],
    )

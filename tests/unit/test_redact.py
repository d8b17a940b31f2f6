from __future__ import annotations

from datetime import UTC, datetime

import pytest

from incident_response.tools.core.redact import MASK, redact
from incident_response.tools.k8s.events import group_events


@pytest.mark.parametrize(
    ("line", "secret"),
    [
        ("Authorization: Bearer abcdef1234567890xyz", "abcdef1234567890xyz"),
        ("connecting to postgres://app:s3cr3tpw@db:5432/shop", "s3cr3tpw"),
        ("key AKIAIOSFODNN7EXAMPLE used", "AKIAIOSFODNN7EXAMPLE"),
        ("aws_secret_access_key=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", "wJalrXUtnFEMI"),
        ("token eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N", "dozjgNryP4J3jVmNHl0w5N"),
        ('{"password": "hunter2", "user": "bob"}', "hunter2"),
        ("api_key=abc123def", "abc123def"),
    ],
)
def test_credentials_are_masked(line: str, secret: str) -> None:
    clean, count = redact(line)
    assert secret not in clean
    assert MASK in clean
    assert count >= 1


def test_ordinary_lines_are_untouched() -> None:
    line = "2026-05-01T12:00:00Z GET /api/cart 200 12ms user=bob"
    assert redact(line) == (line, 0)


def test_event_messages_are_masked_before_any_tool_quotes_them() -> None:
    """list_events, assess_namespace, verify_recovery and the handoff all group events through group_events."""
    now = datetime(2026, 11, 27, 3, 0, tzinfo=UTC)
    probe = "Readiness probe failed: Get http://admin:hunter2pass@10.0.0.7:8080/health: connection refused"
    event = {
        "type": "Warning", "reason": "Unhealthy", "message": probe, "count": 3,
        "involvedObject": {"kind": "Pod", "name": "web-1"}, "lastTimestamp": "2026-11-27T02:59:00Z",
    }  # fmt: skip
    [group] = group_events([event], now)
    assert "hunter2pass" not in group.message and MASK in group.message
    assert group.message.startswith("Readiness probe failed: Get http://admin:") and group.count == 3

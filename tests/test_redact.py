from __future__ import annotations

import pytest

from incident_response.tools.redact import MASK, redact


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

"""Masks common credential shapes in text (log lines) before it leaves the server."""

from __future__ import annotations

import re

MASK = "[REDACTED]"

# (pattern, replacement): each keeps enough context to show what was there.
PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = (
    # Authorization headers and bearer tokens.
    (re.compile(r"(?i)\b(bearer|basic)\s+[A-Za-z0-9._~+/=-]{8,}"), rf"\1 {MASK}"),
    # JWTs anywhere (three base64url segments, the first starting like a JSON header).
    (re.compile(r"\beyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}"), MASK),
    # user:password@ in URLs.
    (re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://[^/\s:@]+):[^@\s/]+@"), rf"\1:{MASK}@"),
    # AWS access key ids and secret keys.
    (re.compile(r"\b(AKIA|ASIA)[A-Z0-9]{16}\b"), MASK),
    (re.compile(r"(?i)(aws_secret_access_key|secret_access_key)(\s*[=:]\s*)\S+"), rf"\1\2{MASK}"),
    # key=value / "key": "value" for secret-sounding keys.
    (
        re.compile(
            r"(?i)(\"?(?:password|passwd|pwd|secret|token|api[_-]?key|access[_-]?key|client[_-]?secret)\"?"
            r"\s*[=:]\s*)(\"[^\"]*\"|'[^']*'|[^\s,;&]+)"
        ),
        rf"\1{MASK}",
    ),
    # Private key blocks.
    (re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----.*?(-----END [A-Z ]*PRIVATE KEY-----|$)", re.S), MASK),
)


def redact(text: str) -> tuple[str, int]:
    """The text with credentials masked, and how many were masked."""
    total = 0
    for pattern, replacement in PATTERNS:
        text, count = pattern.subn(replacement, text)
        total += count
    return text, total

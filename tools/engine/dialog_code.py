"""The code a confirmation dialog shows and the person types back to approve.

A client may accept a dialog without anyone reading it (an auto-approve setting, a form filled from its schema), and
an accepted `approve: true` would then approve the model's own plan. The dialog therefore approves only with the
code it shows typed back: six digits derived from the token and the plan's fingerprint under the store's seal key,
so the model, which sees the token but never the dialog or the key, cannot compute it, and each plan has its own.
A wrong code denies the plan (one guess per plan). A client that hands the dialog to a model defeats this; that
client needs `--approvals cli` (README).

Layer: tools.engine.
"""

from __future__ import annotations

import hashlib
import hmac
import re

DIGITS = 6
# Spaces, dashes and dots a person may type between the groups they were shown.
SEPARATORS = re.compile(r"[\s\-.]")


def dialog_code(key: bytes, token: str, fingerprint: str) -> str:
    """The code for this plan: the same on every round of one question (the SDK pins an answer to the question's
    text), different for every token and plan."""
    message = b"incident-response-mcp dialog code\0" + token.encode() + b"\0" + fingerprint.encode()
    digest = hmac.new(key, message, hashlib.sha256).digest()
    return f"{int.from_bytes(digest[:8], 'big') % 10**DIGITS:0{DIGITS}d}"


def grouped(code: str) -> str:
    """As shown: two groups of three, easier to read and type."""
    return f"{code[:3]} {code[3:]}"


def typed_back(code: str, typed: str) -> bool:
    return hmac.compare_digest(SEPARATORS.sub("", typed).encode(), code.encode())

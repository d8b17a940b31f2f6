"""A value as one cell of a result's text: on one line, cut at CELL characters between words.

Layer: server (MCP wiring).
"""

from __future__ import annotations

import json
from typing import Any

# Cells longer than this are cut (the structured content has them whole): a table stays readable at a glance.
CELL = 80


def empty(value: Any) -> bool:
    return value is None or value is False or value == "" or value == [] or value == {}


def flat(value: Any) -> str:
    """A value on one line, whole."""
    if value is True:
        return "yes"
    if value is False:
        return "no"
    if empty(value):
        return "-"
    if isinstance(value, list):
        text = ", ".join(cell(item) for item in value)
    elif isinstance(value, dict):
        text = " ".join(f"{k}={cell(v)}" for k, v in value.items() if not empty(v))
    elif isinstance(value, float):
        text = f"{value:g}"
    else:
        text = value if isinstance(value, str) else json.dumps(value)
    return text.replace("\n", " ")


def cut_cell(text: str) -> str:
    """`text` cut at CELL characters, between words."""
    if len(text) <= CELL:
        return text
    # Cut between words: a cut word could read as a token (and be masked as one) where the whole one does not.
    # Nor end on a key's colon: `credentials: …` reads as a masked value.
    head = text[: CELL - 2].rsplit(" ", 1)[0] if " " in text[: CELL - 2] else text[: CELL - 2]
    while head.endswith((":", "=")) and " " in head:
        head = head.rsplit(" ", 1)[0]
    return head + " …"


def cell(value: Any) -> str:
    """A value on one line: lists comma-separated, objects as key=value, nothing as '-'; cut at CELL characters."""
    return cut_cell(flat(value))

"""A list's metadata read from the head of its JSON body, before the body is decoded.

kube-apiserver writes a list (and a Table) as kind, apiVersion, metadata, then the items (or rows): the continue
token of a page is in its first few hundred bytes. Reading it there lets the next page be asked for while this
one, megabytes of JSON, is still being decoded.

Layer: tools.kube.
"""

from __future__ import annotations

import json
from typing import Any

HEAD_BYTES = 16 * 1024  # a list's metadata is a few hundred bytes; a value longer than this is not read here

_SCAN = json.JSONDecoder().raw_decode  # one JSON value from a position (C scanner)
_SPACE = " \t\n\r"


def leading_metadata(raw: bytes) -> dict[str, Any] | None:
    """The top-level `metadata` of a JSON object body when it lies in the first HEAD_BYTES before any long value;
    {} when the object ends there without one; None when the head does not tell (decode the whole body then).
    A body with two `metadata` keys reads as the first here and as the last when decoded: callers compare."""
    text = raw[:HEAD_BYTES].decode("utf-8", errors="replace")  # a character cut at the end lies past what is read
    at = _skip(text, 0)
    if text[at : at + 1] != "{":
        return None
    at = _skip(text, at + 1)
    if text[at : at + 1] == "}":
        return {}
    while True:
        try:
            key, at = _SCAN(text, at)
            at = _skip(text, at)
            if not isinstance(key, str) or text[at : at + 1] != ":":
                return None
            value, at = _SCAN(text, _skip(text, at + 1))
        except ValueError:  # a value that runs past the head (the items), or not JSON: decode the whole body
            return None
        if key == "metadata":
            return value if isinstance(value, dict) else None
        at = _skip(text, at)
        separator = text[at : at + 1]
        if separator == "}":
            return {}
        if separator != ",":
            return None
        at = _skip(text, at + 1)


def _skip(text: str, at: int) -> int:
    while at < len(text) and text[at] in _SPACE:
        at += 1
    return at

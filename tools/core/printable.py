"""Text from the cluster made safe to show a human: control and format characters as visible escapes.

A plan's summary and warnings quote strings the cluster holds (an image, an annotation, an event), and a real API
server accepts control characters inside some of them (a container image is checked only for surrounding
whitespace). Printed raw to the terminal where a human approves the plan, an escape sequence hides or rewrites its
lines (ESC[8m conceals what follows; ESC[1A with a carriage return overwrites the line above) and a bidi override
reorders them. As `\\x1b` or `\\u202e` they are visible and inert.

Layer: tools.core.
"""

from __future__ import annotations

import unicodedata

# Control (Cc: C0, DEL, C1) and format (Cf: bidi overrides, zero-width characters) characters.
HIDDEN = ("Cc", "Cf")


def printable(text: str, *, newlines: bool = False) -> str:
    """`text` with each control or format character as a Python-style escape. Tabs stay; newlines stay only with
    `newlines` (a command with a here-document spans lines; a summary or warning is one line)."""
    return _escaped(text, newlines, json_style=False)


def json_printable(text: str) -> str:
    """A JSON document with each control or format character (but newline and tab, whitespace between its tokens) as
    a \\uXXXX escape: inside a string it decodes to the same value. JSON's encoder escapes only U+0000-001F, so DEL,
    C1 characters (U+009B is a CSI to some terminals) and bidi overrides would pass raw."""
    return _escaped(text, True, json_style=True)


def _escaped(text: str, newlines: bool, *, json_style: bool) -> str:
    kept = text.replace("\t", "")
    if newlines:
        kept = kept.replace("\n", "")
    if kept.isprintable():  # the common case, checked at C speed: nothing to escape
        return text
    out = []
    for char in text:
        if char == "\t" or (newlines and char == "\n") or unicodedata.category(char) not in HIDDEN:
            out.append(char)
        else:
            out.append(_escape(ord(char), json_style))
    return "".join(out)


def _escape(code: int, json_style: bool) -> str:
    if code > 0xFFFF:  # a format character past the BMP (tag characters): JSON spells it as a surrogate pair
        high, low = 0xD800 + ((code - 0x10000) >> 10), 0xDC00 + ((code - 0x10000) & 0x3FF)
        return f"\\u{high:04x}\\u{low:04x}" if json_style else f"\\U{code:08x}"
    return f"\\u{code:04x}" if json_style or code >= 0x100 else f"\\x{code:02x}"

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
    if text.isprintable():
        return text
    out = []
    for char in text:
        if char == "\t" or (newlines and char == "\n") or unicodedata.category(char) not in HIDDEN:
            out.append(char)
        else:
            code = ord(char)
            out.append(f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}")
    return "".join(out)

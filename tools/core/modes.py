"""The safety modes (safe, standard, full), and which of two is stricter. Its own module: plans record the mode they
were made in, and the plan model must not depend on the server's wiring.

Layer: tools.core.
"""

from __future__ import annotations

from typing import Literal

Mode = Literal["safe", "standard", "full"]
MODES: tuple[Mode, ...] = ("safe", "standard", "full")
# Higher is stricter: a plan is confirmed under the stricter of its own mode and the confirming server's.
STRICTNESS: dict[Mode, int] = {"full": 0, "standard": 1, "safe": 2}


def stricter(a: Mode, b: Mode) -> Mode:
    return a if STRICTNESS[a] >= STRICTNESS[b] else b

"""The person's side of the confirmation dialog in tests: read the code the dialog shows and type it back."""

from __future__ import annotations

import re
from typing import Any

from mcp.types import ElicitRequestFormParams

CODE = re.compile(r"type this code[^\d]*(\d{3}) ?(\d{3})")


def code_in(message: str) -> str:
    found = CODE.search(message)
    assert found is not None, f"the dialog shows no code to type back:\n{message}"
    return found[1] + found[2]


def human_answer(params: ElicitRequestFormParams) -> dict[str, Any]:
    """What a person who read the dialog and approves types into its form."""
    return {"code": code_in(params.message)}

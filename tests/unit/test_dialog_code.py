"""What a person may type back for the dialog's code: the six digits, grouped as shown or as people group digits."""

from __future__ import annotations

import pytest

from incident_response.tools.engine.dialog_code import dialog_code, grouped, typed_back

CODE = dialog_code(b"k" * 32, "irm_token", "fingerprint")


@pytest.mark.parametrize(
    "typed", [CODE, grouped(CODE), f"{CODE[:3]}-{CODE[3:]}", f"{CODE[:3]}.{CODE[3:]}", f" {CODE} "]
)
def test_the_code_typed_with_a_separator_approves(typed: str) -> None:
    assert typed_back(CODE, typed)


@pytest.mark.parametrize("typed", ["", "000000" if CODE != "000000" else "111111", CODE[:5], CODE + "0", "approve"])
def test_anything_else_does_not(typed: str) -> None:
    assert not typed_back(CODE, typed)

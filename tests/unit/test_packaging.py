"""CI runs the README's test command (the wheel pip builds is checked in tests/e2e/test_packaging_wheel.py)."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _readme_test_command() -> str:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    match = re.search(r"```(?:sh|bash|console)?\n((?:.*\n)*?)```", readme.split("## Run the tests", 1)[-1])
    assert match, "the README needs a '## Run the tests' section with the command in a code block"
    return match.group(1).strip()


def test_ci_runs_the_readme_test_command() -> None:
    command = _readme_test_command()
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert command in ci.splitlines()

"""The code stays typed, linted, formatted and layered: the same checks a reviewer would run, in the suite."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent


def run(*argv: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(argv, cwd=ROOT, capture_output=True, text=True, timeout=300, check=False)


def test_ruff_finds_nothing() -> None:
    done = run(sys.executable, "-m", "ruff", "check", ".")
    assert done.returncode == 0, done.stdout + done.stderr


def test_code_is_formatted() -> None:
    done = run(sys.executable, "-m", "ruff", "format", "--check", ".")
    assert done.returncode == 0, done.stdout + done.stderr


def test_mypy_strict_passes_on_the_package() -> None:
    # mypy cannot follow setuptools' editable-install mapping, so .typecheck/incident_response points at the root.
    link = ROOT / ".typecheck" / "incident_response"
    link.parent.mkdir(exist_ok=True)
    if not link.is_symlink():
        link.symlink_to("..", target_is_directory=True)
    done = run(
        sys.executable,
        "-m",
        "mypy",
        "-p",
        "incident_response.server",
        "-p",
        "incident_response.tools",
        "-p",
        "incident_response.sim",
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_import_layers_hold() -> None:
    lint_imports = BIN / "lint-imports"
    if not lint_imports.exists():
        pytest.fail("import-linter is missing: install the test extra (pip install -e '.[test]')")
    done = run(str(lint_imports))
    assert done.returncode == 0, done.stdout + done.stderr

"""The tools/ layers contract is real: the same contract, on a copy of tools/ with one import pointing up, breaks.

lint-imports runs as CI runs it, as a process on a copy of the package (so not in the unit tier).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
LINT_IMPORTS = Path(sys.executable).parent / "lint-imports"


def layers_contract() -> dict[str, object]:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["importlinter"]
    (contract,) = [c for c in config["contracts"] if c["type"] == "layers"]
    return dict(contract)


def toml_value(value: object) -> str:
    if isinstance(value, list):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    return '"' + str(value) + '"'


def lint_copy(tmp_path: Path, back_edge: tuple[str, str] | None) -> subprocess.CompletedProcess[str]:
    """Run import-linter with our layers contract on a copy of tools/, optionally with one extra import."""
    package = tmp_path / "incident_response"
    shutil.copytree(ROOT / "tools", package / "tools", ignore=shutil.ignore_patterns("__pycache__"))
    (package / "__init__.py").write_text("", encoding="utf-8")
    if back_edge is not None:
        module, imported = back_edge
        path = package / "tools" / (module.replace(".", "/") + ".py")
        path.write_text(path.read_text(encoding="utf-8") + f"\nimport incident_response.tools.{imported}\n")
    contract = "".join(f"{key} = {toml_value(value)}\n" for key, value in layers_contract().items())
    config = tmp_path / "importlinter.toml"
    config.write_text(
        f'[tool.importlinter]\nroot_package = "incident_response"\n\n[[tool.importlinter.contracts]]\n{contract}',
        encoding="utf-8",
    )
    env = {**os.environ, "PYTHONPATH": str(tmp_path)}  # the copy shadows the installed package
    argv = [str(LINT_IMPORTS), str(config), "--no-cache"]
    return subprocess.run(argv, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120, check=False)


def test_an_import_from_a_lower_layer_to_a_higher_one_breaks_the_contract(tmp_path: Path) -> None:
    done = lint_copy(tmp_path, back_edge=("core.errors", "engine.plan"))
    assert done.returncode != 0, done.stdout
    flat = " ".join(done.stdout.split())
    assert "incident_response.tools.core.errors -> incident_response.tools.engine.plan" in flat, done.stdout


def test_siblings_of_one_layer_may_not_import_each_other(tmp_path: Path) -> None:
    done = lint_copy(tmp_path, back_edge=("assess.pods", "mitigate.scaling"))
    assert done.returncode != 0, done.stdout
    flat = " ".join(done.stdout.split())
    assert "incident_response.tools.assess.pods -> incident_response.tools.mitigate.scaling" in flat, done.stdout

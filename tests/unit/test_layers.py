"""The tools/ layers contract is real: the same contract, on a copy of tools/ with one import pointing up, breaks."""

from __future__ import annotations

import ast
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


def declared_layer(path: Path) -> str:
    """The layer a module's folder puts it in: tools.<sub> inside tools/, else the top-level folder."""
    parts = path.relative_to(ROOT).parts
    return f"tools.{parts[1]}" if parts[0] == "tools" and len(parts) > 2 else parts[0]


def test_every_module_says_which_layer_it_is_in_and_what_it_does() -> None:
    missing = []
    for top in ("server", "tools", "sim"):
        for path in sorted((ROOT / top).rglob("*.py")):
            if "proto" in path.parts or path == ROOT / "tools" / "__init__.py":
                continue
            doc = ast.get_docstring(ast.parse(path.read_text(encoding="utf-8"))) or ""
            said = doc.split("Layer: ", 1)
            if len(said) < 2 or not said[0].strip() or not said[1].startswith(declared_layer(path)):
                missing.append(str(path.relative_to(ROOT)))
    assert not missing, "module docstrings must say what the module does, then 'Layer: <layer>': " + ", ".join(missing)

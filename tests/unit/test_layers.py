"""Every module says which layer it is in (the layers contract itself breaks on a back-edge:
tests/e2e/test_import_contracts.py runs the checker on a copy)."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


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

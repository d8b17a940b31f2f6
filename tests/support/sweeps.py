"""bench/ scripts as modules for tests, and bench/sweep.py's calls on a shipped scenario made once per test process:
tests/e2e/test_result_budget.py (the overlap limit) and tests/e2e/test_no_simulator_keys.py (no simulator key) judge
the same results, so the second pays nothing for the sweep."""

from __future__ import annotations

import importlib.util
import shutil
import sys
import tempfile
from pathlib import Path
from types import ModuleType
from typing import Any

BENCH = Path(__file__).resolve().parents[2] / "bench"
_SWEPT: dict[str, list[Any]] = {}


def load(name: str) -> ModuleType:
    """A bench script as a fresh module (bench/ is not a package; context.py imports sweep.py as a script does)."""
    if str(BENCH) not in sys.path:
        sys.path.insert(0, str(BENCH))
    spec = importlib.util.spec_from_file_location(f"bench_{name}", BENCH / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclass looks itself up there
    spec.loader.exec_module(module)
    return module


async def swept(scenario: str) -> list[Any]:
    """bench/sweep.py's results on `scenario` (its Swept records), swept on the first call in this process; the
    cluster and its state (kubeconfig, journal) live in a temporary folder removed once swept."""
    if scenario not in _SWEPT:
        folder = Path(tempfile.mkdtemp(prefix=f"sweep-{scenario}-"))
        try:
            _SWEPT[scenario] = await load("sweep").sweep_scenario(scenario, folder)
        finally:
            shutil.rmtree(folder, ignore_errors=True)
    return list(_SWEPT[scenario])

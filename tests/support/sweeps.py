"""bench/ scripts as modules for tests, and bench/sweep.py's calls on a shipped scenario made once per test run:
tests/e2e/test_result_budget.py (the overlap limit) and tests/e2e/test_no_simulator_keys.py (no simulator key) judge
the same results, so the second pays nothing for the sweep, in the same process or (under xdist, the files on two
workers) in another: the first to sweep a scenario leaves its results in the run's shared folder, under a lock the
other waits on."""

from __future__ import annotations

import fcntl
import importlib.util
import os
import pickle
import shutil
import sys
import tempfile
from pathlib import Path
from types import ModuleType
from typing import Any

import anyio.to_thread

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


async def swept(scenario: str, shared: Path | None = None) -> list[Any]:
    """bench/sweep.py's results on `scenario` (its Swept records), swept on the first call in this process, or read
    from `shared` (a folder every worker of this test run sees) where another process swept it first."""
    if scenario not in _SWEPT:
        _SWEPT[scenario] = await (_sweep(scenario) if shared is None else _shared_sweep(scenario, shared))
    return list(_SWEPT[scenario])


async def _sweep(scenario: str) -> list[Any]:
    """The cluster and its state (kubeconfig, journal) live in a temporary folder removed once swept."""
    folder = Path(tempfile.mkdtemp(prefix=f"sweep-{scenario}-"))
    try:
        result: list[Any] = await load("sweep").sweep_scenario(scenario, folder)
        return result
    finally:
        shutil.rmtree(folder, ignore_errors=True)


async def _shared_sweep(scenario: str, shared: Path) -> list[Any]:
    """Swept once per run: under an exclusive lock, the results another process left, else swept and left (written
    whole, then renamed, so a reader never sees half of them). The lock goes with the process if it dies."""
    results, lock = shared / f"sweep-{scenario}.pickle", shared / f"sweep-{scenario}.lock"
    descriptor = os.open(lock, os.O_CREAT | os.O_RDWR, 0o600)
    try:
        await anyio.to_thread.run_sync(fcntl.flock, descriptor, fcntl.LOCK_EX)
        if results.exists():
            load("sweep")  # the records' class, for unpickling
            found: list[Any] = pickle.loads(results.read_bytes())
            return found
        swept_here = await _sweep(scenario)
        partial = results.with_suffix(".partial")
        partial.write_bytes(pickle.dumps(swept_here))
        partial.replace(results)
        return swept_here
    finally:
        os.close(descriptor)

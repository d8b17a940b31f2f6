"""The end-to-end tier's clusters with their test environment (support.mitigation_env.Env: the admin's client, a
state directory, a server on demand): `start` for a test that changes its cluster, `shared` for one that only reads
the module's cluster of a scenario (and plans in safe mode), `built` for one that builds its incident with kubectl on
a fresh healthy cluster. Each Env has its own state directory (journal). `sweep_store`: where the xdist workers of a
run share bench/sweep.py's results (tests/support/sweeps.py)."""

from __future__ import annotations

import itertools
import os
from collections.abc import Callable
from pathlib import Path

import pytest
from support.kubectl_runner import Kubectl
from support.mitigation_env import Env, Start, make_env
from support.sims import SharedSims

from incident_response.sim.serve import RunningSim


def _envs(cluster: Callable[[str], RunningSim], tmp_path: Path) -> Start:
    counter = itertools.count()

    def begin(scenario: str) -> Env:
        return make_env(cluster(scenario), tmp_path / f"state{next(counter)}")

    return begin


@pytest.fixture
def start(sim_factory: Callable[..., RunningSim], tmp_path: Path) -> Start:
    """A fresh cluster of `scenario` per call, this test's own."""
    return _envs(sim_factory, tmp_path)


@pytest.fixture
def shared(shared_sims: SharedSims, tmp_path: Path) -> Start:
    """The module's cluster of `scenario` (started once, held between uses), for a test that only reads it."""
    return _envs(shared_sims, tmp_path)


@pytest.fixture
def built(
    sim_factory: Callable[..., RunningSim], kubectl_for: Callable[[RunningSim], Kubectl], tmp_path: Path
) -> tuple[Env, Kubectl]:
    """A fresh healthy cluster, this test's own, for a test that builds its incident with kubectl: its Env (state
    directory tmp_path/state) and a kubectl bound to it."""
    sim = sim_factory("healthy")
    return make_env(sim, tmp_path / "state"), kubectl_for(sim)


@pytest.fixture(scope="session")
def sweep_store(tmp_path_factory: pytest.TempPathFactory) -> Path | None:
    """Where this run's xdist workers share bench/sweep.py's results (support/sweeps.py): the parent of every
    worker's temporary folder. None in a run of one process (its own cache is enough)."""
    if not os.environ.get("PYTEST_XDIST_WORKER"):
        return None
    return tmp_path_factory.getbasetemp().parent

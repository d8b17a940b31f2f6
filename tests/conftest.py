"""Shared fixtures: the anyio backend, simulated clusters and a kubectl bound to them."""

from __future__ import annotations

import contextlib
import itertools
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from support.kubectl_runner import Kubectl

from incident_response.sim.serve import RunningSim, run_sim


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


SimFactory = Callable[..., RunningSim]


@pytest.fixture
def sim_factory(tmp_path: Path) -> Iterator[SimFactory]:
    """Start simulated clusters (each with its own kubeconfig under tmp_path); all stop after the test."""
    counter = itertools.count()
    with contextlib.ExitStack() as stack:

        def start(scenario: str = "healthy", **options: Any) -> RunningSim:
            folder = tmp_path / f"sim{next(counter)}"
            return stack.enter_context(run_sim(scenario, kubeconfig_path=folder / "kubeconfig", **options))

        yield start


@pytest.fixture
def kubectl_for(tmp_path: Path) -> Callable[[RunningSim], Kubectl]:
    def bind(sim: RunningSim) -> Kubectl:
        assert sim.kubeconfig_path is not None
        return Kubectl(sim.kubeconfig_path, tmp_path / f"kubectl-cache-{sim.port}")

    return bind

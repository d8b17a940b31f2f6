"""Simulated clusters for tests: each on 127.0.0.1 with its own kubeconfig, stopped when the fixture's scope ends.

`sim_factory` (one test) is for tests that change the cluster; `shared_sims` (one module) is for tests that only read
it, so a module's read-only tests pay for each scenario's start and settle once.
"""

from __future__ import annotations

import contextlib
import itertools
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from incident_response.sim.serve import RunningSim, run_sim

SimFactory = Callable[..., RunningSim]
SharedSims = Callable[[str], RunningSim]


@contextlib.contextmanager
def starting(folder: Callable[[str], Path]) -> Iterator[SimFactory]:
    """Start clusters on demand (kubeconfig in `folder(label)`); all stop when the block ends."""
    counter = itertools.count()
    with contextlib.ExitStack() as stack:

        def start(scenario: str = "healthy", **options: Any) -> RunningSim:
            where = folder(f"sim{next(counter)}-{scenario}")
            return stack.enter_context(run_sim(scenario, kubeconfig_path=where / "kubeconfig", **options))

        yield start


@contextlib.contextmanager
def sharing(folder: Callable[[str], Path]) -> Iterator[SharedSims]:
    """One cluster per scenario, started on first use and handed to every later caller.

    Only the cluster asked for last runs its controllers; the others are held between two ticks (their tick lock
    taken), so clusters that wait for a later test do not take CPU from the one in use. A held cluster's clock keeps
    running: its first tick after a pause sees the time that passed, as after a slow tick.
    """
    with starting(folder) as start:
        running: dict[str, RunningSim] = {}
        held: dict[str, RunningSim] = {}

        def get(scenario: str) -> RunningSim:
            for name, sim in list(running.items()):
                if name != scenario and name not in held:
                    sim.cluster._tick_lock.acquire()
                    held[name] = sim
            if scenario in held:
                held.pop(scenario).cluster._tick_lock.release()
            if scenario not in running:
                running[scenario] = start(scenario)
            return running[scenario]

        try:
            yield get
        finally:
            for sim in held.values():  # a held ticker must finish its tick to see the stop
                sim.cluster._tick_lock.release()

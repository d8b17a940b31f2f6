"""Run the simulated cluster on 127.0.0.1 in background threads: the HTTP API and the controllers' clock.

Layer: sim (the simulated cluster; apart from the product).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import yaml
from aiohttp import web

from incident_response.sim.apiserver import ApiServer
from incident_response.sim.authz import Authorizer
from incident_response.sim.cluster import Cluster, LiveClock, Timing
from incident_response.sim.faults import Faults
from incident_response.sim.scenarios import load_scenario
from incident_response.sim.store import Store

log = logging.getLogger(__name__)

CONTEXT = "sim"
TICK_SECONDS = 0.05


def kubeconfig_text(url: str, context: str = CONTEXT) -> str:
    """A kubeconfig with one context for this cluster only (no credentials: the simulator needs none)."""
    config = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": context, "cluster": {"server": url}}],
        "users": [{"name": f"{context}-user", "user": {"token": "simulated-cluster-token"}}],
        "contexts": [
            {"name": context, "context": {"cluster": context, "user": f"{context}-user", "namespace": "default"}}
        ],
        "current-context": context,
    }
    return yaml.safe_dump(config, sort_keys=False)


@dataclass
class RunningSim:
    url: str
    port: int
    cluster: Cluster
    faults: Faults
    authz: Authorizer
    kubeconfig_path: Path | None
    context: str = CONTEXT
    _stop: threading.Event = field(default_factory=threading.Event, repr=False)
    _ticks: int = 0

    @property
    def store(self) -> Store:
        return self.cluster.store

    def advance(self, seconds: float) -> None:
        """Let `seconds` of cluster time pass at once (see Cluster.advance): crash loops move on without waiting."""
        self.cluster.advance(seconds)

    def wait_ticks(self, count: int = 2, timeout: float = 5.0) -> None:
        """Block until the controllers have run `count` more times (a bounded wait, not a sleep)."""
        target = self._ticks + count
        done = threading.Event()
        deadline = threading.Timer(timeout, done.set)
        deadline.start()
        try:
            while self._ticks < target and not done.is_set():
                done.wait(TICK_SECONDS / 2)
        finally:
            deadline.cancel()


class _Ticker(threading.Thread):
    def __init__(self, sim: RunningSim) -> None:
        super().__init__(name="sim-controllers", daemon=True)
        self.sim = sim

    def run(self) -> None:
        while not self.sim._stop.wait(TICK_SECONDS):
            try:
                self.sim.cluster.tick()
            except Exception:  # a controller bug must not stop the clock; it is logged with its traceback
                log.exception("controller tick failed")
            self.sim._ticks += 1


@contextlib.contextmanager
def run_sim(
    scenario: str | None = "healthy",
    *,
    port: int = 0,
    kubeconfig_path: Path | None = None,
    extra_pods: int = 0,
    timing: Timing | None = None,
    settle: bool = True,
) -> Iterator[RunningSim]:
    """Start a simulated cluster seeded with `scenario`; stop it on exit."""
    clock = LiveClock()
    cluster = Cluster(Store(clock=clock.wall), timing=timing or Timing(), clock=clock)
    if scenario:
        load_scenario(scenario, cluster, extra_pods=extra_pods)
        if settle:
            cluster.settle()
    faults, authz = Faults(), Authorizer()
    api = ApiServer(cluster, faults, authz)
    loop = asyncio.new_event_loop()
    started = threading.Event()
    bound: list[int] = []
    runner = web.AppRunner(api.app(), access_log=None, handle_signals=False, shutdown_timeout=0.5)

    async def start() -> None:
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", port)
        await site.start()
        server = site._server
        assert server is not None
        sockets = getattr(server, "sockets", None) or []
        bound.append(int(sockets[0].getsockname()[1]))

    def serve() -> None:
        asyncio.set_event_loop(loop)
        try:
            loop.run_until_complete(start())
        finally:
            started.set()
        loop.run_forever()
        loop.run_until_complete(runner.cleanup())
        loop.close()

    thread = threading.Thread(target=serve, name="sim-apiserver", daemon=True)
    thread.start()
    started.wait(10)
    if not bound:
        raise RuntimeError(f"the simulated cluster could not listen on 127.0.0.1:{port}")
    url = f"http://127.0.0.1:{bound[0]}"
    if kubeconfig_path is not None:
        kubeconfig_path.parent.mkdir(parents=True, exist_ok=True)
        kubeconfig_path.write_text(kubeconfig_text(url), encoding="utf-8")
    sim = RunningSim(url, bound[0], cluster, faults, authz, kubeconfig_path)
    ticker = _Ticker(sim)
    ticker.start()
    try:
        yield sim
    finally:
        sim._stop.set()
        api.stop_watches()
        loop.call_soon_threadsafe(loop.stop)
        thread.join(10)
        ticker.join(10)

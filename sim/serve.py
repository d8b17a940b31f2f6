"""Run the simulated cluster on 127.0.0.1 in background threads: the HTTP API and the controllers' clock.

Layer: sim (the simulated cluster; apart from the product).
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import gc
import logging
import ssl
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import yaml
from aiohttp import web

from incident_response.sim.apiserver import ApiServer
from incident_response.sim.authz import Authorizer
from incident_response.sim.cluster import Cluster, LiveClock, Timing
from incident_response.sim.faults import Faults
from incident_response.sim.identity import ADMIN_TOKEN, Authenticator
from incident_response.sim.scenarios import load_scenario
from incident_response.sim.store import Store
from incident_response.sim.tls import serving_context

log = logging.getLogger(__name__)

CONTEXT = "sim"
TICK_SECONDS = 0.05
# A tick that took long (a cluster of 10,000 pods: 60-200 ms) is followed by a pause of this many times its length
# (at most MAX_PAUSE): the controllers of a big cluster take a third of a core, not all of one, while a test that runs
# it waits on its server or kubectl. A small cluster's tick (1-5 ms) keeps the TICK_SECONDS cadence.
PAUSE_PER_TICK = 2.0
MAX_PAUSE = 1.0
# Seconds of the cluster's clock a scenario's seeding may use without real waiting (it needs 1-1.5): the cluster
# starts this far in the past and catches up with real time when it starts serving.
SEEDING_LEAD = 3.0


def kubeconfig_text(
    url: str,
    context: str = CONTEXT,
    token: str = ADMIN_TOKEN,
    namespace: str = "default",
    ca_pem: bytes | None = None,
) -> str:
    """A kubeconfig with one context for this cluster only; by default with the admin token (system:masters).

    `ca_pem`: the serving certificate of an HTTPS cluster, trusted as its CA.
    """
    cluster: dict[str, str] = {"server": url}
    if ca_pem is not None:
        cluster["certificate-authority-data"] = base64.b64encode(ca_pem).decode()
    config = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": context, "cluster": cluster}],
        "users": [{"name": f"{context}-user", "user": {"token": token}}],
        "contexts": [
            {"name": context, "context": {"cluster": context, "user": f"{context}-user", "namespace": namespace}}
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
    authn: Authenticator = field(default_factory=lambda: Authenticator(datetime.now), repr=False)
    ca_pem: bytes | None = field(default=None, repr=False)  # the serving certificate of an HTTPS cluster
    _stop: threading.Event = field(default_factory=threading.Event, repr=False)
    _ticks: int = 0

    @property
    def store(self) -> Store:
        return self.cluster.store

    def mint_user_token(self, name: str, groups: tuple[str, ...] = ()) -> str:
        """A bearer token for a person (`name`, in `groups` and system:authenticated); RBAC decides what it may do."""
        return self.authn.mint_user(name, groups)

    def write_kubeconfig(self, path: Path, token: str, namespace: str = "default") -> Path:
        """A kubeconfig for this cluster that authenticates with `token` (a ServiceAccount's or a person's)."""
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(kubeconfig_text(self.url, self.context, token, namespace, self.ca_pem), encoding="utf-8")
        return path

    def advance(self, seconds: float) -> None:
        """Let `seconds` of cluster time pass at once (see Cluster.advance): crash loops move on without waiting."""
        self.cluster.advance(seconds)

    def wait_ticks(self, count: int = 2, timeout: float = 30.0) -> None:
        """Block until the controllers have run `count` more times (a bounded wait, not a sleep). Raises TimeoutError
        when they have not within `timeout` seconds: a caller that goes on regardless would act on a cluster the
        controllers have not caught up with (a held cluster, or a machine too loaded to tick)."""
        target = self._ticks + count
        done = threading.Event()
        deadline = threading.Timer(timeout, done.set)
        deadline.start()
        try:
            while self._ticks < target and not done.is_set():
                done.wait(TICK_SECONDS / 2)
        finally:
            deadline.cancel()
        if self._ticks < target:
            ran = count - (target - self._ticks)
            raise TimeoutError(f"the cluster's controllers ran {ran} of {count} passes in {timeout} s")


class _Ticker(threading.Thread):
    def __init__(self, sim: RunningSim) -> None:
        super().__init__(name="sim-controllers", daemon=True)
        self.sim = sim

    def run(self) -> None:
        pause = TICK_SECONDS
        while not self.sim._stop.wait(pause):
            try:
                self.sim.cluster.tick()
            except Exception:  # a controller bug must not stop the clock; it is logged with its traceback
                log.exception("controller tick failed")
            self.sim._ticks += 1
            pause = min(MAX_PAUSE, max(TICK_SECONDS, PAUSE_PER_TICK * self.sim.cluster.last_tick_seconds))


@contextlib.contextmanager
def collection_deferred() -> Iterator[None]:
    """No cyclic garbage collection while a cluster is seeded: seeding 20,000 pods makes millions of objects, none of
    them garbage, and the collector's full passes over them were a quarter of the seeding's CPU."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


@contextlib.contextmanager
def run_sim(
    scenario: str | None = "healthy",
    *,
    port: int = 0,
    kubeconfig_path: Path | None = None,
    extra_pods: int = 0,
    timing: Timing | None = None,
    settle: bool = True,
    tls: bool = False,
    anonymous_admin: bool | None = None,
    seed: Callable[[Cluster], object] | None = None,
) -> Iterator[RunningSim]:
    """Start a simulated cluster seeded with `scenario` (then `seed`, which adds to it before the controllers run);
    stop it on exit.

    `tls`: serve HTTPS with a throwaway certificate (kubectl sends bearer tokens only over TLS, so tests of
    ServiceAccount and user tokens with real kubectl need it). `anonymous_admin`: a request without credentials
    acts as the admin (default over plain HTTP, where kubectl sends none); over HTTPS it is system:anonymous,
    as on a real cluster.
    """
    clock = LiveClock(behind=SEEDING_LEAD)
    cluster = Cluster(Store(clock=clock.wall), timing=timing or Timing(), clock=clock, sleep=clock.sleep)
    with collection_deferred():
        if scenario:
            load_scenario(scenario, cluster, extra_pods=extra_pods)
        if seed is not None:
            seed(cluster)
        if scenario and settle:
            cluster.settle()
    clock.catch_up()
    faults, authz = Faults(), Authorizer()
    authn = Authenticator(cluster.store.clock, anonymous_admin=not tls if anonymous_admin is None else anonymous_admin)
    ssl_context: ssl.SSLContext | None = None
    ca_pem: bytes | None = None
    if tls:
        ssl_context, ca_pem = serving_context()
    api = ApiServer(cluster, faults, authz, authn)
    loop = asyncio.new_event_loop()
    started = threading.Event()
    bound: list[int] = []
    runner = web.AppRunner(api.app(), access_log=None, handle_signals=False, shutdown_timeout=0.5)

    async def start() -> None:
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", port, ssl_context=ssl_context)
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
    url = f"{'https' if tls else 'http'}://127.0.0.1:{bound[0]}"
    if kubeconfig_path is not None:
        kubeconfig_path.parent.mkdir(parents=True, exist_ok=True)
        kubeconfig_path.write_text(kubeconfig_text(url, ca_pem=ca_pem), encoding="utf-8")
    sim = RunningSim(url, bound[0], cluster, faults, authz, kubeconfig_path, authn=authn, ca_pem=ca_pem)
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

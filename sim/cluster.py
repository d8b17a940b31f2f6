"""The simulated cluster: the store plus the controllers that make it behave like Kubernetes.

`tick()` runs every controller once against a snapshot of the store; the runner calls it about every 50 ms
from one thread while HTTP handlers write concurrently (each controller write takes the store lock for that
object only). Runtime state that Kubernetes keeps on nodes (timers, restart counts, logs) lives in side tables
here, keyed by pod uid, never in the store.

`settle()` ticks until three consecutive ticks made no progress: no object created, scaled, scheduled, started
or made ready. Periodic churn is not progress: crash-loop restarts, image-pull retries, repeated events and
HPA re-syncs. So a cluster with a crash-looping deployment settles once everything else has converged. Use
`run_for(seconds)` to let time pass regardless.

Layer: sim (the simulated cluster; apart from the product).
"""

from __future__ import annotations

import functools
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from incident_response.sim import behaviors, errors
from incident_response.sim.controllers import traffic as traffic_mod
from incident_response.sim.controllers.attachments import AttachDetach
from incident_response.sim.controllers.common import Obj, meta
from incident_response.sim.controllers.daemonsets import DaemonSetController
from incident_response.sim.controllers.dating import Dating
from incident_response.sim.controllers.deployments import DeploymentController
from incident_response.sim.controllers.disruption import DisruptionController
from incident_response.sim.controllers.endpoints import EndpointsController
from incident_response.sim.controllers.events import EventRecorder
from incident_response.sim.controllers.gc import GarbageCollector
from incident_response.sim.controllers.hpa import HPAController
from incident_response.sim.controllers.jobs import JobController
from incident_response.sim.controllers.kubelet import Kubelet, leak_base
from incident_response.sim.controllers.logs import container_logs, rfc3339_nano
from incident_response.sim.controllers.nodes import NodeController
from incident_response.sim.controllers.podgc import PodGC
from incident_response.sim.controllers.quotas import QuotaController
from incident_response.sim.controllers.replicasets import ReplicaSetController
from incident_response.sim.controllers.scheduler import Scheduler
from incident_response.sim.controllers.serviceaccounts import ServiceAccountController
from incident_response.sim.controllers.snapshot import Snapshot
from incident_response.sim.controllers.statefulsets import StatefulSetController
from incident_response.sim.controllers.taints import TaintEviction
from incident_response.sim.resources import NODES, PODS, ResourceType
from incident_response.sim.store import Store

SYSTEM_CPU = 120  # millicores the node's own daemons use
SYSTEM_MEMORY = 1024 * 1024 * 1024


@dataclass(frozen=True)
class Timing:
    """Seconds of the cluster's clock. Start-up and rollouts are quick so the demo and tests stay fast; the
    crash-loop back-off is the kubelet's own (10 s doubling to 5 minutes), so restart counts read as on a real
    cluster: let time pass with `advance()` rather than waiting for it."""

    pod_start: float = 0.3  # scheduled -> Running
    ready_delay: float = 0.3  # Running -> Ready (readiness)
    crash_after: float = 0.5  # crashloop/oom: running this long before the container dies
    backoff_base: float = 10.0  # CrashLoopBackOff/ImagePullBackOff wait, doubling, capped at backoff_cap
    backoff_cap: float = 300.0  # a container that ran twice this long before exiting starts over at backoff_base
    termination: float = 0.3  # graceful deletion -> removed
    tick: float = 0.05  # how often settle()/run_for() tick
    probe_period: float = 1.0  # a failing readiness probe re-reports Unhealthy this often
    schedule_retry: float = 1.0  # FailedScheduling is re-reported this often
    hpa_sync: float = 1.0  # HPA controller sync period (upstream: 15s)
    hpa_downscale_window: float = 5.0  # HPA scale-down stabilization window (upstream: 300s)
    gc_period: float = 1.0
    dated_window: float = 30.0  # a dated revision's rollout (pods, events, conditions) is dated this long
    event_ttl: float = 3600.0  # events older than this are dropped (the API server's default TTL)
    max_events: int = 5000


@functools.lru_cache(maxsize=4096)
def _parse_time(text: str) -> float | None:
    """Epoch seconds of an RFC 3339 timestamp as the API writes them; None if it does not parse."""
    if not text:
        return None
    try:
        return datetime.fromisoformat(text).replace(tzinfo=UTC).timestamp()
    except ValueError:
        return None


class ManualClock:
    """A clock tests advance by hand: pass `clock=c, sleep=c.sleep` and the store `clock=c.wall`."""

    def __init__(self, start: float = 1000.0) -> None:
        self.t = start
        self._epoch = time.time() - start

    def __call__(self) -> float:
        return self.t

    def sleep(self, seconds: float) -> None:
        self.t += seconds

    advance = sleep

    def wall(self) -> datetime:
        return datetime.fromtimestamp(self._epoch + self.t, tz=UTC)


class LiveClock:
    """Real time plus whatever `advance` added: a running simulator's clock (the store takes `wall`).

    `behind` starts it that many seconds in the past and makes `sleep` advance it instead of waiting, so that seeding
    a scenario (a second or so of start-up and settling on the cluster's clock) takes no real time; `catch_up` then
    jumps it forward to real time (never back) and `sleep` waits again. To the controllers the seeding looks like a
    settle that took `behind` seconds, as on a slow machine."""

    def __init__(self, behind: float = 0.0) -> None:
        self._offset = -behind
        self._epoch = time.time() - time.monotonic()
        self.seeding = behind > 0

    def __call__(self) -> float:
        return time.monotonic() + self._offset

    def advance(self, seconds: float) -> None:
        self._offset += seconds

    def sleep(self, seconds: float) -> None:
        if self.seeding:
            self.advance(seconds)
        else:
            time.sleep(seconds)

    def catch_up(self) -> None:
        """End the seeding: real time from now on. A seeding that used more than `behind` stays that far ahead."""
        self._offset = max(self._offset, 0.0)
        self.seeding = False

    def wall(self) -> datetime:
        return datetime.fromtimestamp(self._epoch + self(), tz=UTC)


class Cluster:
    def __init__(
        self,
        store: Store | None = None,
        timing: Timing = Timing(),
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] | None = None,
    ) -> None:
        self.store = store if store is not None else Store()
        self.timing = timing
        # The image catalogue (behaviors.Images): what an image does wherever it runs; not visible through the API.
        self.images: dict[str, dict[str, str]] = {}
        # image reference -> times it was pushed again (a new build under the same tag: a new digest from then on)
        self.builds: dict[str, int] = {}
        # Registries that want credentials (registries.Registries): host -> the "user:password" pairs they accept.
        self.registries: dict[str, frozenset[str]] = {}
        self._clock = clock
        self._sleep = sleep if sleep is not None else time.sleep
        self.recorder = EventRecorder(self.store, max_events=timing.max_events, ttl_seconds=timing.event_ttl)
        self.nodes = NodeController(self)
        self.deployments = DeploymentController(self)
        self.replicasets = ReplicaSetController(self)
        self.statefulsets = StatefulSetController(self)
        self.daemonsets = DaemonSetController(self)
        self.scheduler = Scheduler(self)
        self.kubelet = Kubelet(self)
        self.attachments = AttachDetach(self)
        self.jobs = JobController(self)
        self.endpoints = EndpointsController(self)
        self.hpa = HPAController(self)
        self.disruption = DisruptionController(self)
        self.gc = GarbageCollector(self)
        self.podgc = PodGC(self)
        self.quotas = QuotaController(self)
        self.taints = TaintEviction(self)
        self.serviceaccounts = ServiceAccountController(self.store)
        self.traffic = traffic_mod.Traffic()
        self.busy = True
        self.last_tick_seconds = 0.0
        self.ticks = 0
        self._tick_lock = threading.Lock()
        self._uid_cache: dict[str, set[str]] = {}
        self._node_index: dict[str, int] = {}
        self._ip_next: dict[str, int] = {}
        self._node_usage: tuple[int, dict[str, tuple[int, int]]] = (-1, {})
        self._next_expire = 0.0
        self.dated = Dating(self.now, timing.dated_window)

    # ----- time -----

    def now(self) -> float:
        return self._clock()

    def wall_seconds(self) -> float:
        return self.store.clock().timestamp()

    @staticmethod
    def parse_time(text: str) -> float | None:
        return _parse_time(text)

    # ----- running -----

    def tick(self) -> None:
        with self._tick_lock:
            started = time.perf_counter()
            snap = Snapshot.build(self.store, self.images)
            self._uid_cache = {}
            node_up = self.nodes.sync(snap)
            busy = self.deployments.sync(snap)
            busy = self.replicasets.sync(snap) or busy
            busy = self.statefulsets.sync(snap) or busy
            busy = self.daemonsets.sync(snap) or busy
            busy = self.jobs.sync(snap.pods) or busy
            busy = self.scheduler.sync(snap) or busy
            self.traffic = traffic_mod.compute(snap)
            busy = self.attachments.sync(snap, node_up) or busy
            busy = self.kubelet.sync(snap, self.traffic, node_up) or busy
            busy = self.endpoints.sync(snap) or busy
            busy = self.hpa.sync(snap) or busy
            busy = self.disruption.sync(snap) or busy
            busy = self.gc.sync(snap) or busy
            busy = self.podgc.sync(snap, node_up) or busy
            self.quotas.sync(snap)
            busy = self.taints.sync(snap) or busy
            busy = self.serviceaccounts.sync() or busy
            if self.now() >= self._next_expire:
                self._next_expire = self.now() + 10.0
                self.recorder.expire(self.store.clock)
            self.busy = busy
            self.ticks += 1
            self.last_tick_seconds = time.perf_counter() - started

    def settle(self, timeout: float = 10.0) -> bool:
        """Tick until three ticks in a row make no progress (see the module docstring); False on timeout."""
        deadline = self.now() + timeout
        quiet = 0
        while self.now() < deadline:
            self.tick()
            quiet = 0 if self.busy else quiet + 1
            if quiet >= 3:
                return True
            self._sleep(self.timing.tick)
        return False

    def run_for(self, seconds: float) -> None:
        """Tick every Timing.tick for `seconds` of cluster time."""
        deadline = self.now() + seconds
        while True:
            self.tick()
            if self.now() >= deadline:
                return
            self._sleep(min(self.timing.tick, max(deadline - self.now(), 0.0)))

    FIXED_CLOCK = "this cluster's clock cannot be advanced: build it with a ManualClock or a LiveClock"

    @property
    def can_advance(self) -> bool:
        return callable(getattr(self._clock, "advance", None))

    def advance(self, seconds: float, step: float = 1.0) -> None:
        """Let `seconds` of cluster time pass now, ticking every `step` of it (crash loops, back-offs, HPA syncs
        and deadlines move on as if that time had passed). The clock must be a ManualClock or a LiveClock; the
        cluster's wall clock moves ahead of real time by as much."""
        jump = getattr(self._clock, "advance", None)
        if jump is None:
            raise TypeError(self.FIXED_CLOCK)
        left = seconds
        while left > 0:
            moved = min(step, left)
            jump(moved)
            left -= moved
            self.tick()

    def run_until(self, check: Callable[[], bool], timeout: float = 10.0) -> bool:
        """Tick until `check()` holds; False when it still does not after `timeout` seconds."""
        deadline = self.now() + timeout
        while True:
            self.tick()
            if check():
                return True
            if self.now() >= deadline:
                return False
            self._sleep(self.timing.tick)

    # ----- helpers for controllers -----

    def uids(self, res: ResourceType) -> set[str]:
        cached = self._uid_cache.get(res.key)
        if cached is None:
            cached = {str(meta(o).get("uid")) for o in self.store.items(res)}
            self._uid_cache[res.key] = cached
        return cached

    def allocate_ip(self, node: str) -> str:
        index = self._node_index.setdefault(node, len(self._node_index))
        n = self._ip_next.get(node, 0)
        self._ip_next[node] = n + 1
        return f"10.{244 + index // 256}.{index % 256}.{2 + n % 250}"

    def node_ip(self, node: str) -> str:
        obj = self.store.peek(NODES, None, node)
        for address in ((obj or {}).get("status") or {}).get("addresses") or []:
            if address.get("type") == "InternalIP":
                return str(address.get("address"))
        index = self._node_index.setdefault(node, len(self._node_index))
        return f"172.18.{index // 250}.{2 + index % 250}"

    # ----- what the HTTP layer calls -----

    def pod_usage(self, pod: Obj) -> tuple[int, int] | None:
        """(CPU millicores, memory bytes) of a running pod; None if it is not running."""
        rt = self.kubelet.runtime.get(str(meta(pod).get("uid")))
        if rt is None or not any(c.state == "running" for c in rt.containers):
            return None
        b = rt.behavior
        jitter = sum(map(ord, rt.uid[:6]))  # stable per pod, so `kubectl top` numbers differ but do not flap
        owner = self.traffic.owner_of.get(rt.uid)
        share = self.traffic.share.get(owner) if owner is not None else None
        if b.cpu_millicores is not None:
            cpu = b.cpu_millicores
        elif share is not None:
            cpu = share
        else:
            cpu = max(rt.cpu_request // 5, 2) + jitter % 7
        if rt.cpu_limit is not None:
            cpu = min(cpu, rt.cpu_limit)  # CPU is throttled at the limit
        limit = rt.memory_limit
        if b.memory_growth and limit is not None:
            # A leak: the use climbs from where it starts by its growth per hour of the current run, to the limit.
            # Its uptime as the pod's status shows it (the kubelet writes it; a test may have dated it back).
            statuses = (pod.get("status") or {}).get("containerStatuses") or []
            starts = [
                self.parse_time(str(((c.get("state") or {}).get("running") or {}).get("startedAt") or ""))
                for c in statuses
            ]
            started = min((t for t in starts if t is not None), default=None)
            uptime = max(self.wall_seconds() - started, 0.0) if started is not None else 0.0
            mem = min(leak_base(b, limit) + int(b.memory_growth * uptime / 3600), limit)
        elif b.memory_bytes is not None:
            mem = b.memory_bytes
        elif b.kind == behaviors.OOM and limit is not None and b.memory_need is not None and limit < b.memory_need:
            mem = int(limit * 0.97)
        elif limit is not None:
            mem = int(limit * 0.4) + (jitter % 64) * 65536
        else:
            mem = behaviors.DEFAULT_MEMORY_BYTES + (jitter % 64) * 65536
        return cpu, mem

    def node_usage(self, node: Obj) -> tuple[int, int]:
        if self._node_usage[0] != self.ticks:
            totals: dict[str, tuple[int, int]] = {}
            for pod in self.store.items(PODS):
                node_name = (pod.get("spec") or {}).get("nodeName")
                usage = self.pod_usage(pod) if node_name else None
                if usage is not None and node_name:
                    cpu, mem = totals.get(node_name, (0, 0))
                    totals[node_name] = (cpu + usage[0], mem + usage[1])
            self._node_usage = (self.ticks, totals)
        cpu, mem = self._node_usage[1].get(str(meta(node).get("name")), (0, 0))
        return cpu + SYSTEM_CPU, mem + SYSTEM_MEMORY

    def pod_logs(
        self,
        namespace: str,
        name: str,
        *,
        container: str | None,
        previous: bool,
        tail_lines: int | None,
        since_seconds: int | None,
        timestamps: bool,
        limit_bytes: int | None,
    ) -> str:
        pod = self.store.peek(PODS, namespace, name)
        if pod is None:
            raise errors.not_found("pods", "", name)
        names = [str(c.get("name")) for c in (pod.get("spec") or {}).get("containers") or []]
        if container is None:
            if len(names) != 1:
                raise errors.bad_request(
                    f"a container name must be specified for pod {name}, choose one of: [{' '.join(names)}]"
                )
            container = names[0]
        inits = [str(c.get("name")) for c in (pod.get("spec") or {}).get("initContainers") or []]
        if container in inits and container not in names:
            # The simulated kubelet runs no init containers: one reads as having printed nothing, with no previous.
            if previous:
                raise errors.bad_request(f'previous terminated container "{container}" in pod "{name}" not found')
            return ""
        if container not in names:
            raise errors.bad_request(f"container {container} is not valid for pod {name}")
        rt = self.kubelet.runtime.get(str(meta(pod).get("uid")))
        c = next((x for x in rt.containers if x.name == container), None) if rt is not None else None
        if rt is None or c is None or (c.run is None and not previous):
            why = "trying and failing to pull image" if c is not None and c.pull_failures else "ContainerCreating"
            raise errors.bad_request(f'container "{container}" in pod "{name}" is waiting to start: {why}')
        lines = container_logs(rt, c, previous=previous, now=self.wall_seconds())
        if previous and not lines:
            raise errors.bad_request(f'previous terminated container "{container}" in pod "{name}" not found')
        if since_seconds is not None:
            cutoff = self.wall_seconds() - since_seconds
            lines = [entry for entry in lines if entry[0] >= cutoff]
        if tail_lines is not None:
            lines = lines[-tail_lines:] if tail_lines > 0 else []
        text = "".join(f"{rfc3339_nano(t)} {line}\n" if timestamps else f"{line}\n" for t, line in lines)
        if limit_bytes is not None:
            text = text.encode()[:limit_bytes].decode(errors="ignore")
        return text

    def evict(self, namespace: str, name: str, *, dry_run: bool, uid: str | None = None) -> None:
        """policy/v1 Eviction: 429 when a PodDisruptionBudget forbids it, 409 when `uid` is not the pod's, else a
        graceful delete."""
        self.disruption.evict(namespace, name, dry_run=dry_run, uid=uid)

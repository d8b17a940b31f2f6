"""Per-pod runtime state the simulated kubelet keeps outside the store (timers, restarts, runs for logs).

Layer: sim (the simulated cluster; apart from the product).
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass, field

from incident_response.sim.behaviors import PodBehavior, bytes_of, millicores
from incident_response.sim.controllers.backoff import AgedLoop
from incident_response.sim.controllers.common import Obj

NEVER = math.inf


@dataclass
class Run:
    """One execution of a container, kept so logs (and `--previous` logs) can be synthesised."""

    started: float  # epoch seconds
    ended: float | None = None
    reason: str = ""
    exit_code: int = 0


@dataclass(frozen=True)
class Probe:
    """Where a readiness probe connects: a port the pod serves (one of its containers' declared ports: they share
    the pod's network) or not (connection refused). A pod that declares no port is taken to serve any."""

    port: int | None  # None: a named port no container of the pod declares
    name: str  # the port as the probe names it
    path: str | None  # httpGet's path; None for tcpSocket
    scheme: str = "http"
    served: bool = True


def readiness_probe(container: Obj, pod_ports: dict[str, int]) -> Probe | None:
    """The container's readinessProbe as a Probe, `pod_ports` the declared ports of all the pod's containers
    (name -> number, numbers under their own string)."""
    probe = container.get("readinessProbe") or {}
    action = probe.get("httpGet") or probe.get("tcpSocket")
    if not isinstance(action, dict) or not pod_ports:
        return None
    port = action.get("port")
    number = port if isinstance(port, int) else pod_ports.get(str(port))
    if number is None and isinstance(port, str) and port.isdigit():
        number = int(port)
    path = str(action.get("path") or "/") if "httpGet" in probe else None
    scheme = str(action.get("scheme") or "HTTP").lower()
    return Probe(number, str(port), path, scheme, served=number is not None and str(number) in pod_ports)


@dataclass
class ContainerRuntime:
    name: str
    image: str
    port: int | None
    memory_limit: int | None
    cpu_limit: int | None
    pull_policy: str = "IfNotPresent"  # Always: every start pulls; IfNotPresent: only where the node lacks it
    state: str = "waiting"  # waiting | running | terminated
    reason: str = "ContainerCreating"
    message: str = ""
    started_mono: float = 0.0
    started_at: str = ""
    restarts: int = 0
    pull_failures: int = 0
    terminated: Obj | None = None
    last_terminated: Obj | None = None
    container_id: str = ""
    ever_started: bool = False
    ready: bool = False
    next_at: float = NEVER
    run: Run | None = None
    previous: Run | None = None
    # Crash-loop back-off (see backoff.py), on the cluster's monotonic clock.
    backoff: float = 0.0
    backoff_updated: float = 0.0
    exited: float = 0.0
    aged: AgedLoop | None = None  # the crash loop it was seeded with (its past, for the events it implies)

    digest: str = ""  # the repository@sha256 name of the build it runs (what the node pulled, or held)
    probe: Probe | None = None  # its readiness probe's target, when it has one (httpGet/tcpSocket)

    @property
    def image_id(self) -> str:
        return (self.digest or digest_name(self.image)) if self.ever_started else ""


def digest_name(image: str, build: int = 0) -> str:
    """The image's repository@sha256 name, as the runtime reports it (imageID, a node's status.images): one per
    build of the tag (`build` counts the times it was pushed again: POST /sim/images with "push")."""
    digest = hashlib.sha256(image.encode() + (f"\0build {build}".encode() if build else b"")).hexdigest()
    repo = image.split("@")[0].rsplit(":", 1)[0] if ":" in image.split("/")[-1] else image
    return f"{repo}@sha256:{digest}"


def image_size(image: str) -> int:
    """Bytes the image takes on a node (stable per reference: the pull event and status.images agree)."""
    return 20_000_000 + int(hashlib.sha256(image.encode()).hexdigest()[:6], 16) * 16


@dataclass
class PodRuntime:
    uid: str
    namespace: str
    name: str
    node: str
    behavior: PodBehavior
    containers: list[ContainerRuntime]
    cpu_limit: int | None
    cpu_request: int
    memory_limit: int | None
    restart_policy: str = "Always"  # Never / OnFailure: an exited container stays exited (see Kubelet._advance)
    pod_ip: str = ""
    host_ip: str = ""
    start_time: str = ""
    admitted: float = 0.0
    since: float | None = None  # cluster time it started, for a pod seeded or dated as running since the past
    cond_times: dict[str, tuple[str, str]] = field(default_factory=dict)
    written: tuple[object, ...] | None = None
    deleting_at: float | None = None
    last_probe_event: float = -NEVER
    attach_timeouts: int = 0  # how often the kubelet reported waiting for a volume to attach (every 2 minutes)
    unhealthy: str = ""  # why readiness fails right now ("" when it passes or is not probed)
    ready: bool = False
    # The stored pod object last seen with nothing pending, and the traffic inputs it was evaluated with.
    steady: Obj | None = None
    inputs: tuple[object, ...] = ()

    @property
    def finished(self) -> bool:
        """Every container exited for good: the pod is Succeeded or Failed."""
        return bool(self.containers) and all(c.state == "terminated" and c.next_at == NEVER for c in self.containers)

    @property
    def next_at(self) -> float:
        return min((c.next_at for c in self.containers), default=NEVER)


def pod_ports(pod: Obj) -> dict[str, int]:
    """The ports the pod's containers declare: name -> number, and each number under its own string."""
    ports: dict[str, int] = {}
    for container in (pod.get("spec") or {}).get("containers") or []:
        for port in container.get("ports") or []:
            number = port.get("containerPort") if isinstance(port, dict) else None
            if isinstance(number, int):
                ports[str(number)] = number
                if port.get("name"):
                    ports[str(port["name"])] = number
    return ports


def container_runtimes(pod: Obj) -> list[ContainerRuntime]:
    out = []
    served = pod_ports(pod)
    for container in (pod.get("spec") or {}).get("containers") or []:
        limits = (container.get("resources") or {}).get("limits") or {}
        ports = [p.get("containerPort") for p in container.get("ports") or [] if isinstance(p, dict)]
        out.append(
            ContainerRuntime(
                name=str(container.get("name", "")),
                image=str(container.get("image", "")),
                port=int(ports[0]) if ports and isinstance(ports[0], int) else None,
                memory_limit=bytes_of(limits.get("memory")),
                cpu_limit=millicores(limits.get("cpu")),
                pull_policy=str(container.get("imagePullPolicy") or "IfNotPresent"),
                probe=readiness_probe(container, served),
            )
        )
    return out

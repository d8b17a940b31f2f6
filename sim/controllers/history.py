"""The events a kubelet would have left for a pod that has been running, or crash-looping, since the past.

Pods seeded by scenarios and pods of a dated revision (rolled-out-minutes-ago) start with that past; these
are the event series it implies, with counts and first/last times, as long as the API server would still
keep them (a series last seen more than an hour ago has expired).

Layer: sim (the simulated cluster; apart from the product).
"""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING

from incident_response.sim.controllers.common import Obj
from incident_response.sim.controllers.runtime import ContainerRuntime, PodRuntime

if TYPE_CHECKING:
    from incident_response.sim.cluster import Cluster

COMPONENT = "kubelet"


def record_past(cluster: Cluster, pod: Obj, rt: PodRuntime, age: float, run: float) -> None:
    """Events of `pod` over the `age` seconds it has run; `run` is how long a crashing container stays up."""
    ttl = cluster.recorder.ttl_seconds
    if age > ttl and all(c.aged is None for c in rt.containers):
        return  # a quiet pod older than the events' TTL: nothing left (the common case when seeding 10,000)
    now = cluster.store.clock()
    for c in rt.containers:
        for type_, reason, message, first, last, count in _series(rt, c, age, run):
            if last > ttl or count < 1:
                continue
            cluster.recorder.record(
                pod,
                type_,
                reason,
                message,
                component=COMPONENT,
                host=rt.node,
                field_path=f"spec.containers{{{c.name}}}",
                when=now - timedelta(seconds=last),
                first=now - timedelta(seconds=first),
                count=count,
            )


def _series(
    rt: PodRuntime, c: ContainerRuntime, age: float, run: float
) -> list[tuple[str, str, str, float, float, int]]:
    """(type, reason, message, first seconds ago, last seconds ago, count) for one container."""
    loop = c.aged
    starts = 1 + (loop.restarts if loop is not None else 0)
    last_start = age if loop is None else (loop.since if loop.running else (loop.exited or 0.0) + run)
    out = [
        ("Normal", "Pulled", f'Container image "{c.image}" already present on machine', age, last_start, starts),
        ("Normal", "Created", f"Created container: {c.name}", age, last_start, starts),
        ("Normal", "Started", f"Started container {c.name}", age, last_start, starts),
    ]
    if loop is None or loop.exited is None:
        return out
    exits = loop.restarts + (0 if loop.running else 1)
    if (c.last_terminated or {}).get("reason") == "OOMKilled":
        message = (
            f"Memory cgroup out of memory: Killed process 1 ({c.name}) total-vm:1048576kB, "
            f"anon-rss:{(c.memory_limit or 0) // 1024}kB, file-rss:0kB, shmem-rss:0kB"
        )
        out.append(("Warning", "OOMKilling", message, age - run, loop.exited, exits))
    # The first exit restarts at once; every later one waits its back-off, reported until the restart.
    backoff = f"Back-off restarting failed container {c.name} in pod {rt.name}_{rt.namespace}({rt.uid})"
    out.append(("Warning", "BackOff", backoff, age - 2 * run, loop.since if loop.running else 0.0, exits - 1))
    return out

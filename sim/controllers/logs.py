"""Container logs synthesised from a container's runs, so 10,000 pods cost nothing until someone reads them.

Each run yields a startup line, then one line per second of its life shaped by the pod's behaviour, then how it
ended; at most MAX_LINES of the newest lines are kept, as the kubelet's log rotation would.

Layer: sim (the simulated cluster; apart from the product).
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime

from incident_response.sim import behaviors
from incident_response.sim.controllers.runtime import ContainerRuntime, PodRuntime, Run

MAX_LINES = 1000
_PATHS = ("/api/cart", "/api/products", "/api/checkout", "/healthz", "/api/orders", "/api/session", "/")
_DSN = "postgres://checkout:s3cr3t@db:5432"


def rfc3339_nano(epoch: float) -> str:
    moment = datetime.fromtimestamp(epoch, tz=UTC)
    nanos = int(round((epoch - int(epoch)) * 1e9)) % 1_000_000_000
    return moment.strftime("%Y-%m-%dT%H:%M:%S") + f".{nanos:09d}Z"


def _pick(seed: str, i: int, n: int) -> int:
    return int.from_bytes(hashlib.blake2b(f"{seed}:{i}".encode(), digest_size=4).digest(), "big") % n


def run_lines(rt: PodRuntime, c: ContainerRuntime, run: Run, now: float, unhealthy: str) -> list[tuple[float, str]]:
    end = run.ended if run.ended is not None else now
    kind = rt.behavior.kind
    port = c.port or 8080
    lines: list[tuple[float, str]] = [
        (run.started, f'level=info msg="starting {c.name}" image={c.image} pid=1'),
        (run.started + 0.001, f'level=info msg="listening" addr=0.0.0.0:{port}'),
        *((run.started + 0.0015, line) for line in rt.behavior.log_lines),
    ]
    if kind == behaviors.CRASHLOOP and rt.behavior.missing_env:  # a configuration error: it exits before serving
        fatal = f'level=fatal msg="required setting is not set" env={rt.behavior.missing_env}'
        return [lines[0], *([(end, fatal)] if run.ended is not None else [])]
    if kind == behaviors.CRASHLOOP:
        lines.append(
            (run.started + 0.002, f'level=info msg="connecting to database" dsn={_DSN}/orders?sslmode=disable')
        )
        if run.ended is not None:
            lines += [
                (end, f"panic: connection refused: {_DSN}"),
                (end, ""),
                (end, "goroutine 1 [running]:"),
                (end, "main.mustConnect(...)"),
                (end, "\t/src/cmd/server/main.go:48 +0x1f4"),
            ]
        return lines
    if kind == behaviors.OOM:
        lines.append((run.started + 0.002, 'level=info msg="warming cache" target=512Mi'))
        if run.ended is not None:
            lines.append((end - 0.001, 'level=info msg="cache fill progress" loaded=87%'))
        return lines
    first = int(run.started) + 1
    seed = rt.uid + c.name
    for second in range(max(first, int(end) - MAX_LINES), int(end) + 1):
        i = second - first
        if kind == behaviors.NOT_READY:
            line = rt.behavior.not_ready_line or (
                'level=error msg="health check failed" dependency=redis:6379 '
                'err="dial tcp 10.96.0.42:6379: i/o timeout"'
            )
            lines.append((float(second), line))
        elif unhealthy and second >= end - 30:
            lines.append((float(second), f'level=error msg="request failed" status=500 err="{unhealthy}"'))
        else:
            path = _PATHS[_pick(seed, i, len(_PATHS))]
            latency = 2 + _pick(seed, -i, 40)
            client = f"10.244.{_pick(seed, i, 3)}.{10 + _pick(seed, i + 7, 200)}"
            lines.append((float(second), f'{client} - - "GET {path} HTTP/1.1" 200 {512 + latency * 7} {latency}ms'))
    return lines


def container_logs(rt: PodRuntime, c: ContainerRuntime, *, previous: bool, now: float) -> list[tuple[float, str]]:
    run = previous_run(c) if previous else c.run
    if run is None:
        return []
    lines = run_lines(rt, c, run, now, rt.unhealthy)
    return lines[-MAX_LINES:]


def previous_run(c: ContainerRuntime) -> Run | None:
    """The last terminated run: while a container waits to restart, that is the run that just died."""
    if c.state != "running" and c.run is not None and c.run.ended is not None:
        return c.run
    return c.previous

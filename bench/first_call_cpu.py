"""bench/startup.py's first and warm calls, with the CPU each costs where it is spent: the server process (all its
threads, from /proc/<pid>/task/*/schedstat), the client's thread, and the simulated cluster ("cluster": the other
threads of this process). On a shared machine the wall times swing with the load; the CPU shows what a first call
does that a warm one does not. Also one more call after the server sat idle again for the think time (idle costs
something too: the caches are cold). Linux only (/proc).

    python bench/first_call_cpu.py [-n 6] [--think SECONDS] 2>/dev/null
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

import anyio
from mcp import Client
from mcp.client.stdio import StdioServerParameters

from incident_response.sim.serve import run_sim

sys.path.insert(0, str(Path(__file__).resolve().parent))
from startup import LAUNCHER, WARM_CALLS, environment  # noqa: E402

# wall, server CPU (None when a server thread ended during the call: the warm-up, still running when the call came,
# whose CPU can no longer be read), client CPU, simulated cluster CPU (ms)
Row = tuple[float, float | None, float, float]


def cpu_ms(pid: int, *, skip: int | None = None) -> float:
    """CPU of every thread of `pid` (but `skip`), in milliseconds."""
    total = 0
    for task in os.listdir(f"/proc/{pid}/task"):
        if skip is not None and int(task) == skip:
            continue
        try:
            total += int(Path(f"/proc/{pid}/task/{task}/schedstat").read_text().split()[0])
        except OSError:  # the thread ended meanwhile
            continue
    return total / 1e6


def server_pid() -> int:
    """The server this process spawned (its only Python child)."""
    me = os.getpid()
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()
                command = Path(f"/proc/{entry}/cmdline").read_text()
            except OSError:
                continue
            if int(stat[1]) == me and "python" in command:
                return int(entry)
    raise SystemExit("no server process found")


def threads(pid: int) -> set[str]:
    return set(os.listdir(f"/proc/{pid}/task"))


async def timed(client: Client, pid: int) -> Row:
    me = os.getpid()
    before = threads(pid)
    server, client_cpu, sim, wall = cpu_ms(pid), time.thread_time(), cpu_ms(me, skip=me), time.perf_counter()
    result = await client.call_tool("list_pods", {"namespace": "shop"})
    row = (
        1000 * (time.perf_counter() - wall),
        cpu_ms(pid) - server if before <= threads(pid) else None,
        1000 * (time.thread_time() - client_cpu),
        cpu_ms(me, skip=me) - sim,
    )
    if result.is_error:
        raise SystemExit(f"list_pods failed: {result.content}")
    return row


async def run(params: StdioServerParameters, think: float) -> tuple[Row, list[Row], Row]:
    async with Client(params, mode="legacy") as client:
        tools = (await client.list_tools()).tools
        schema = next(t.output_schema for t in tools if t.name == "list_pods")
        client.session._output_schema_validator("list_pods", schema or {})  # noqa: SLF001 (as bench/startup.py)
        await anyio.sleep(think)
        pid = server_pid()
        first = await timed(client, pid)
        warm = [await timed(client, pid) for _ in range(WARM_CALLS)]
        await anyio.sleep(think)
        return first, warm, await timed(client, pid)


def show(label: str, rows: list[Row]) -> str:
    wall, client, sim = (statistics.median(r[i] for r in rows) for i in (0, 2, 3))  # type: ignore[type-var]
    read = [r[1] for r in rows if r[1] is not None]
    server = f"{statistics.median(read):5.1f}" if read else "  n/a"
    busy = f" (server CPU of {len(read)} of {len(rows)}: the warm-up still ran)" if len(read) < len(rows) else ""
    return f"  {label}: wall {wall:5.1f} ms; CPU: server {server}, client {client:4.1f}, cluster {sim:4.1f}{busy}"


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("-n", type=int, default=6, help="server processes (default 6)")
    parser.add_argument("--think", type=float, default=1.0, help="seconds before the first call (default 1.0)")
    args = parser.parse_args()
    print(f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}")
    print(f"load average (1, 5, 15 min) at the start: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    firsts: list[Row] = []
    warms: list[Row] = []
    idles: list[Row] = []
    with tempfile.TemporaryDirectory() as home, run_sim("healthy", kubeconfig_path=Path(home) / "kubeconfig") as sim:
        params = StdioServerParameters(
            command=sys.executable,
            args=["-c", LAUNCHER, "--kubeconfig", str(sim.kubeconfig_path), "--state-dir", f"{home}/state"],
            env=environment(home),
        )
        for _ in range(args.n):
            first, warm, idle = await run(params, args.think)
            firsts.append(first)
            warms += warm
            idles.append(idle)
    print(f"load average (1, 5, 15 min) at the end: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    print(f"list_pods, {args.n} servers, {args.think:g} s of think time, medians:")
    print(show("first call        ", firsts))
    print(show("warm calls        ", warms))
    print(show("after idle again  ", idles))


if __name__ == "__main__":
    anyio.run(main)

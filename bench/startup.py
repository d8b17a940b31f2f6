"""Startup benchmark: spawn the server over stdio, initialize, list tools; print the median over N runs.

    python bench/startup.py [-n 10] [--mode legacy|auto] [--baseline] [--breakdown]

`--baseline` also times `python -c "import mcp.server"` alone: the floor any server on this SDK pays, so a
loaded machine can be told apart from a slow server. It is printed twice: as a whole process, and ending with
`os._exit(0)`. The second is the comparable floor: the server's timing stops at the tools/list answer, before its
interpreter tears down the SDK's modules (~0.1-0.2 s), which the first includes.

`--breakdown` times, in a fresh process each run, what the server adds to that floor: importing our modules after the
SDK, and `build_server` (every tool's argument model and input/output schema).

Runs with no kubeconfig (HOME points at an empty directory), as a client connecting before any cluster is set up.
Target (issue 3): median under 1.0 s on a 2-core machine.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from typing import Literal

import anyio
from mcp import Client
from mcp.client.stdio import StdioServerParameters

LAUNCHER = "from incident_response.server.cli import main; main()"


async def one_run(home: str, mode: Literal["legacy", "auto"]) -> tuple[float, int]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("KUBE", "INCIDENT_RESPONSE_"))}
    env["HOME"] = home
    params = StdioServerParameters(
        command=sys.executable, args=["-c", LAUNCHER, "--state-dir", os.path.join(home, "state")], env=env
    )
    started = time.perf_counter()
    async with Client(params, mode=mode) as client:
        tools = (await client.list_tools()).tools
        elapsed = time.perf_counter() - started
    return elapsed, len(tools)


# Prints "<seconds importing our modules> <seconds in build_server>" after the SDK is imported.
BREAKDOWN = """
import pathlib, sys, tempfile, time
import mcp.server, mcp.server.mcpserver
started = time.perf_counter()
from incident_response.server.app import build_server
from incident_response.server.config import Settings
imported = time.perf_counter()
build_server(Settings(state_dir=pathlib.Path(tempfile.mkdtemp())))
print(imported - started, time.perf_counter() - imported)
"""


def breakdown_run() -> tuple[float, float]:
    done = subprocess.run([sys.executable, "-c", BREAKDOWN], check=True, capture_output=True, text=True)
    ours, build = done.stdout.split()
    return float(ours), float(build)


def baseline_run(code: str) -> float:
    started = time.perf_counter()
    subprocess.run([sys.executable, "-c", code], check=True)
    return time.perf_counter() - started


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("-n", type=int, default=10, help="runs (default 10)")
    parser.add_argument(
        "--mode",
        choices=["legacy", "auto"],
        default="legacy",
        help="legacy: initialize handshake (default); auto: 2026-07-28 discovery first",
    )
    parser.add_argument("--baseline", action="store_true", help="also time importing the MCP SDK alone")
    parser.add_argument("--breakdown", action="store_true", help="also time our imports and build_server")
    args = parser.parse_args()
    # Other test runs share this machine: the load average says how far to trust the numbers.
    print(f"load average (1, 5, 15 min) at the start: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    times = []
    with tempfile.TemporaryDirectory() as home:
        for _ in range(args.n):
            elapsed, count = await one_run(home, args.mode)
            times.append(elapsed)
    if args.baseline:
        floor = [baseline_run("import mcp.server") for _ in range(args.n)]
        print(f"baseline: python -c 'import mcp.server' (n={args.n}): median {statistics.median(floor):.3f}s")
        floor = [baseline_run("import mcp.server, os; os._exit(0)") for _ in range(args.n)]
        print(f"baseline without interpreter teardown (os._exit): median {statistics.median(floor):.3f}s")
    if args.breakdown:
        parts = [breakdown_run() for _ in range(args.n)]
        print(
            f"our imports after the SDK (n={args.n}): median {statistics.median(p[0] for p in parts):.3f}s; "
            f"build_server: median {statistics.median(p[1] for p in parts):.3f}s"
        )
    print(f"load average (1, 5, 15 min) at the end: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    print(
        f"spawn -> initialize -> tools/list ({args.mode}, {count} tools, n={args.n}): "
        f"median {statistics.median(times):.3f}s, min {min(times):.3f}s, max {max(times):.3f}s"
    )


if __name__ == "__main__":
    anyio.run(main)

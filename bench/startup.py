"""Startup benchmark, paired: spawn -> initialize -> tools/list for our server and for a bare MCPServer with one tool
(bench/bare_server.py), alternating in one run, so a loaded machine slows both alike; then our first tool call.

    python bench/startup.py [-n 10] [--mode legacy|auto] [--think SECONDS] [--settle SECONDS] [--breakdown]

Each pair spawns both servers over stdio (the order alternates) and times spawn -> initialize (or, with --mode
auto, 2026-07-28 discovery) -> tools/list. The SDK's import dominates both; the ratio of the medians is our share.
Target (issue 13): at most 1.2.

Our server runs against a simulated cluster (scenario healthy, in this process). After tools/list the client waits
--think seconds (default 1.0: a model takes at least that to write its first call), then calls list_pods once (the
first call) and five more times (warm calls). Target: the first call at most 1.5x the median warm call, so the first
call does not pay the Kubernetes client's import. The client's own first-result cost (compiling the tool's output
schema validator) is paid before the first call is timed.

The warm calls come right after the first, while the server's warm-up may still build the tools it has not built yet
(it stands aside during each call, not between them): on a loaded machine that slows them and flatters the ratio. So
the client then waits --settle seconds more (default 2.0; 0: not measured) and makes five more calls, the "settled"
ones, the warm-up done; the first call against their median is printed too (the target line is unchanged).

`--breakdown` also times, in a fresh process each run, what our server adds after the SDK's import: importing our
modules, and `build_server` (every tool's argument model and input/output schema).
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import anyio
from mcp import Client
from mcp.client.stdio import StdioServerParameters

from incident_response.sim.serve import run_sim

HERE = Path(__file__).resolve().parent
LAUNCHER = "from incident_response.server.cli import main; main()"
WARM_CALLS = 5
Mode = Literal["legacy", "auto"]


def environment(home: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("KUBE", "INCIDENT_RESPONSE_"))}
    env["HOME"] = home  # never the developer's ~/.kube
    return env


async def handshake(params: StdioServerParameters, mode: Mode) -> tuple[float, int]:
    started = time.perf_counter()
    async with Client(params, mode=mode) as client:
        tools = (await client.list_tools()).tools
        return time.perf_counter() - started, len(tools)


@dataclass
class OurRun:
    handshake: float
    tools: int
    first_call: float
    warm_calls: list[float]
    settled_calls: list[float]


async def ours(params: StdioServerParameters, mode: Mode, think: float, settle: float = 0.0) -> OurRun:
    started = time.perf_counter()
    async with Client(params, mode=mode) as client:
        tools = (await client.list_tools()).tools
        listed = time.perf_counter() - started
        # The client compiles a tool's output-schema validator (and imports jsonschema) on its first result: a cost of
        # the client, the same for any server, not of ours. Paid here, before the first call is timed.
        schema = next(t.output_schema for t in tools if t.name == "list_pods")
        client.session._output_schema_validator("list_pods", schema or {})  # noqa: SLF001 (no public hook)
        await anyio.sleep(think)
        calls = []
        for call in range(1 + WARM_CALLS + (WARM_CALLS if settle > 0 else 0)):
            if call == 1 + WARM_CALLS:
                await anyio.sleep(settle)
            began = time.perf_counter()
            result = await client.call_tool("list_pods", {"namespace": "shop"})
            calls.append(time.perf_counter() - began)
            if result.is_error:
                raise SystemExit(f"list_pods failed: {result.content}")
        return OurRun(listed, len(tools), calls[0], calls[1 : 1 + WARM_CALLS], calls[1 + WARM_CALLS :])


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
    ours_, build = done.stdout.split()
    return float(ours_), float(build)


def load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.0f} ms"


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("-n", type=int, default=10, help="pairs (default 10)")
    parser.add_argument("--mode", choices=["legacy", "auto"], default="legacy", help="legacy: initialize (default)")
    parser.add_argument("--think", type=float, default=1.0, help="seconds between tools/list and the first call")
    parser.add_argument(
        "--settle", type=float, default=2.0, help="seconds after the warm calls before the settled ones (0: none)"
    )
    parser.add_argument("--breakdown", action="store_true", help="also time our imports and build_server")
    args = parser.parse_args()
    mode: Mode = args.mode
    print(f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}")
    print(f"load average (1, 5, 15 min) at the start: {load()}")
    bare_times: list[float] = []
    runs: list[OurRun] = []
    with tempfile.TemporaryDirectory() as home, run_sim("healthy", kubeconfig_path=Path(home) / "kubeconfig") as sim:
        env = environment(home)
        our_params = StdioServerParameters(
            command=sys.executable,
            args=["-c", LAUNCHER, "--kubeconfig", str(sim.kubeconfig_path), "--state-dir", f"{home}/state"],
            env=env,
        )
        bare_params = StdioServerParameters(command=sys.executable, args=[str(HERE / "bare_server.py")], env=env)
        for pair in range(args.n):
            for which in ("ours", "bare") if pair % 2 == 0 else ("bare", "ours"):
                if which == "ours":
                    runs.append(await ours(our_params, mode, args.think, args.settle))
                else:
                    bare_times.append((await handshake(bare_params, mode))[0])
    our_times = [run.handshake for run in runs]
    bare, mine = statistics.median(bare_times), statistics.median(our_times)
    per_pair = statistics.median(o / b for o, b in zip(our_times, bare_times, strict=True))
    print(f"load average (1, 5, 15 min) at the end: {load()}")
    print(f"spawn -> {'initialize' if mode == 'legacy' else 'discover'} -> tools/list, {args.n} pairs:")
    print(f"  bare MCPServer, 1 tool: median {bare:.3f} s (min {min(bare_times):.3f}, max {max(bare_times):.3f})")
    print(
        f"  ours, {runs[0].tools} tools:        median {mine:.3f} s "
        f"(min {min(our_times):.3f}, max {max(our_times):.3f})"
    )
    print(f"  ratio of the medians {mine / bare:.2f} (target <= 1.2); median of the pairs' ratios {per_pair:.2f}")
    first = statistics.median(run.first_call for run in runs)
    warm = statistics.median(call for run in runs for call in run.warm_calls)
    print(
        f"first call (list_pods on the sim, {args.think:g} s after tools/list): median {ms(first)}; warm calls: "
        f"median {ms(warm)}; ratio {first / warm:.2f} (target <= 1.5)"
    )
    if args.settle > 0:
        settled = statistics.median(call for run in runs for call in run.settled_calls)
        print(
            f"  settled calls ({args.settle:g} s after the warm calls, the warm-up done): median {ms(settled)}; "
            f"first call / settled {first / settled:.2f}"
        )
    if args.breakdown:
        parts = [breakdown_run() for _ in range(args.n)]
        print(
            f"our imports after the SDK (n={args.n}): median {statistics.median(p[0] for p in parts):.3f} s; "
            f"build_server: median {statistics.median(p[1] for p in parts):.3f} s"
        )


if __name__ == "__main__":
    anyio.run(main)

"""What masking's cold path costs a call: list_pods with masking's clean-text cache emptied (every text masked cold,
as on a first call) against the same call with the cache warm (as bench/startup.py's repeated warm calls have it),
with the rules' gates (as served) and with every rule run on every text (as before the gates,
tools/core/masking_gates.py). In process, after one list_pods has warmed every other code path and the incident is
open, and with the client's output-schema validator compiled first (the client's cost, as in bench/startup.py), so
the difference is masking's alone.

    python bench/first_call_cache.py [-n 7] 2>/dev/null
"""

from __future__ import annotations

import argparse
import os
import pathlib
import platform
import statistics
import tempfile
import time
from typing import Any

import anyio
from mcp import Client

from incident_response.server.app import build_server
from incident_response.server.config import Settings, resolve_cluster
from incident_response.sim.serve import run_sim
from incident_response.tools.core import masking

original = masking._mask_once
masked_cold: list[float] = []  # thread CPU seconds of each text masked cold in the current call
way = {"gated": True}  # False: every rule on every text


def counted(text: str, vendor_rules: bool, *_: Any) -> tuple[str, int]:
    started = time.thread_time()
    try:
        return original(text, vendor_rules, way["gated"])
    finally:
        masked_cold.append(time.thread_time() - started)


async def call(client: Client, *, cold: bool) -> tuple[float, int, float]:
    """Milliseconds of one list_pods, texts masked cold, milliseconds masking them."""
    if cold:
        masking._CLEAN.clear()
    masked_cold.clear()
    started = time.perf_counter()
    result = await client.call_tool("list_pods", {"namespace": "shop"})
    elapsed = time.perf_counter() - started
    if result.is_error:
        raise SystemExit(f"list_pods failed: {result.content}")
    return 1000 * elapsed, len(masked_cold), 1000 * sum(masked_cold)


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("-n", type=int, default=7, help="cold/warm pairs per way of masking (default 7)")
    args = parser.parse_args()
    print(f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}")
    print(f"load average (1, 5, 15 min) at the start: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    folder = pathlib.Path(tempfile.mkdtemp())
    with run_sim("healthy", kubeconfig_path=folder / "kubeconfig") as sim:
        assert sim.kubeconfig_path is not None
        cluster = resolve_cluster(sim.kubeconfig_path, None, {})
        settings = Settings(state_dir=folder / "state", kubeconfig=sim.kubeconfig_path, cluster=cluster)
        async with Client(build_server(settings)) as client:
            tools = (await client.list_tools()).tools
            schema = next(t.output_schema for t in tools if t.name == "list_pods")
            client.session._output_schema_validator("list_pods", schema or {})  # noqa: SLF001 (the client's cost)
            masking._mask_once = counted  # type: ignore[assignment]
            await call(client, cold=True)  # builds the tools, opens the incident, warms every other path
            ways = {True: "with the gates (as served)", False: "every rule on every text"}
            rows: dict[tuple[bool, bool], list[tuple[float, int, float]]] = {}
            for _ in range(args.n):  # every way in turn, so a busier moment of the machine slows them alike
                for gated in ways:
                    way["gated"] = gated
                    for cold in (True, False):
                        rows.setdefault((gated, cold), []).append(await call(client, cold=cold))
            for gated, label in ways.items():
                print(f"list_pods, {label}, median of {args.n}:")
                for cold, cache in ((True, "cache emptied"), (False, "cache warm   ")):
                    ms, texts, masking_ms = (statistics.median(r[i] for r in rows[gated, cold]) for i in range(3))
                    print(f"  {cache}: {ms:5.1f} ms, {texts:.0f} texts masked cold in {masking_ms:.2f} ms")
    print(f"load average (1, 5, 15 min) at the end: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    anyio.run(main)

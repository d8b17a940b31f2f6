"""What a first tool call pays that a warm one does not, once the tools are built and the incident is open: masking
the texts its clean-text cache has not seen yet (tools/core/masking.py). bench/startup.py's warm calls repeat the
same list_pods, so they hit that cache; this script empties only the cache before the first of four calls.

    python bench/first_call_cache.py 2>/dev/null
"""

from __future__ import annotations

import pathlib
import platform
import tempfile
import time
from typing import Any

import anyio
from mcp import Client

from incident_response.server.app import build_server
from incident_response.server.config import Settings, resolve_cluster
from incident_response.sim.serve import run_sim
from incident_response.tools.core import masking


async def main() -> None:
    print(f"{platform.machine()}, Python {platform.python_version()}")
    folder = pathlib.Path(tempfile.mkdtemp())
    with run_sim("healthy", kubeconfig_path=folder / "kubeconfig") as sim:
        assert sim.kubeconfig_path is not None
        cluster = resolve_cluster(sim.kubeconfig_path, None, {})
        settings = Settings(state_dir=folder / "state", kubeconfig=sim.kubeconfig_path, cluster=cluster)
        async with Client(build_server(settings)) as client:
            await client.list_tools()
            await client.call_tool("server_info", {})  # builds the tools and opens the incident
            masking._CLEAN.clear()
            cold = 0
            original = masking._mask_once

            def counted(*args: Any, **kwargs: Any) -> tuple[str, int]:
                nonlocal cold
                cold += 1
                return original(*args, **kwargs)

            masking._mask_once = counted  # type: ignore[assignment]
            for call in range(4):
                cold, start = 0, time.perf_counter()
                await client.call_tool("list_pods", {"namespace": "shop"})
                print(f"list_pods call {call}: {1000 * (time.perf_counter() - start):.1f} ms, {cold} texts masked cold")


if __name__ == "__main__":
    anyio.run(main)

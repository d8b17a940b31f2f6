"""End to end over streamable HTTP: the real `serve --http` command as a subprocess, driven by the SDK's client."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import anyio
import pytest
from mcp import Client

from incident_response.sim.resources import PODS
from incident_response.sim.serve import RunningSim

pytestmark = pytest.mark.anyio

LAUNCHER = "from incident_response.server.cli import main; main()"
# Generous: the server imports the SDK (~0.7 s idle) on a 2-core machine shared with other test runs.
STARTUP_TIMEOUT = 60.0


# `--port 0`: the OS picks a free port when the server binds it, and uvicorn logs the one it got. No port is picked
# beforehand, so another process cannot take it in between.
LISTENING = re.compile(r"Uvicorn running on http://127\.0\.0\.1:(\d+)")


def wait_for_listening(process: subprocess.Popen[bytes], log: Path, timeout: float) -> int:
    """Poll the server's log for the port it listens on; fail early (with its log) if it exits, or after `timeout`."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = LISTENING.search(log.read_text(errors="replace"))
        if found:
            return int(found.group(1))
        if process.poll() is not None:
            pytest.fail(f"server exited with {process.returncode} before listening:\n{log.read_text()}")
        time.sleep(0.1)  # polling a file another process writes: no event to wait on
    pytest.fail(f"server did not listen within {timeout:.0f}s:\n{log.read_text()}")


@contextmanager
def http_server(sim: RunningSim, tmp_path: Path) -> Iterator[str]:
    """`incident-response-mcp serve --http` against the sim; yields the MCP endpoint URL, stops the server after."""
    assert sim.kubeconfig_path is not None
    env = {k: v for k, v in os.environ.items() if not k.startswith(("KUBE", "INCIDENT_RESPONSE_"))}
    env["HOME"] = str(tmp_path)  # never read the developer's ~/.kube
    argv = [
        sys.executable, "-c", LAUNCHER, "serve", "--http", "--host", "127.0.0.1", "--port", "0",
        "--kubeconfig", str(sim.kubeconfig_path), "--state-dir", str(tmp_path / "state"),
    ]  # fmt: skip
    log = tmp_path / "server.log"
    with log.open("wb") as out:
        process = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT, env=env)
    try:
        port = wait_for_listening(process, log, STARTUP_TIMEOUT)
        yield f"http://127.0.0.1:{port}/mcp"
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


async def test_over_http_initialize_list_tools_and_list_pods(
    sim_factory: Callable[..., RunningSim], tmp_path: Path
) -> None:
    sim = sim_factory("healthy")
    with sim.store.lock:
        expected = {pod["metadata"]["name"] for pod in sim.store.items(PODS, "shop")}
    assert expected
    with http_server(sim, tmp_path) as url:
        # legacy: the initialize handshake (stateful session); auto: 2026-07-28 discovery, no session.
        for mode, version in (("legacy", "2025-11-25"), ("auto", "2026-07-28")):
            with anyio.fail_after(60):
                async with Client(url, mode=mode) as client:
                    assert client.protocol_version == version
                    tools = {tool.name: tool for tool in (await client.list_tools()).tools}
                    result = await client.call_tool("list_pods", {"namespace": "shop", "limit": 500})
            assert "list_pods" in tools and "assess_namespace" in tools, mode
            list_pods = tools["list_pods"]
            assert list_pods.annotations is not None and list_pods.annotations.read_only_hint, mode
            assert list_pods.output_schema is not None, mode
            assert not result.is_error, result.content
            assert result.structured_content is not None
            pods = result.structured_content["pods"]
            assert {pod["name"] for pod in pods} == expected, mode
            assert all(pod["status"] == "Running" for pod in pods), pods

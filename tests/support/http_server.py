"""`incident-response-mcp serve --http` as a subprocess against a simulated cluster, and clients with credentials."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path
from typing import Any

import anyio
import httpx2
import pytest
from mcp import Client
from mcp.client.streamable_http import streamable_http_client
from mcp.shared._httpx_utils import create_mcp_http_client

from incident_response.sim.serve import RunningSim

LAUNCHER = "from incident_response.server.cli import main; main()"
# Generous: the server imports the SDK (~0.7 s idle) on a 2-core machine shared with other test runs.
STARTUP_TIMEOUT = 60.0
ONCALL = "oncall-token-" + "x" * 32  # the principal `oncall` in the credentials file these tests write


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


def serve_argv(sim: RunningSim, tmp_path: Path, *extra: str) -> list[str]:
    assert sim.kubeconfig_path is not None
    return [
        sys.executable,
        "-c",
        LAUNCHER,
        "serve",
        "--http",
        "--host",
        "127.0.0.1",
        "--port",
        "0",
        "--kubeconfig",
        str(sim.kubeconfig_path),
        "--state-dir",
        str(tmp_path / "state"),
        *extra,
    ]


def clean_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("KUBE", "INCIDENT_RESPONSE_"))}
    env["HOME"] = str(tmp_path)  # never read the developer's ~/.kube
    return {**env, **extra}


def approve_out_of_band(token: str, state: Path) -> subprocess.CompletedProcess[str]:
    """The human approves on the server's host with the CLI, as a process with no terminal (a script's --yes)."""
    argv = [sys.executable, "-c", LAUNCHER, "approve", token, "--yes", "--state-dir", str(state)]
    return subprocess.run(
        argv, stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=60, start_new_session=True
    )


def credentials_file(tmp_path: Path, text: str = f"oncall {ONCALL}\n") -> Path:
    path = tmp_path / "credentials"
    path.write_text(text, encoding="utf-8")
    path.chmod(0o600)
    return path


@contextmanager
def http_server(sim: RunningSim, tmp_path: Path, *extra: str, env: dict[str, str] | None = None) -> Iterator[str]:
    """`incident-response-mcp serve --http` against the sim; yields the MCP endpoint URL, stops the server after.
    Unless `extra` or `env` configure credentials, the file it passes holds ONCALL for the principal `oncall`."""
    if env is None and "--auth-token-file" not in extra:
        extra = (*extra, "--auth-token-file", str(credentials_file(tmp_path)))
    with serving(serve_argv(sim, tmp_path, *extra), tmp_path, clean_env(tmp_path, **(env or {}))) as url:
        yield url


@contextmanager
def serving(argv: list[str], folder: Path, env: dict[str, str]) -> Iterator[str]:
    """Run `serve --http` as `argv` (its output in folder/server.log); yield the MCP endpoint URL once it listens,
    stop the process after."""
    log = folder / "server.log"
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


@asynccontextmanager
async def client_as(url: str, token: str, **options: Any) -> AsyncIterator[Client]:
    """An MCP client that sends `Authorization: Bearer <token>` on every request."""
    async with create_mcp_http_client(headers={"Authorization": f"Bearer {token}"}) as http:
        async with Client(streamable_http_client(url, http_client=http), **options) as client:
            yield client


async def until_ready(http: httpx2.AsyncClient, url: str, timeout: float = 60) -> httpx2.Response:
    """/readyz of a replica that just started: its first probe builds the Kubernetes client (seconds on a loaded
    machine, past the probe's 5 s timeout) and a 503 is reused for up to 2 s. Poll as a kubelet would, bounded."""
    with anyio.fail_after(timeout):
        while (answer := await http.get(url)).status_code != 200:
            await anyio.sleep(0.25)  # polling another process's cached answer: no event to wait on
    return answer

"""End to end over streamable HTTP: the real `serve --http` command as a subprocess, driven by the SDK's client."""

from __future__ import annotations

import stat
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import anyio
import httpx2
import pytest
from support.http_server import ONCALL, clean_env, client_as, http_server, serve_argv, until_ready

from incident_response.sim.resources import PODS
from incident_response.sim.serve import RunningSim
from incident_response.tools.engine.journal import Journal

pytestmark = pytest.mark.anyio


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
                async with client_as(url, ONCALL, mode=mode) as client:
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


def journal_snapshot(state: Path) -> tuple[Any, ...]:
    journal = Journal(state)
    return (
        [(c.tool, c.status) for c in journal.tool_calls()],
        [(e.kind, e.token) for e in journal.events()],
        [(c.token, c.state) for c in journal.commands()],
    )


async def test_requests_without_a_valid_credential_get_401_and_touch_nothing(
    sim_factory: Callable[..., RunningSim], tmp_path: Path
) -> None:
    sim = sim_factory("bad-deploy")
    with http_server(sim, tmp_path) as url:
        async with client_as(url, ONCALL) as client:
            planned = await client.call_tool("rollback_deployment", {"namespace": "shop", "deployment": "checkout"})
        assert planned.structured_content is not None
        token = planned.structured_content["token"]
        before = journal_snapshot(tmp_path / "state")
        confirm = {
            "jsonrpc": "2.0",
            "id": 1,
            "method": "tools/call",
            "params": {"name": "confirm_command", "arguments": {"token": token}},
        }
        plan = {
            "jsonrpc": "2.0",
            "id": 2,
            "method": "tools/call",
            "params": {
                "name": "scale_deployment",
                "arguments": {"namespace": "shop", "deployment": "checkout", "replicas": 1},
            },
        }
        accept = {"Accept": "application/json, text/event-stream", "MCP-Protocol-Version": "2025-11-25"}
        refusals = []
        async with httpx2.AsyncClient(timeout=30) as http:
            for authorization in (
                None,
                "Bearer wrong-token-wrong-token",
                f"Bearer {ONCALL[:-1]}",
                f"Bearer {ONCALL}x",
                f"Basic {ONCALL}",
                f"bearer{ONCALL}",
                "Bearer",
            ):
                headers = accept | ({"Authorization": authorization} if authorization else {})
                for body in (confirm, plan):
                    response = await http.post(url, json=body, headers=headers)
                    refusals.append((authorization, response.status_code, response.headers.get("www-authenticate")))
            # A client that offers no credential is not asked for one it could get elsewhere: no OAuth metadata.
            metadata = await http.get(url.replace("/mcp", "/.well-known/oauth-protected-resource/mcp"))
            # The probes need no credential, and say nothing but ok.
            probes = [
                await http.get(url.replace("/mcp", "/healthz")),
                await until_ready(http, url.replace("/mcp", "/readyz")),
            ]
    assert {(status, challenge.split()[0] if challenge else None) for _, status, challenge in refusals} == {
        (401, "Bearer")
    }, refusals
    assert metadata.status_code == 404
    assert [(probe.status_code, probe.text) for probe in probes] == [(200, "ok\n"), (200, "ok\n")]
    assert journal_snapshot(tmp_path / "state") == before
    row = Journal(tmp_path / "state").command(token)
    assert row and row.state == "pending"


async def test_without_a_configured_credential_a_loopback_server_generates_one_and_logs_only_its_path(
    sim_factory: Callable[..., RunningSim], tmp_path: Path
) -> None:
    sim = sim_factory("healthy")
    with http_server(sim, tmp_path, env={}) as url:
        path = tmp_path / "state" / "http-auth-token"
        token = path.read_text(encoding="utf-8").strip()
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
        async with client_as(url, token) as client:
            result = await client.call_tool("server_info", {})
        async with httpx2.AsyncClient(timeout=30) as http:
            refused = await http.post(
                url,
                json={"jsonrpc": "2.0", "id": 1, "method": "tools/list"},
                headers={"Accept": "application/json, text/event-stream"},
            )
    log = (tmp_path / "server.log").read_text()
    assert not result.is_error and refused.status_code == 401
    assert str(path) in log and "0600" in log and "Authorization header with a bearer token" in log
    assert token not in log and len(token) >= 43


@pytest.mark.parametrize(
    "argv, env, message",
    [
        (("--host", "0.0.0.0"), {}, "refusing to serve HTTP on 0.0.0.0 without a configured credential"),
        (("--host", "192.0.2.10"), {}, "refusing to serve HTTP on 192.0.2.10 without a configured credential"),
        ((), {"INCIDENT_RESPONSE_AUTH_TOKEN": "short"}, "too weak or malformed"),
    ],
    ids=["any-address", "lan-address", "weak-token"],
)
def test_refuses_to_start_without_a_usable_credential(
    sim_factory: Callable[..., RunningSim], tmp_path: Path, argv: tuple[str, ...], env: dict[str, str], message: str
) -> None:
    sim = sim_factory("healthy")
    done = subprocess.run(
        serve_argv(sim, tmp_path, *argv),
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=60,
        env=clean_env(tmp_path, **env),
    )
    assert done.returncode == 2, done.stderr
    assert message in done.stderr and "Uvicorn running" not in done.stderr
    assert "short" not in done.stderr.replace(message, "")  # the error names where the token is, not its value
    assert not (tmp_path / "state" / "http-auth-token").exists()

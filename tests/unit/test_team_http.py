"""`serve --http --auth kubernetes` as its HTTP app, in process (no sockets): 401 without a token the cluster
authenticates, 503 when the cluster cannot say, a tool error naming the grant a call lacks, and the probe endpoints.
The same app against the simulated cluster's RBAC is tests/e2e/test_team_mode.py."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import httpx2
import pytest
from mcp import Client
from mcp.client.streamable_http import streamable_http_client
from mcp.types import CallToolResult, TextContent
from starlette.applications import Starlette
from support.fake_reviews import FakeReviews, User

from incident_response.server import http_security
from incident_response.server.config import Settings, SettingsError
from incident_response.server.kube_auth import KubernetesTokenVerifier
from incident_response.server.toolset_authz import ToolsetAuthorizer
from incident_response.tools.core import errors

pytestmark = pytest.mark.anyio

BASE = "http://127.0.0.1:8000"  # the Host header the loopback server's DNS-rebinding check accepts
BOT_TOKEN = "bot-token-" + "b" * 40
VIEWER_TOKEN = "viewer-token-" + "v" * 40
BOT = User("system:serviceaccount:incident-response:bot", grants=frozenset({"read", "plan"}))
VIEWER = User("viewer@example.com")  # bound to `view` only: no toolset


def security(api: FakeReviews) -> http_security.HttpSecurity:
    return http_security.HttpSecurity(
        KubernetesTokenVerifier(lambda: api),
        ToolsetAuthorizer(lambda: api, "incident-response").check,
        http_security.review_check(lambda: api),
    )


@asynccontextmanager
async def serving(api: FakeReviews, tmp_path: Path) -> AsyncIterator[Starlette]:
    """The HTTP app `serve --http --auth kubernetes` runs, with the fake API behind its reviews."""
    server = http_security.build(Settings(state_dir=tmp_path / "state", http=True), security(api))
    app = server.streamable_http_app()
    async with server.session_manager.run():
        yield app


def http(app: Starlette, token: str | None = None) -> httpx2.AsyncClient:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return httpx2.AsyncClient(transport=httpx2.ASGITransport(app=app), base_url=BASE, headers=headers)


@asynccontextmanager
async def client_as(server: Starlette, token: str, mode: str = "auto") -> AsyncIterator[Client]:
    async with http(server, token) as transport:
        async with Client(streamable_http_client(f"{BASE}/mcp", http_client=transport), mode=mode) as client:
            yield client


def text_of(result: CallToolResult) -> str:
    assert isinstance(result.content[0], TextContent)
    return result.content[0].text


INITIALIZE = {
    "jsonrpc": "2.0",
    "id": 1,
    "method": "initialize",
    "params": {"protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "t", "version": "1"}},
}
MCP_HEADERS = {"Accept": "application/json, text/event-stream", "Content-Type": "application/json"}


@pytest.mark.parametrize("token", [None, "not-a-cluster-token-" + "x" * 30])
async def test_a_request_without_a_token_the_cluster_authenticates_gets_401(tmp_path: Path, token: str | None) -> None:
    api = FakeReviews({BOT_TOKEN: BOT})
    async with serving(api, tmp_path) as server, http(server, token) as client:
        response = await client.post("/mcp", json=INITIALIZE, headers=MCP_HEADERS)
    assert response.status_code == 401
    assert response.headers["www-authenticate"].startswith("Bearer ")
    assert api.kinds() == ([] if token is None else ["TokenReview"])


async def test_when_the_cluster_cannot_review_a_token_the_answer_is_503_not_401(tmp_path: Path) -> None:
    api = FakeReviews({BOT_TOKEN: BOT})
    api.failure = errors.ClusterUnreachable("connection refused")
    async with serving(api, tmp_path) as server, http(server, BOT_TOKEN) as client:
        response = await client.post("/mcp", json=INITIALIZE, headers=MCP_HEADERS)
    assert response.status_code == 503
    assert response.headers["retry-after"] == "5"
    assert response.json()["error"] == "temporarily_unavailable" and BOT_TOKEN not in response.text


@pytest.mark.parametrize("mode", ["auto", "legacy"])  # 2026-07-28 (no session), and a 2025-11-25 session
async def test_a_client_may_call_the_tools_of_its_grants_and_is_told_what_it_lacks(tmp_path: Path, mode: str) -> None:
    api = FakeReviews({BOT_TOKEN: BOT})
    async with serving(api, tmp_path) as server, client_as(server, BOT_TOKEN, mode) as bot:
        listed = await bot.call_tool("list_pending_commands", {})
        assert not listed.is_error, listed.content
        refused = await bot.call_tool("confirm_command", {"token": "t" * 22})
        info = await bot.call_tool("server_info", {})
    assert refused.is_error
    text = text_of(refused)
    assert "forbidden (403)" in text and "'confirm' toolset" in text and "incident-response-confirm" in text
    # server_info says who the caller is and what it may use, before a confirm would be refused.
    assert info.structured_content is not None
    assert info.structured_content["caller"] == f"HTTP principal {BOT.username!r}"
    assert info.structured_content["caller_toolsets"] == ["read", "plan"]
    assert "may use: read, plan (not confirm: your plans are advice" in info.structured_content["summary"]


async def test_a_view_only_user_can_connect_and_list_but_call_nothing(tmp_path: Path) -> None:
    api = FakeReviews({VIEWER_TOKEN: VIEWER})
    async with serving(api, tmp_path) as server, client_as(server, VIEWER_TOKEN) as viewer:
        tools = {tool.name for tool in (await viewer.list_tools()).tools}
        assert "confirm_command" in tools
        for tool, arguments in [("server_info", {}), ("confirm_command", {"token": "t" * 22})]:
            result = await viewer.call_tool(tool, arguments)
            assert result.is_error and "forbidden (403): viewer@example.com" in text_of(result)


async def test_probes_need_no_token_and_say_only_which_part_is_not_ready(tmp_path: Path) -> None:
    api = FakeReviews({BOT_TOKEN: BOT})
    async with serving(api, tmp_path) as server, http(server) as probe:
        assert (await probe.get("/healthz")).text == "ok\n"
        ready = await probe.get("/readyz")
        assert (ready.status_code, ready.text) == (200, "ok\n")
    refused = FakeReviews({BOT_TOKEN: BOT}, may_review_tokens=False)
    async with serving(refused, tmp_path) as server, http(server) as probe:
        ready = await probe.get("/readyz")
        assert (ready.status_code, ready.text) == (503, "not ready: kubernetes API\n")
        assert (await probe.get("/healthz")).status_code == 200
    assert api.kinds().count("TokenReview") == 0


async def test_probes_with_a_bearer_header_still_answer(tmp_path: Path) -> None:
    api = FakeReviews({BOT_TOKEN: BOT})
    async with serving(api, tmp_path) as server, http(server, "garbage-" + "g" * 30) as probe:
        assert (await probe.get("/healthz")).status_code == 200


KUBECONFIG = """apiVersion: v1
kind: Config
clusters: [{name: c, cluster: {server: "https://127.0.0.1:1"}}]
users: [{name: u, user: {token: not-used}}]
contexts: [{name: x, context: {cluster: c, user: u}}]
current-context: x
"""


def test_kubernetes_auth_refuses_to_start_without_what_it_needs(tmp_path: Path) -> None:
    from incident_response.tools.kube.client import ClusterSource

    cluster = ClusterSource(kubeconfig=tmp_path / "kubeconfig")
    (tmp_path / "kubeconfig").write_text(KUBECONFIG, encoding="utf-8")
    no_pod = tmp_path / "no-such-namespace-file"
    missing = ClusterSource(kubeconfig=tmp_path / "missing")
    cases: list[tuple[Settings, str]] = [
        (Settings(http=True, auth="kubernetes"), "run in a pod, or pass --kubeconfig"),
        (Settings(http=True, auth="kubernetes", cluster=missing), "cannot use the cluster configuration: kubeconfig"),
        (Settings(http=True, auth="kubernetes", cluster=cluster), "pass --auth-namespace"),
        (
            Settings(http=True, auth="kubernetes", cluster=cluster, auth_namespace="ns", auth_token="s" * 20),
            "drop --auth-token-file and INCIDENT_RESPONSE_AUTH_TOKEN",
        ),
    ]
    for settings, message in cases:
        with pytest.raises(SettingsError, match=message):
            http_security.for_settings(settings, pod_namespace_file=no_pod)
    in_pod = tmp_path / "namespace"
    in_pod.write_text("incident-response\n", encoding="utf-8")
    found = http_security.for_settings(
        Settings(http=True, auth="kubernetes", cluster=cluster), pod_namespace_file=in_pod
    )
    assert found.authorize is not None and found.authorize.__self__.namespace == "incident-response"  # type: ignore[attr-defined]

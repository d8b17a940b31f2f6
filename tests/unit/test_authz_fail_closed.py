"""Team mode authorizes every tool call, including a tool that is in no toolset: such a tool (one added the SDK's
way, an extension's) is refused to everyone, never let through because nothing says which grant it needs."""

from __future__ import annotations

from pathlib import Path

import httpx2
import pytest
from mcp import Client
from mcp.client.streamable_http import streamable_http_client
from mcp.types import TextContent
from support.fake_reviews import FakeReviews, User

from incident_response.server import http_security
from incident_response.server.config import Settings
from incident_response.server.kube_auth import KubernetesTokenVerifier
from incident_response.server.toolset_authz import ToolsetAuthorizer

pytestmark = pytest.mark.anyio

BASE = "http://127.0.0.1:8000"
VIEWER_TOKEN = "viewer-token-" + "v" * 40
ADMIN_TOKEN = "admin-token-" + "a" * 40
VIEWER = User("viewer@example.com")  # bound to `view` only: no toolset
ADMIN = User("admin@example.com", grants=frozenset({"read", "plan", "confirm"}))


async def test_a_tool_in_no_toolset_is_refused_to_everyone(tmp_path: Path) -> None:
    api = FakeReviews({VIEWER_TOKEN: VIEWER, ADMIN_TOKEN: ADMIN})
    security = http_security.HttpSecurity(
        KubernetesTokenVerifier(lambda: api),
        ToolsetAuthorizer(lambda: api, "incident-response").check,
        http_security.review_check(lambda: api),
    )
    server = http_security.build(Settings(state_dir=tmp_path / "state", http=True), security)
    ran: list[str] = []

    def uncatalogued_write(target: str) -> str:
        """Stands in for a tool added outside the catalogue (an extension): it writes."""
        ran.append(target)
        return "done"

    server.add_tool(uncatalogued_write)
    app = server.streamable_http_app()
    async with server.session_manager.run():
        for token in (VIEWER_TOKEN, ADMIN_TOKEN):
            headers = {"Authorization": f"Bearer {token}"}
            async with httpx2.AsyncClient(transport=httpx2.ASGITransport(app=app), base_url=BASE, headers=headers) as h:
                async with Client(streamable_http_client(f"{BASE}/mcp", http_client=h)) as client:
                    result = await client.call_tool("uncatalogued_write", {"target": "prod"})
            assert result.is_error and isinstance(result.content[0], TextContent)
            assert "no toolset" in result.content[0].text, result.content[0].text
    assert ran == []

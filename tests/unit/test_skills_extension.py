"""SKILL.md through the MCP Skills extension (SEP-2640): declared in both protocol eras, listed and fetched with a
digest that matches what resources/read returns, and still served as the old resource and a prompt."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any, Literal

import pytest
import yaml
from mcp import Client, types
from mcp.shared.exceptions import MCPError
from mcp.types import INVALID_PARAMS, TextResourceContents
from pydantic import TypeAdapter

from incident_response.server.app import build_server
from incident_response.server.config import Settings
from incident_response.server.skills import EXTENSION_ID, front_matter_text

pytestmark = pytest.mark.anyio

SKILL = "skill://incident-response/SKILL.md"
ROOT = Path(__file__).resolve().parents[2]


async def request(client: Client, method: str, params: dict[str, Any]) -> dict[str, Any]:
    result: dict[str, Any] = await client.session.send_request(
        types.Request[dict[str, Any], str](method=method, params=params), TypeAdapter(dict[str, Any])
    )
    return result


async def read_text(client: Client, uri: str) -> str:
    contents = (await client.read_resource(uri)).contents
    assert len(contents) == 1 and isinstance(contents[0], TextResourceContents)
    return contents[0].text


@pytest.mark.parametrize("mode", ["legacy", "auto"])
async def test_skills_list_and_get_describe_the_file_resources_read_returns(
    tmp_path: Path, mode: Literal["legacy", "auto"]
) -> None:
    async with Client(build_server(Settings(state_dir=tmp_path)), mode=mode) as client:
        assert client.server_capabilities.extensions == {EXTENSION_ID: {}}
        assert client.server_capabilities.resources is not None  # SEP-2640: the extension needs resources
        listed = await request(client, "skills/list", {})
        got = await request(client, "skills/get", {"uri": SKILL})
        text = await read_text(client, SKILL)
        resources = {r.uri: r for r in (await client.list_resources()).resources}
        instructions = client.instructions or ""
    (entry,) = listed["skills"]
    assert got["skill"] == entry
    assert entry["uri"] == SKILL
    raw = text.encode("utf-8")
    assert entry["resources"] == [
        {"uri": SKILL, "digest": "sha256:" + hashlib.sha256(raw).hexdigest(), "size": len(raw)}
    ]
    on_disk = (ROOT / "SKILL.md").read_text(encoding="utf-8")
    assert text == on_disk
    assert entry["frontmatter"] == yaml.safe_load(front_matter_text(on_disk))
    assert listed["ttlMs"] > 0 and listed["cacheScope"] == "public"
    # Resource metadata from the front matter (read there without a YAML parser, so held equal here).
    resource = resources[SKILL]
    assert (resource.name, resource.description) == (entry["frontmatter"]["name"], entry["frontmatter"]["description"])
    assert resource.mime_type == "text/markdown"
    assert SKILL in instructions


async def test_skills_get_of_an_unknown_uri_is_invalid_params(tmp_path: Path) -> None:
    async with Client(build_server(Settings(state_dir=tmp_path))) as client:
        with pytest.raises(MCPError) as raised:
            await request(client, "skills/get", {"uri": "skill://other/SKILL.md"})
    assert raised.value.error.code == INVALID_PARAMS and SKILL in raised.value.error.message


async def test_clients_without_the_extension_read_the_same_text(tmp_path: Path) -> None:
    async with Client(build_server(Settings(state_dir=tmp_path))) as client:
        skill = await read_text(client, SKILL)
        former = await read_text(client, "skill://incident-response")
        prompt = (await client.get_prompt("incident-response", {})).messages[0].content
    assert isinstance(prompt, types.TextContent)
    assert former == skill == prompt.text

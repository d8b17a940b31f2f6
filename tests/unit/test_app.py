"""The server's wiring without a cluster: registration, central argument checks, tool errors."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from mcp import Client
from mcp.shared.exceptions import MCPError
from mcp.types import INVALID_PARAMS, CallToolResult, TextContent

from incident_response.server.app import build_server, render_prompt
from incident_response.server.config import Settings
from incident_response.tools.core import errors

pytestmark = pytest.mark.anyio


def text_of(result: CallToolResult, index: int = 0) -> str:
    block = result.content[index]
    assert isinstance(block, TextContent)
    return block.text


def no_cluster(tmp_path: Path, **overrides: Any) -> Settings:
    return replace(Settings(state_dir=tmp_path / "state"), **overrides)


async def test_without_a_cluster_tools_answer_no_cluster_configured(tmp_path: Path) -> None:
    async with Client(build_server(no_cluster(tmp_path))) as client:
        result = await client.call_tool("assess_namespace", {"namespace": "shop"})
        info = await client.call_tool("server_info", {})
    assert result.is_error
    assert "no cluster configured" in text_of(result)
    assert not info.is_error and info.structured_content is not None
    assert info.structured_content["cluster_error"].startswith("no cluster configured")


async def test_namespace_allow_list_is_enforced_before_the_tool_runs(tmp_path: Path) -> None:
    async with Client(build_server(no_cluster(tmp_path, namespaces=("shop",)))) as client:
        result = await client.call_tool("list_events", {"namespace": "kube-system"})
    assert result.is_error
    assert "outside this server's allow-list (shop)" in text_of(result, 0)


async def test_results_carry_a_compact_text_and_the_structured_data(tmp_path: Path) -> None:
    """The text is the summary and the facts as lines and tables (server/render.py), not the JSON again."""
    async with Client(build_server(no_cluster(tmp_path, mode="safe"))) as client:
        result = await client.call_tool("server_info", {})
    assert result.structured_content is not None and result.structured_content["mode"] == "safe"
    assert len(result.content) == 1
    text = text_of(result)
    assert text.startswith(result.structured_content["summary"])
    assert "{" not in text and '"mode"' not in text


def test_prompts_validate_their_arguments() -> None:
    with pytest.raises(errors.InvalidArgument):
        render_prompt("{namespace}", "Bad Namespace")
    content = render_prompt("ns={namespace} d={deployment}", "shop")[0].content
    assert isinstance(content, TextContent) and content.text == "ns=shop d=<deployment>"


async def test_the_playbook_names_every_tool_the_server_offers(tmp_path: Path) -> None:
    """SKILL.md is what an agent reads first: a tool it never mentions is a tool the agent will not reach for."""
    async with Client(build_server(no_cluster(tmp_path))) as client:
        names = {tool.name for tool in (await client.list_tools()).tools}
        skill = await client.read_resource("skill://incident-response")
    text = "".join(getattr(part, "text", "") for part in skill.contents)
    assert text.startswith("---\nname: incident-response\n")
    assert sorted(name for name in names if f"`{name}" not in text) == []


async def test_a_misspelt_argument_is_refused_by_name_not_dropped(tmp_path: Path) -> None:
    """Dropping `to_revison` would plan a rollback to the previous revision instead of the one the agent meant."""
    async with Client(build_server(no_cluster(tmp_path))) as client:
        tools = (await client.list_tools()).tools
        arguments = {"namespace": "shop", "deployment": "checkout", "to_revison": 2}
        result = await client.call_tool("rollback_deployment", arguments)
    assert result.is_error
    assert "unknown argument 'to_revison'" in text_of(result) and "to_revision" in text_of(result)
    # The listed schemas leave additionalProperties out (issue 13's budget); the refusal above is what holds.
    assert all("to_revison" not in t.input_schema.get("properties", {}) for t in tools)


@pytest.mark.parametrize(
    ("arguments", "says"),
    [
        ({"namespace": "shop", "limit": 0}, "limit should be greater than or equal to 1"),
        ({"namespace": "shop", "limit": "many"}, "limit should be a valid integer"),
        ({}, "namespace is required"),
        ({"namespace": 5, "limit": -1}, "namespace should be a valid string; limit should be greater"),
    ],
)
async def test_invalid_arguments_are_one_line_naming_the_field(
    tmp_path: Path, arguments: dict[str, Any], says: str
) -> None:
    async with Client(build_server(no_cluster(tmp_path))) as client:
        result = await client.call_tool("list_pods", arguments)
    assert result.is_error
    text = text_of(result)
    assert text.startswith("invalid arguments for list_pods: ") and says in text, text
    assert "\n" not in text and "pydantic" not in text and "http" not in text and "many" not in text, text


async def test_a_tools_own_error_is_its_message_without_the_sdks_prefix(tmp_path: Path) -> None:
    async with Client(build_server(no_cluster(tmp_path))) as client:
        result = await client.call_tool("list_pods", {"namespace": "shop"})
    assert result.is_error and text_of(result).startswith("no cluster configured")


@pytest.mark.parametrize(
    ("name", "arguments", "says"),
    [
        ("stabilize", {}, "prompt 'stabilize' needs the argument namespace"),
        ("stabilize", {"namespace": "Bad Name"}, "namespace 'Bad Name' is not a valid Kubernetes name"),
        ("stabilize", {"namespace": "shop", "team": "x"}, "takes namespace, deployment, not team"),
        ("nonesuch", {}, "unknown prompt 'nonesuch'"),
    ],
)
async def test_bad_prompt_requests_are_invalid_params(
    tmp_path: Path, name: str, arguments: dict[str, str], says: str
) -> None:
    async with Client(build_server(no_cluster(tmp_path))) as client:
        with pytest.raises(MCPError) as raised:
            await client.get_prompt(name, arguments)
    assert raised.value.error.code == INVALID_PARAMS
    assert says in raised.value.error.message


async def test_prompt_descriptions_are_plain_text(tmp_path: Path) -> None:
    async with Client(build_server(no_cluster(tmp_path))) as client:
        prompts = (await client.list_prompts()).prompts
    assert len(prompts) >= 4
    assert [p.name for p in prompts if not p.description or "{" in p.description] == []

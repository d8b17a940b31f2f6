"""A tool call through an MCP client that also holds the result rule (issue 13: text + structured <= 1.35 x the
larger), for tests whose incident shows a wording no bench call reaches."""

from __future__ import annotations

from typing import Any

from mcp import Client
from mcp.types import TextContent

from incident_response.server import budget


async def budgeted(client: Client, tool: str, **arguments: Any) -> dict[str, Any]:
    """The tool's structured result, its text and structured content holding the result rule."""
    return (await budgeted_text(client, tool, **arguments))[0]


async def budgeted_text(client: Client, tool: str, **arguments: Any) -> tuple[dict[str, Any], str]:
    """The tool's structured result and its text, the two holding the result rule."""
    result = await client.call_tool(tool, arguments)
    text, structured = budget.result_bytes(result)
    assert (text + structured) / max(text, structured) <= budget.RESULT_OVERLAP_LIMIT, (
        tool,
        text,
        structured,
        result.content,
    )
    assert not result.is_error and result.structured_content is not None, result.content
    return result.structured_content, "".join(b.text for b in result.content if isinstance(b, TextContent))

"""Results that are text alone (server/render.py TEXT_ONLY: the tool declares no output schema and returns no
structured content): read them as the model does, by their text."""

from __future__ import annotations

import json
from typing import Any

from mcp import Client
from mcp.types import CallToolResult, TextContent

from incident_response.server import manifest


def text_only(tool: str) -> bool:
    """The tool declares no output schema (its results carry no structured content)."""
    return manifest.definitions()[tool]["outputSchema"] is None


def text_of(result: CallToolResult) -> str:
    return "\n".join(block.text for block in result.content if isinstance(block, TextContent))


async def read_text(client: Client, tool: str, **arguments: Any) -> str:
    """The text of a text-only tool's result (a tool error fails the test)."""
    result = await client.call_tool(tool, arguments)
    assert not result.is_error, (tool, result.content)
    assert result.structured_content is None, tool
    return text_of(result)


def section(text: str, label: str) -> list[str]:
    """The lines under `label:` (a line of its own) up to the next label: a line starting with a letter and ending
    in `:` (get_logs' lines start with a date, a time, a space or a parenthesis)."""
    lines = text.splitlines()
    start = lines.index(f"{label}:") + 1
    end = next((i for i in range(start, len(lines)) if lines[i][:1].isalpha() and lines[i].endswith(":")), len(lines))
    return lines[start:end]


async def handoff_fields(client: Client, **arguments: Any) -> dict[str, Any]:
    """incident_handoff with format='json': every field, the document in text (the default answer is the document)."""
    fields: dict[str, Any] = json.loads(await read_text(client, "incident_handoff", format="json", **arguments))
    return fields


async def everything(client: Client, tool: str, **arguments: Any) -> tuple[dict[str, Any] | None, str]:
    """(the structured result, or None for a tool error; every byte the client received, text and structured), for
    tests that look for a name anywhere in what a tool said. With format='json' a text-only tool's JSON text is its
    structured result (incident_handoff)."""
    result = await client.call_tool(tool, arguments)
    text = " ".join(getattr(c, "text", "") for c in result.content)
    structured = result.structured_content
    if structured is None and arguments.get("format") == "json":
        structured = json.loads(text)
    return (None if result.is_error else structured), text + json.dumps(result.structured_content)

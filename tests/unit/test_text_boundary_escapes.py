"""The MCP boundary's text: control and format characters from the cluster leave as visible escapes, in text
blocks (plain or JSON) and in tool errors; JSON stays JSON with the same values."""

from __future__ import annotations

import json

from mcp.server.mcpserver.exceptions import ToolError
from mcp.types import CallToolResult, TextContent

from incident_response.server.mcp_masking import mask_call_result, masked_error

EVIL = "billing:1.9.0\x1b[2K\r\x1b[1Afake line\x1b[8m\u202e\x9b"


def text_of(result: object) -> str:
    assert isinstance(result, CallToolResult)
    block = result.content[0]
    assert isinstance(block, TextContent)
    return block.text


def test_plain_text_keeps_its_lines_and_escapes_the_rest() -> None:
    result = mask_call_result(CallToolResult(content=[TextContent(type="text", text=f"summary {EVIL}\n\tnext")]))
    assert text_of(result) == "summary billing:1.9.0\\x1b[2K\\x0d\\x1b[1Afake line\\x1b[8m\\u202e\\x9b\n\tnext"


def test_a_json_text_stays_the_same_json() -> None:
    dumped = json.dumps({"image": EVIL}, ensure_ascii=False)
    text = text_of(mask_call_result(CallToolResult(content=[TextContent(type="text", text=dumped)])))
    assert not any(c in text for c in ("\x1b", "\r", "\u202e", "\x9b"))
    assert json.loads(text) == {"image": EVIL}


def test_a_tool_error_quoting_the_cluster_is_escaped() -> None:
    error = masked_error(ToolError(f"image {EVIL} cannot be pulled"))
    assert error is not None and "\x1b" not in str(error) and "\\x1b[8m" in str(error)
    assert masked_error(ToolError("nothing to escape or mask")) is None

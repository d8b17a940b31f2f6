"""What the server costs a model's context, in bytes: the part of tools/list a client hands the model, the output
schemas (wire only), and a tool result's text and structured content. bench/context.py prints these;
tests/unit/test_context_budget.py holds the limits of issue 13.

Layer: server (MCP wiring).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from mcp.types import CallToolResult, TextContent
from mcp.types import Tool as MCPTool

# Issue 13's limits, in bytes of compact JSON.
MODEL_FACING_LIMIT = 16_000
READ_ONLY_MODEL_FACING_LIMIT = 8_000
OUTPUT_SCHEMAS_LIMIT = 40_000
# Text plus structured content, at most this times the larger of the two, for every tool. What the model needs is in
# both (Claude Code hands the model only the structured content, most other clients only the text), so the text is a
# compact rendering of the facts (server/render.py), not the JSON again.
RESULT_OVERLAP_LIMIT = 1.35


def compact(value: Any) -> int:
    """Bytes of `value` as compact JSON (no spaces, UTF-8)."""
    return len(json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode("utf-8"))


def model_view(tool: MCPTool) -> dict[str, Any]:
    """What a client hands the model of one tool: name, title, description, input schema and annotations."""
    view = tool.model_dump(by_alias=True, exclude_none=True, include={"name", "title", "description", "input_schema"})
    if tool.annotations is not None:
        view["annotations"] = tool.annotations.model_dump(by_alias=True, exclude_none=True)
    return view


def model_facing_bytes(tools: Iterable[MCPTool]) -> int:
    return compact([model_view(tool) for tool in tools])


def output_schema_bytes(tools: Iterable[MCPTool]) -> int:
    return sum(compact(tool.output_schema) for tool in tools if tool.output_schema is not None)


def result_bytes(result: CallToolResult) -> tuple[int, int]:
    """(text, structured): the bytes of the text blocks and of the structured content as compact JSON."""
    text = sum(len(block.text.encode("utf-8")) for block in result.content if isinstance(block, TextContent))
    structured = compact(result.structured_content) if result.structured_content is not None else 0
    return text, structured

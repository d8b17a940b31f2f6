"""The MCP side of the masking boundary (tools/core/masking.py): what `app.MaskingServer` sends, masked, its text
with control characters escaped.

Every tool result, tool error, prompt and resource goes through these at the server's own `call_tool` /
`get_prompt` / `read_resource`, so a tool added in any way (register(), mcp.add_tool, an extension) is masked too.
Text blocks holding JSON are masked as data, so a value hidden by its position in the structured result is hidden
in its text copy as well.

Layer: server (MCP wiring).
"""

from __future__ import annotations

import json
from typing import Any, TypeVar

from mcp.shared.exceptions import MCPError
from mcp.types import CallToolResult, ContentBlock, GetPromptResult, InputRequiredResult
from pydantic import BaseModel

from incident_response.tools.core.masking import mask_data, mask_text
from incident_response.tools.core.printable import json_printable, printable

M = TypeVar("M", bound=BaseModel)
E = TypeVar("E", bound=Exception)

# Content fields that carry bytes (base64), not text a credential could be read from.
BINARY_FIELDS = frozenset({"data", "blob"})


def mask_json_text(text: str) -> str:
    """A text that is a JSON document is masked as data (keys and positions count), any other text as text. Either
    way its control and format characters leave as visible escapes (tools/core/printable.py): a client in a terminal
    prints the text as it comes, and an ESC sequence quoted from the cluster (an image, an event) would hide or
    rewrite its lines. The structured half is JSON, whose encoding escapes them already."""
    if text[:1] in ("{", "["):
        try:
            parsed = json.loads(text)
        except ValueError:
            return printable(mask_text(text), newlines=True)
        clean = mask_data(parsed)
        return json_printable(text if clean == parsed else json.dumps(clean, ensure_ascii=False, separators=(",", ":")))
    return printable(mask_text(text), newlines=True)


def _mask_dumped(value: Any, key: str | None = None) -> Any:
    """A dumped MCP model: text fields as text or JSON, binary fields untouched, the rest as data."""
    if isinstance(value, dict):
        return {k: v if k in BINARY_FIELDS else _mask_dumped(v, k) for k, v in value.items()}
    if isinstance(value, list):
        return [_mask_dumped(item) for item in value]
    if isinstance(value, str):
        return mask_json_text(value) if key == "text" else mask_data(value, key)
    return value


def mask_model(model: M) -> M:
    dumped = model.model_dump(by_alias=True, mode="json", exclude_none=True)
    clean = _mask_dumped(dumped)
    return model if clean == dumped else type(model).model_validate(clean, by_alias=True)


def mask_block(block: ContentBlock) -> ContentBlock:
    return mask_model(block)


def mask_input_required(result: InputRequiredResult) -> InputRequiredResult:
    """The questions asked (elicitation messages); the opaque request_state is sealed by the SDK, not text."""
    if not result.input_requests:
        return result
    masked = mask_model(result.model_copy(update={"request_state": None}))
    return result.model_copy(update={"input_requests": masked.input_requests})


def mask_call_result(result: CallToolResult | InputRequiredResult) -> CallToolResult | InputRequiredResult:
    if isinstance(result, InputRequiredResult):
        return mask_input_required(result)
    return result.model_copy(
        update={
            "content": [mask_block(block) for block in result.content],
            "structured_content": mask_data(result.structured_content),
        }
    )


def mask_prompt_result(result: GetPromptResult | InputRequiredResult) -> GetPromptResult | InputRequiredResult:
    return mask_input_required(result) if isinstance(result, InputRequiredResult) else mask_model(result)


def masked_error(error: E) -> E | MCPError | RuntimeError | None:
    """The same error with its message masked, or None when there was nothing to mask (re-raise the original)."""
    if isinstance(error, MCPError):
        message, data = printable(mask_text(error.error.message), newlines=True), mask_data(error.error.data)
        if message == error.error.message and data == error.error.data:
            return None
        return MCPError(code=error.error.code, message=message, data=data)
    text = str(error)
    clean = printable(mask_text(text), newlines=True)  # a refusal may quote the cluster: escaped as results are
    if clean == text:
        return None
    try:
        return type(error)(clean)
    except TypeError:  # an exception type with another constructor: the plain kind its callers catch
        return RuntimeError(clean)  # pragma: no cover - every error the SDK passes through takes a message

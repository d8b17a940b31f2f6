"""What a client sees when a request is wrong: one line naming the field and what is expected.

`IncidentServer` is the SDK's MCPServer with three answers changed. Invalid tool arguments are a tool error of one
line per field (the SDK sends pydantic's multi-line dump with a documentation URL); a tool's own error is its message
without the SDK's "Error executing tool" prefix; and `prompts/get` with an unknown prompt or a missing or invalid
argument is JSON-RPC -32602 Invalid params (the SDK answers code 0).

Layer: server (MCP wiring).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, TypeVar

from mcp.server import MCPServer
from mcp.server.mcpserver import Context
from mcp.server.mcpserver.exceptions import ToolError, UnexpectedToolError
from mcp.shared.exceptions import MCPError
from mcp.types import INVALID_PARAMS, CallToolResult, GetPromptResult, InputRequiredResult
from pydantic import ValidationError
from pydantic_core import ErrorDetails

from incident_response.tools.core.errors import IncidentError

E = TypeVar("E", bound=BaseException)


class IncidentServer(MCPServer[Any]):
    """MCPServer whose bad-request answers say what to fix; `arguments` maps each tool to the names it takes."""

    def __init__(self, *args: Any, arguments: Mapping[str, Sequence[str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._arguments = dict(arguments)

    async def call_tool(
        self, name: str, arguments: dict[str, Any], context: Context[Any, Any] | None = None
    ) -> CallToolResult | InputRequiredResult:
        try:
            return await super().call_tool(name, arguments, context)
        except UnexpectedToolError:
            raise
        except ToolError as e:
            cause = e.__cause__
            if isinstance(cause, ValidationError):
                raise ToolError(argument_errors(name, cause, self._arguments.get(name, ()))) from cause
            if isinstance(cause, ToolError):  # a tool's own error, raised by app.register's wrapper
                raise ToolError(str(cause)) from cause
            raise

    async def get_prompt(
        self, name: str, arguments: dict[str, Any] | None = None, context: Context[Any, Any] | None = None
    ) -> GetPromptResult | InputRequiredResult:
        prompts = {prompt.name: prompt for prompt in await self.list_prompts()}
        prompt = prompts.get(name)
        if prompt is None:
            raise MCPError(INVALID_PARAMS, f"unknown prompt {name!r}; the prompts are: {', '.join(sorted(prompts))}")
        given = arguments or {}
        missing = [a for a in prompt.arguments or [] if a.required and a.name not in given]
        if missing:
            needed = "; ".join(f"{a.name} ({a.description})" if a.description else a.name for a in missing)
            raise MCPError(INVALID_PARAMS, f"prompt {name!r} needs the argument {needed}")
        unknown = sorted(set(given) - {a.name for a in prompt.arguments or []})
        if unknown:
            takes = ", ".join(a.name for a in prompt.arguments or []) or "no arguments"
            raise MCPError(INVALID_PARAMS, f"prompt {name!r} takes {takes}, not {', '.join(unknown)}")
        try:
            return await super().get_prompt(name, arguments, context)
        except ValueError as e:
            refused = cause_of(e, IncidentError)  # render_prompt refused an argument (a bad namespace name)
            if refused is None:
                raise
            raise MCPError(INVALID_PARAMS, str(refused)) from e


def cause_of(error: BaseException, kind: type[E]) -> E | None:
    """The first exception of `kind` in `error`'s chain of causes (the SDK wraps a prompt's error twice)."""
    current: BaseException | None = error
    while current is not None:
        if isinstance(current, kind):
            return current
        current = current.__cause__
    return None


def argument_errors(tool: str, error: ValidationError, takes: Sequence[str]) -> str:
    """`invalid arguments for list_pods: limit should be greater than or equal to 1`: one line."""
    problems = [argument_error(detail, takes) for detail in error.errors()]
    return f"invalid arguments for {tool}: " + "; ".join(dict.fromkeys(problems))


def argument_error(detail: ErrorDetails, takes: Sequence[str]) -> str:
    field = ".".join(str(part) for part in detail["loc"]) or "the arguments"
    kind, message = detail["type"], detail["msg"]
    if kind == "missing":
        return f"{field} is required"
    if kind == "extra_forbidden":
        return f"unknown argument {field!r} (this tool takes: {', '.join(takes) or 'no arguments'})"
    # Never the value itself: it may be a megabyte token or a secret pasted by mistake (arguments hide their input).
    if message.startswith("Input should"):
        return f"{field} should{message.removeprefix('Input should')}"
    return f"{field}: {message[:1].lower()}{message[1:]}"

"""What a client sees when a request is wrong: one line naming the field and what is expected.

`IncidentServer` is the SDK's MCPServer with its own tools served lazily (server/lazy_tools.py) and three answers
changed. Invalid tool arguments are a tool error of one
line per field (the SDK sends pydantic's multi-line dump with a documentation URL); a tool's own error is its message
without the SDK's "Error executing tool" prefix; and `prompts/get` with an unknown prompt or a missing or invalid
argument is JSON-RPC -32602 Invalid params (the SDK answers code 0).

Layer: server (MCP wiring).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any, TypeVar

import anyio
import anyio.to_thread
from mcp.server import MCPServer
from mcp.server.mcpserver import Context
from mcp.server.mcpserver.exceptions import ToolError, UnexpectedToolError
from mcp.shared.exceptions import MCPError
from mcp.types import INVALID_PARAMS, CallToolResult, GetPromptResult, InputRequiredResult
from mcp.types import Tool as MCPTool
from pydantic import ValidationError
from pydantic_core import ErrorDetails
from starlette.applications import Starlette

from incident_response.server.http_auth import GRANTED
from incident_response.server.lazy_tools import LazyTools
from incident_response.tools.core.errors import IncidentError

E = TypeVar("E", bound=BaseException)
# Raises a ToolError when the caller may not call the tool, else returns the caller's grants
# (server/toolset_authz.py); None: every caller may call every tool.
Authorize = Callable[[str, Context[Any, Any] | None], Awaitable[tuple[str, ...] | None]]
# Raises a ToolError when the caller made too many calls (server/rate_limit.py); asked first, with the arguments.
Limit = Callable[[str, Mapping[str, Any], Context[Any, Any] | None], None]


class IncidentServer(MCPServer[Any]):
    """MCPServer whose bad-request answers say what to fix, and whose own tools (`lazy`) are listed from the manifest
    and built on first use. Tools added the SDK's way are served too. `arguments` maps a tool to the names it takes
    when its input schema does not say (the error for a misspelt argument lists them). `limit`, then
    `authorize`, is asked before every tool call."""

    def __init__(
        self,
        *args: Any,
        lazy: LazyTools | None = None,
        arguments: Mapping[str, Sequence[str]] | None = None,
        authorize: Authorize | None = None,
        limit: Limit | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.lazy = lazy
        self._arguments = dict(arguments or {})
        self.authorize = authorize
        self.limit = limit

    def streamable_http_app(self, **kwargs: Any) -> Starlette:
        # Here, not at the top: a stdio server never loads the HTTP auth modules (the handshake does not wait on them).
        from incident_response.server.auth_unavailable import ReviewUnavailableAs503

        app = super().streamable_http_app(**kwargs)
        app.add_middleware(ReviewUnavailableAs503)
        return app

    def _lazy_names(self) -> Sequence[str]:
        return self.lazy.names if self.lazy is not None else ()

    async def list_tools(self) -> list[MCPTool]:
        own = self.lazy.listing if self.lazy is not None else []
        return [*own, *await super().list_tools()]

    def _tool_input_schema(self, name: str) -> dict[str, Any] | None:
        if self.lazy is not None and (schema := self.lazy.input_schema(name)) is not None:
            return schema
        return super()._tool_input_schema(name)

    def _takes(self, name: str) -> Sequence[str]:
        if name in self._arguments:
            return self._arguments[name]
        schema = self._tool_input_schema(name) or {}
        return list(schema.get("properties", {}))

    async def call_tool(
        self, name: str, arguments: dict[str, Any], context: Context[Any, Any] | None = None
    ) -> CallToolResult | InputRequiredResult:
        if self.limit is not None:
            self.limit(name, arguments, context)
        granted = None if self.authorize is None else await self.authorize(name, context)
        grants = GRANTED.set(granted)
        try:
            return await self._call_tool(name, arguments, context)
        finally:
            GRANTED.reset(grants)

    async def _call_tool(
        self, name: str, arguments: dict[str, Any], context: Context[Any, Any] | None
    ) -> CallToolResult | InputRequiredResult:
        try:
            if self.lazy is not None and name in self._lazy_names():
                tool = await anyio.to_thread.run_sync(self.lazy.tool, name)
                result: CallToolResult | InputRequiredResult = await tool.run(
                    arguments, context or Context(mcp_server=self), convert_result=True
                )
                return result
            return await super().call_tool(name, arguments, context)
        except UnexpectedToolError:
            raise
        except ToolError as e:
            cause = e.__cause__
            if isinstance(cause, ValidationError):
                raise ToolError(argument_errors(name, cause, self._takes(name))) from cause
            if isinstance(cause, ToolError):  # a tool's own error, raised by registration.register's wrapper
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

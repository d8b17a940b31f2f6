"""Tool functions as MCP tools: the adapter every call passes through, and the build of all of them.

Tool functions live in `tools/` and know nothing of MCP. Their convention: the first parameter is `deps: Deps`;
an optional `progress: Progress` parameter receives MCP progress notifications; the other parameters are the tool's
arguments (type hints and `Field` descriptions become the input schema); the return value is a `ToolResult`
model. `register()` adapts such a function into an MCP tool; it is the single place every call passes through.

Which tools exist, and the module each function lives in, is server/catalog.py's table. Building the tools imports
those modules and derives every argument model and schema: the server does it after the handshake
(server/lazy_tools.py), listing tools from server/tool_manifest.json.

Layer: server (MCP wiring).
"""

from __future__ import annotations

import copy
import functools
import importlib
import inspect
import logging
import sqlite3
import time
import typing
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any

import anyio
import anyio.to_thread
from mcp.server.mcpserver import Context, Resolve
from mcp.server.mcpserver.exceptions import ToolError
from mcp.server.mcpserver.tools import Tool
from mcp.types import CallToolResult, TextContent, ToolAnnotations
from pydantic import ConfigDict

from incident_response.server import catalog, http_auth, render, schemas
from incident_response.server.config import Settings
from incident_response.server.lazy_tools import tool_annotations
from incident_response.tools.core.errors import IncidentError, InvalidArgument
from incident_response.tools.core.masking import mask_data
from incident_response.tools.core.models import ToolResult
from incident_response.tools.engine import attribution, call_reads
from incident_response.tools.engine.approvals import CALLER
from incident_response.tools.engine.deps import Deps, Progress, check_name
from incident_response.tools.kube.client import Kube

logger = logging.getLogger("incident_response.server")


# Tool parameters holding object names are validated here, once, before any tool body runs.
NAME_PARAMETERS = {
    "deployment": "deployment",
    "workload": "workload",
    "service": "service",
    "release": "release",
    "node": "node",
}
SERVER_INJECTED = ("deps", "progress")

ToolFunction = Callable[..., ToolResult | Awaitable[ToolResult]]


class ToolSet:
    """The server's tools, built before the server (`MCPServer(tools=...)`) so that tools returning the same model
    share one output schema. pydantic regenerates a model's JSON schema on every request and 15 planners return
    `Proposal`: the duplicates were a quarter of `build_server`, which the MCP handshake waits for."""

    def __init__(self) -> None:
        self.tools: list[Tool] = []
        self._output_schemas: dict[type[ToolResult], dict[str, Any]] = {}

    def add_copy(
        self, template: Tool, call: Callable[..., Awaitable[CallToolResult]], annotations: ToolAnnotations
    ) -> Tool:
        """A tool derived before (DERIVED), for this server: its own call wrapper and annotations, the same schemas and
        argument model."""
        tool = template.model_copy(
            update={"fn": call, "annotations": annotations, "parameters": copy.deepcopy(template.parameters)}
        )
        if any(t.name == tool.name for t in self.tools):
            raise ValueError(f"tool {tool.name} is registered twice")
        output = template.fn_metadata.output_schema
        if template.fn_metadata.output_model is not None and output is not None:
            self._output_schemas.setdefault(template.fn_metadata.output_model, output)
        self.tools.append(tool)
        return tool

    def return_annotation(self, result_model: type[ToolResult]) -> Any:
        """What the tool's wrapper declares: the SDK derives the output schema only for a model not seen yet, and none
        for a text-only result."""
        if result_model in self._output_schemas or text_only(result_model):
            return CallToolResult
        return Annotated[CallToolResult, result_model]

    def add(
        self,
        call: Callable[..., Awaitable[CallToolResult]],
        title: str,
        description: str | None,
        annotations: ToolAnnotations,
        result_model: type[ToolResult],
    ) -> Tool:
        tool = Tool.from_function(
            call,
            name=call.__name__,
            title=title,
            description=description,
            annotations=annotations,
            structured_output=True,
        )
        if any(t.name == tool.name for t in self.tools):
            raise ValueError(f"tool {tool.name} is registered twice")
        forbid_unknown_arguments(tool)
        # What the model reads: compact, with the argument descriptions the catalog gives.
        tool.parameters = schemas.input_schema(tool.parameters, catalog.CATALOG[tool.name].fields)
        if text_only(result_model):  # no output schema: its result is the text alone (render.TEXT_ONLY)
            self.tools.append(tool)
            return tool
        schema = self._output_schemas.get(result_model)
        if schema is None:
            if tool.fn_metadata.output_schema is None:
                raise TypeError(f"tool {call.__name__}: the SDK derived no output schema from {result_model!r}")
            tool.fn_metadata.output_schema = schemas.output_schema(tool.fn_metadata.output_schema)
            self._output_schemas[result_model] = tool.fn_metadata.output_schema
        else:
            # FuncMetadata's fields are read live (documented), so this tool validates its results against the model
            # and advertises the same schema, exactly as if the SDK had derived it again.
            tool.fn_metadata.output_model = result_model
            tool.fn_metadata.output_schema = copy.deepcopy(schema)
        self.tools.append(tool)
        return tool


def forbid_unknown_arguments(tool: Tool) -> None:
    """A misspelt argument (`to_revison=2`) is a tool error naming it, never silently dropped so that a default
    (the previous revision) is planned instead. The input schema says so too (additionalProperties: false).

    Validation is strict as well: a boolean is not a count (`replicas: true` is not 1), a string not a number or a
    boolean. The error names the argument and never repeats its value (a megabyte token, a secret pasted by mistake).
    """
    lenient = tool.fn_metadata.arg_model
    config = ConfigDict(**{**lenient.model_config, "extra": "forbid", "strict": True, "hide_input_in_errors": True})
    strict = type(lenient.__name__, (lenient,), {"__module__": lenient.__module__, "model_config": config})
    tool.fn_metadata.arg_model = strict
    tool.parameters = {**tool.parameters, "additionalProperties": False}  # what the strict model's schema adds


# Each module-level tool function's argument model and schemas, derived once per process (pydantic's model and schema
# generation is most of building a server: ~0.2 s of CPU for 38 tools). One server per process gains nothing; the
# tests and the demo build many.
DERIVED: dict[tuple[Any, ...], Tool] = {}


def register(tools: ToolSet, deps: Deps, fn: ToolFunction) -> Tool:
    """Expose `fn` as an MCP tool. Every tool call passes through `call` below (validation, errors, results).
    Its title and annotations come from the catalog, true in the server's mode."""
    hints = typing.get_type_hints(fn, include_extras=True)
    signature = inspect.signature(fn)
    result_model = hints["return"]
    if not (inspect.isclass(result_model) and issubclass(result_model, ToolResult)):
        raise TypeError(f"tool {fn.__name__} must return a ToolResult model, not {result_model!r}")
    wants_progress = "progress" in signature.parameters
    arguments = [
        p.replace(annotation=hints.get(p.name, p.annotation))
        for p in signature.parameters.values()
        if p.name not in SERVER_INJECTED
    ]

    # Resolver-filled parameters (the human's elicitation answer) are not the agent's arguments: not journaled.
    journaled = [
        p.name for p in arguments if not any(isinstance(m, Resolve) for m in getattr(p.annotation, "__metadata__", ()))
    ]

    async def call(ctx: Context, **kwargs: Any) -> CallToolResult:
        # The journal is read once per call: the team-mode store's reads in the tool and in its record share a memo
        # that ends with the call (tools/engine/call_reads.py).
        with call_reads.one_call():
            return await run(ctx, **kwargs)

    async def run(ctx: Context, **kwargs: Any) -> CallToolResult:
        started = time.monotonic()
        recorded = {name: kwargs[name] for name in journaled if name in kwargs}
        outcome, error, about = "error", None, None
        # Who is calling, for the pending engine (worker threads get a copy of this context).
        caller = CALLER.set(http_auth.caller_of(ctx))
        try:
            check_arguments(deps, kwargs)
            if wants_progress:
                kwargs["progress"] = progress_reporter(ctx)
            if inspect.iscoroutinefunction(fn):
                result = await fn(deps, **kwargs)
            else:
                # abandon_on_cancel: a cancelled call answers at once; the blocking read finishes on its own.
                result = await anyio.to_thread.run_sync(functools.partial(fn, deps, **kwargs), abandon_on_cancel=True)
            outcome = str(getattr(result, "status", "ok"))
            about = incident_of(result)
        except IncidentError as e:
            logger.info("tool %s failed after %.2fs: %s", fn.__name__, time.monotonic() - started, e)
            error = str(e)
            raise ToolError(str(e)) from e
        finally:
            CALLER.reset(caller)
            duration_ms = (time.monotonic() - started) * 1000
            with anyio.CancelScope(shield=True):
                await anyio.to_thread.run_sync(
                    journal_call, deps, fn.__name__, recorded, outcome, duration_ms, error, about
                )
        return to_call_result(result)

    call.__name__ = fn.__name__
    call.__qualname__ = fn.__name__
    call.__doc__ = fn.__doc__
    ctx_parameter = inspect.Parameter("ctx", inspect.Parameter.KEYWORD_ONLY, annotation=Context)
    output = tools.return_annotation(result_model)
    # The SDK reads the tool's schema from the signature: the tool's own arguments, without what the server injects.
    call.__dict__["__signature__"] = signature.replace(parameters=[*arguments, ctx_parameter], return_annotation=output)
    call.__annotations__ = {**{p.name: p.annotation for p in arguments}, "ctx": Context, "return": output}
    name = fn.__name__
    entry = catalog.CATALOG[name]
    annotations = tool_annotations(name, deps.mode)
    # A closure may close over its server's state (the confirmation tools' resolver does): derived per server.
    key = (fn, entry.title, entry.description, tuple(sorted(entry.fields.items())))
    template = DERIVED.get(key) if fn.__qualname__ == name else None
    if template is not None:
        return tools.add_copy(template, call, annotations)
    tool = tools.add(call, entry.title, entry.description, annotations, result_model)
    if fn.__qualname__ == name:
        DERIVED[key] = tool
    return tool


def incident_of(result: ToolResult) -> str | None:
    """The incident a result is about (declare_incident, incident_handoff), which may not be the open one: the call
    that resolves an incident belongs to it, not to the next one."""
    incident_id = getattr(getattr(result, "incident", None), "incident_id", None)
    return incident_id if isinstance(incident_id, str) else None


def journal_call(
    deps: Deps,
    tool: str,
    arguments: dict[str, Any],
    status: str,
    duration_ms: float,
    error: str | None,
    incident: str | None = None,
) -> None:
    """Every tool call goes to the incident journal (to the incident of the namespace it acts in, unless the result
    names another: tools.engine.attribution); a journal that cannot be written must not stop the response."""
    namespace = arguments.get("namespace")
    if isinstance(namespace, str) and not valid_namespace(deps, namespace):
        # Refused for its namespace (a typo, outside the allow-list): it must not open an incident of its own, which
        # would then collect every call in no namespace (top_nodes) away from the incident being worked.
        arguments = {k: v for k, v in arguments.items() if k != "namespace"}
    try:
        journal = deps.journal
        for about in [incident] if incident else attribution.call_incidents(journal, arguments):
            journal.record_tool_call(
                tool,
                arguments,
                status=status,
                duration_ms=duration_ms,
                error=error,
                incident=about,
                cluster=deps.cluster_record(),
            )
    except (OSError, sqlite3.Error, IncidentError) as e:  # IncidentError: the Kubernetes store's API failed
        logger.warning("could not journal the %s call: %s", tool, e)


def valid_namespace(deps: Deps, namespace: str) -> bool:
    try:
        deps.check_namespace(namespace)
    except InvalidArgument:  # NamespaceNotAllowed is one
        return False
    return True


def check_arguments(deps: Deps, arguments: dict[str, Any]) -> None:
    """Central checks: the namespace allow-list and object-name syntax, before the tool body runs."""
    namespace = arguments.get("namespace")
    if isinstance(namespace, str):
        deps.check_namespace(namespace)
    for parameter, what in NAME_PARAMETERS.items():
        value = arguments.get(parameter)
        if isinstance(value, str):
            check_name(value, what)


def progress_reporter(ctx: Context) -> Progress:
    async def report(progress: float, total: float | None, message: str | None) -> None:
        await ctx.report_progress(progress, total, message)

    return report


def text_only(result_model: type[ToolResult]) -> bool:
    return result_model.__name__ in render.TEXT_ONLY


def to_call_result(result: ToolResult) -> CallToolResult:
    """Structured content for programs; for the model and the human, a compact text of the facts (server/render.py).
    A text-only result (render.TEXT_ONLY) is the text alone."""
    structured = result.model_dump(mode="json")
    # Rendered from the data masked by position (an env value, a Secret's data): in a table cell the value no longer
    # says what it is, so the boundary's masking of the text by shape alone would miss it.
    text = render.render(type(result).__name__, mask_data(structured))
    content: list[TextContent] = [TextContent(type="text", text=text)]
    if text_only(type(result)):
        return CallToolResult(content=content)
    return CallToolResult(content=content, structured_content=structured)


@dataclass(frozen=True)
class Built:
    deps: Deps
    tools: dict[str, Tool]


# Modules whose tool functions are built per server, closed over its Deps: the function that makes them. Imported
# with the first such tool (the confirmation tools import the pending engine and plans: ~70 ms a read does not need).
PER_SERVER = {"server.confirmation": "confirmation_tools"}


def tool_function(name: str, deps: Deps) -> ToolFunction:
    """The function of the catalog's tool `name`, from the module its entry names."""
    where = catalog.CATALOG[name].module
    module = importlib.import_module(f"incident_response.{where}")
    if where in PER_SERVER:
        found: ToolFunction | None = {fn.__name__: fn for fn in getattr(module, PER_SERVER[where])(deps)}.get(name)
    else:
        found = getattr(module, name, None)
    if found is None or getattr(found, "__name__", None) != name:
        raise LookupError(f"server/catalog.py says tool {name} is in {where}, but that module has no function {name}")
    return found


def build_tools(
    settings: Settings,
    names: Sequence[str],
    kube: Kube | None = None,
    clock: Callable[[], datetime] | None = None,
) -> Built:
    """The tools called `names`, adapted, with the `Deps` they share. `kube` replaces the configured cluster (tests,
    demo); `clock` the pending engine's time."""
    builder = Builder(settings, kube, clock)
    return Built(builder.deps, {name: builder.build(name) for name in names})


class Builder:
    """One server's tools, built one at a time in any order (the same tools whatever the order: tools returning the
    same model share its schema, derived by whichever comes first). Not thread-safe: server/lazy_tools.py lets one
    thread build at a time."""

    def __init__(
        self, settings: Settings, kube: Kube | None = None, clock: Callable[[], datetime] | None = None
    ) -> None:
        self.deps = Deps(settings.tool_settings(), kube_override=kube, clock=clock)
        self._tools = ToolSet()

    def build(self, name: str) -> Tool:
        return register(self._tools, self.deps, tool_function(name, self.deps))

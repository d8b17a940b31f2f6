"""Builds the MCPServer: every tool, the skill resource and the prompts. The only module that knows MCPServer.

Tool functions live in `tools/` and know nothing of MCP. Their convention: the first parameter is `deps: Deps`;
an optional `progress: Progress` parameter receives MCP progress notifications; the other parameters are the tool's
arguments (type hints and `Field` descriptions become the input schema); the return value is a `ToolResult`
model. `register()` adapts such a function into an MCP tool; it is the single place every call passes through.

Layer: server (MCP wiring).
"""

from __future__ import annotations

import copy
import functools
import inspect
import logging
import sqlite3
import time
import typing
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import replace
from datetime import datetime
from importlib import resources
from typing import Annotated, Any

import anyio
import anyio.to_thread
from mcp.server import MCPServer
from mcp.server.auth.provider import TokenVerifier
from mcp.server.auth.settings import AuthSettings
from mcp.server.lowlevel.helper_types import ReadResourceContents
from mcp.server.mcpserver import Context, Resolve
from mcp.server.mcpserver.exceptions import ToolError
from mcp.server.mcpserver.prompts.base import Prompt, PromptArgument, UserMessage
from mcp.server.mcpserver.resources import TextResource
from mcp.server.mcpserver.tools import Tool
from mcp.shared.exceptions import MCPError
from mcp.types import CallToolResult, GetPromptResult, InputRequiredResult, TextContent, ToolAnnotations
from pydantic import AnyUrl, ConfigDict

from incident_response import __version__
from incident_response.server import (
    catalog,
    confirmation,
    http_auth,
    instructions,
    mcp_masking,
    mitigation_tools,
    skills,
)
from incident_response.server.config import Settings
from incident_response.server.instructions import SKILL_URI
from incident_response.server.wire import IncidentServer
from incident_response.tools.assess import (
    endpoints,
    events,
    helm,
    hpas,
    identity,
    logs,
    metrics,
    namespace,
    pods,
    recovery,
    rollback_safety,
    rollouts,
)
from incident_response.tools.core.errors import IncidentError
from incident_response.tools.core.masking import mask_text
from incident_response.tools.core.models import ToolResult
from incident_response.tools.decide import evaluate
from incident_response.tools.engine.approvals import CALLER
from incident_response.tools.engine.deps import Deps, Progress, check_name
from incident_response.tools.incident import declare, handoff
from incident_response.tools.kube.client import Kube
from incident_response.tools.mitigate import rollback

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

ASSESSMENT_TOOLS: tuple[ToolFunction, ...] = (
    namespace.assess_namespace,
    pods.list_pods,
    rollouts.rollout_history,
    rollouts.rollout_status,
    metrics.top_pods,
    metrics.top_nodes,
    hpas.list_hpas,
    endpoints.get_endpoints,
    events.list_events,
    logs.get_logs,
    helm.helm_history,
    rollback_safety.check_rollback_safety,
    evaluate.evaluate_decision,
    recovery.verify_recovery,
    handoff.incident_handoff,
    identity.server_info,
)


def build_server(
    settings: Settings,
    kube: Kube | None = None,
    *,
    clock: Callable[[], datetime] | None = None,
    auth: TokenVerifier | None = None,
) -> MCPServer[Any]:
    """The whole server. `kube` replaces the configured cluster (tests, demo); `clock` the pending engine's time;
    `auth` checks HTTP bearer tokens (every HTTP request without a valid one gets 401 before any MCP handling)."""
    deps = Deps(settings.tool_settings(), kube_override=kube, clock=clock)
    tools = ToolSet()
    confirm, cancel, list_pending = confirmation.confirmation_tools(deps)
    every_tool = (
        *ASSESSMENT_TOOLS,
        rollback.rollback_deployment,
        *mitigation_tools.MITIGATION_TOOLS,
        confirm,
        cancel,
        list_pending,
        declare.declare_incident,
    )
    for fn in every_tool:
        if catalog.listed(fn.__name__, settings.mode, settings.toolsets, settings.read_only):
            register(tools, deps, fn)
    skill = skills.Skills()
    mcp: MCPServer[Any] = MaskingServer(
        "incident-response-mcp",
        title="Kubernetes incident response",
        instructions=instructions.for_server(settings.mode, {tool.name for tool in tools.tools}),
        version=__version__,
        tools=tools.tools,
        arguments={tool.name: list(tool.parameters.get("properties", {})) for tool in tools.tools},
        extensions=[skill],
        middleware=[skills.declare_on_initialize],
        token_verifier=auth,
        # The SDK wants an issuer for OAuth metadata; without resource_server_url it serves none, so this URL is never
        # shown: the tokens are static, not issued by an authorization server.
        auth=None if auth is None else AuthSettings(issuer_url="http://127.0.0.1/", resource_server_url=None),
    )
    add_skill(mcp, skill.skill.text)
    add_prompts(mcp)
    return mcp


class MaskingServer(IncidentServer):
    """The MCP side of the masking boundary (README, Secrets): every tool answer and error, prompt and resource
    leaves through these three methods, whichever way the tool, prompt or resource was added."""

    async def call_tool(
        self, name: str, arguments: dict[str, Any], context: Context[Any, Any] | None = None
    ) -> CallToolResult | InputRequiredResult:
        try:
            result = await super().call_tool(name, arguments, context)
        except (MCPError, ToolError) as e:
            # The cause is kept: the SDK logs only the field names of an argument ValidationError.
            raise (mcp_masking.masked_error(e) or e) from e.__cause__
        return mcp_masking.mask_call_result(result)

    async def get_prompt(
        self, name: str, arguments: dict[str, Any] | None = None, context: Context[Any, Any] | None = None
    ) -> GetPromptResult | InputRequiredResult:
        try:
            result = await super().get_prompt(name, arguments, context)
        except (MCPError, ValueError) as e:
            raise (mcp_masking.masked_error(e) or e) from e.__cause__
        return mcp_masking.mask_prompt_result(result)

    async def read_resource(
        self, uri: AnyUrl | str, context: Context[Any, Any] | None = None
    ) -> Iterable[ReadResourceContents] | InputRequiredResult:
        result = await super().read_resource(uri, context)
        if isinstance(result, InputRequiredResult):
            return mcp_masking.mask_input_required(result)
        return [
            item if isinstance(item.content, bytes) else replace(item, content=mask_text(item.content))
            for item in result
        ]


class ToolSet:
    """The server's tools, built before the server (`MCPServer(tools=...)`) so that tools returning the same model
    share one output schema. pydantic regenerates a model's JSON schema on every request and 15 planners return
    `Proposal`: the duplicates were a quarter of `build_server`, which the MCP handshake waits for."""

    def __init__(self) -> None:
        self.tools: list[Tool] = []
        self._output_schemas: dict[type[ToolResult], dict[str, Any]] = {}

    def return_annotation(self, result_model: type[ToolResult]) -> Any:
        """What the tool's wrapper declares: the SDK derives the output schema only for a model not seen yet."""
        return CallToolResult if result_model in self._output_schemas else Annotated[CallToolResult, result_model]

    def add(
        self,
        call: Callable[..., Awaitable[CallToolResult]],
        title: str,
        description: str | None,
        annotations: ToolAnnotations,
        result_model: type[ToolResult],
    ) -> None:
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
        schema = self._output_schemas.get(result_model)
        if schema is None:
            if tool.fn_metadata.output_schema is None:
                raise TypeError(f"tool {call.__name__}: the SDK derived no output schema from {result_model!r}")
            self._output_schemas[result_model] = tool.fn_metadata.output_schema
        else:
            # FuncMetadata's fields are read live (documented), so this tool validates its results against the model
            # and advertises the same schema, exactly as if the SDK had derived it again.
            tool.fn_metadata.output_model = result_model
            tool.fn_metadata.output_schema = copy.deepcopy(schema)
        self.tools.append(tool)


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


def register(tools: ToolSet, deps: Deps, fn: ToolFunction) -> None:
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
    annotations = ToolAnnotations(
        read_only_hint=catalog.read_only(name, deps.mode),
        destructive_hint=catalog.CATALOG[name].kind == "confirm",
        idempotent_hint=catalog.idempotent(name),
        open_world_hint=catalog.CATALOG[name].untrusted_text,
    )
    tools.add(call, catalog.CATALOG[name].title, inspect.getdoc(fn), annotations, result_model)


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
    """Every tool call goes to the incident journal (to the open incident unless the result names another); a
    journal that cannot be written must not stop the response."""
    try:
        journal = deps.journal
        journal.record_tool_call(
            tool,
            arguments,
            status=status,
            duration_ms=duration_ms,
            error=error,
            incident=incident or journal.current_incident(),
            cluster=deps.cluster_record(),
        )
    except (OSError, sqlite3.Error) as e:
        logger.warning("could not journal the %s call: %s", tool, e)


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


def to_call_result(result: ToolResult) -> CallToolResult:
    """Structured content for programs, plus the summary and the same data as text for clients that show text only."""
    structured = result.model_dump(mode="json")
    return CallToolResult(
        content=[
            TextContent(type="text", text=result.summary),
            TextContent(type="text", text=result.model_dump_json(exclude={"summary"})),
        ],
        structured_content=structured,
    )


def add_skill(mcp: MCPServer[Any], text: str) -> None:
    """SKILL.md for clients without the Skills extension: the resource at its former address, and a prompt."""
    mcp.add_resource(
        TextResource(
            uri=skills.LEGACY_URI,
            name="incident-response-playbook",
            title="Incident response playbook",
            description=f"The same text as {SKILL_URI} (this server's playbook), at its former address.",
            mime_type="text/markdown",
            text=text,
        )
    )

    def incident_response() -> list[UserMessage]:
        return [UserMessage(text)]

    mcp.add_prompt(
        Prompt(
            name="incident-response",
            title="Incident response playbook",
            description="The playbook (SKILL.md) for stabilizing a Kubernetes incident with these tools.",
            arguments=[],
            fn=incident_response,
            context_kwarg=None,  # explicit: mypy without the pydantic plugin reads Field(None) as required
        )
    )


PROMPT_ARGUMENTS = (
    PromptArgument(name="namespace", description="Namespace of the incident", required=True),
    PromptArgument(name="deployment", description="Deployment at the centre of it, if known", required=False),
)


def add_prompts(mcp: MCPServer[Any]) -> None:
    """One prompt per `prompts/*.md`, named by file stem; `{namespace}` and `{deployment}` are filled in."""
    folder = resources.files("incident_response.prompts")
    for entry in sorted(folder.iterdir(), key=lambda e: e.name):
        if not entry.name.endswith(".md"):
            continue
        template = entry.read_text(encoding="utf-8")
        title, _, _ = template.partition("\n")
        mcp.add_prompt(
            Prompt(
                name=entry.name.removesuffix(".md"),
                title=title.lstrip("# ").strip() or None,
                description=prompt_description(template),
                arguments=list(PROMPT_ARGUMENTS),
                fn=functools.partial(render_prompt, template),
                context_kwarg=None,
            )
        )


def prompt_description(template: str) -> str:
    """The first paragraph after the title."""
    lines = template.splitlines()[1:]
    paragraph: list[str] = []
    for line in lines:
        if line.strip():
            paragraph.append(line.strip())
        elif paragraph:
            break
    return " ".join(paragraph)


def render_prompt(template: str, namespace: str, deployment: str | None = None) -> list[UserMessage]:
    check_name(namespace, "namespace")
    if deployment:
        check_name(deployment, "deployment")
    text = template.replace("{namespace}", namespace).replace("{deployment}", deployment or "<deployment>")
    return [UserMessage(text)]

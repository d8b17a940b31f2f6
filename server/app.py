"""Builds the MCPServer: the tools (listed from the manifest, built on first use), the skill and the prompts.

The tools themselves are adapted in server/registration.py and served by server/lazy_tools.py, so that building this
server, the MCP handshake and `tools/list` import no tool module.

Layer: server (MCP wiring).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable
from dataclasses import replace
from datetime import datetime
from importlib import resources
from typing import TYPE_CHECKING, Any

from mcp.server import MCPServer
from mcp.server.auth.provider import TokenVerifier
from mcp.server.auth.settings import AuthSettings
from mcp.server.lowlevel.helper_types import ReadResourceContents
from mcp.server.mcpserver import Context
from mcp.server.mcpserver.exceptions import ToolError
from mcp.server.mcpserver.prompts.base import Prompt, PromptArgument, UserMessage
from mcp.server.mcpserver.resources import TextResource
from mcp.shared.exceptions import MCPError
from mcp.types import CallToolResult, GetPromptResult, InputRequiredResult
from pydantic import AnyUrl

from incident_response import __version__
from incident_response.server import instructions, mcp_masking, skills
from incident_response.server.config import Settings
from incident_response.server.instructions import SKILL_URI
from incident_response.server.lazy_tools import LazyTools
from incident_response.server.wire import Authorize, IncidentServer, Limit
from incident_response.tools.core.masking import mask_text
from incident_response.tools.engine.deps import check_name

if TYPE_CHECKING:
    from incident_response.tools.kube.client import Kube


def build_server(
    settings: Settings,
    kube: Kube | None = None,
    *,
    clock: Callable[[], datetime] | None = None,
    auth: TokenVerifier | None = None,
    authorize: Authorize | None = None,
    limit: Limit | None = None,
) -> MaskingServer:
    """The whole server. `kube` replaces the configured cluster (tests, demo); `clock` the pending engine's time;
    `auth` checks HTTP bearer tokens (every HTTP request without a valid one gets 401 before any MCP handling);
    `authorize` is asked before every tool call (a ToolError says what the caller lacks), after `limit` (a ToolError
    says which rate the caller spent)."""
    tools = LazyTools(settings, kube, clock)
    skill = skills.Skills()
    mcp = MaskingServer(
        "incident-response-mcp",
        title="Kubernetes incident response",
        instructions=instructions.for_server(
            settings.mode, set(tools.names), settings.approve_flags(), dialog=settings.approvals != "cli"
        ),
        version=__version__,
        lazy=tools,
        extensions=[skill],
        middleware=[skills.declare_on_initialize, tools.middleware],
        token_verifier=auth,
        authorize=authorize,
        limit=limit,
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

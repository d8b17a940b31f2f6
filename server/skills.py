"""SKILL.md through the MCP Skills extension (`io.modelcontextprotocol/skills`, SEP-2640).

Declared in the server's capabilities (`extensions`), it answers `skills/list` and `skills/get` with the skill's entry
(the URI of its SKILL.md, the front matter verbatim, and every file with its SHA-256 digest and size), and serves the
file as the resource `skill://incident-response/SKILL.md`. Clients without the extension read the same text as that
resource, as the resource at its former address `skill://incident-response`, or as the `incident-response` prompt.

Layer: server (MCP wiring).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property
from importlib import resources
from typing import Any

from mcp.server.context import CallNext, HandlerResult, ServerRequestContext
from mcp.server.extension import Extension, MethodBinding, ResourceBinding
from mcp.server.mcpserver.resources import TextResource
from mcp.shared.exceptions import MCPError
from mcp.types import INVALID_PARAMS, PaginatedRequestParams, RequestParams

from incident_response.server.instructions import SKILL_NAME, SKILL_URI

EXTENSION_ID = "io.modelcontextprotocol/skills"
# The skill is fixed for the life of the process; a client may keep its entry this long before asking again.
TTL_MS = 300_000


def skill_text() -> str:
    return resources.files("incident_response").joinpath("SKILL.md").read_text(encoding="utf-8")


def front_matter_text(text: str) -> str:
    """The YAML between the opening `---` and the next `---` line."""
    lines = text.splitlines()
    if not lines or lines[0] != "---" or "---" not in lines[1:]:
        raise ValueError("SKILL.md must begin with YAML front matter between '---' lines")
    return "\n".join(lines[1 : lines.index("---", 1)])


def front_matter_field(text: str, key: str) -> str:
    """One top-level string of the front matter without a YAML parser (kept off the startup path): a plain scalar, or a
    double-quoted one (JSON's escapes are YAML's for the text we write). skills/list parses the whole with YAML, and a
    test holds the two equal."""
    for line in front_matter_text(text).splitlines():
        if line.startswith(f"{key}:"):
            value = line.removeprefix(f"{key}:").strip()
            parsed = json.loads(value) if value.startswith('"') else value
            if isinstance(parsed, str):
                return parsed
    raise ValueError(f"SKILL.md front matter has no {key}")


class GetSkillParams(RequestParams):
    uri: str


@dataclass(frozen=True)
class Skill:
    uri: str
    text: str

    @cached_property
    def entry(self) -> dict[str, Any]:
        """The Skill entry of SEP-2640: the same in skills/list and skills/get."""
        import yaml  # only when a client asks: PyYAML stays off the handshake path

        front_matter = yaml.safe_load(front_matter_text(self.text))
        raw = self.text.encode("utf-8")  # the bytes resources/read returns
        return {
            "uri": self.uri,
            "frontmatter": front_matter,
            "resources": [{"uri": self.uri, "digest": f"sha256:{hashlib.sha256(raw).hexdigest()}", "size": len(raw)}],
        }


class Skills(Extension):
    """The extension, serving this package's SKILL.md as the skill `incident-response`."""

    identifier = EXTENSION_ID

    def __init__(self, text: str | None = None) -> None:
        self.skill = Skill(SKILL_URI, skill_text() if text is None else text)

    def resources(self) -> Sequence[ResourceBinding]:
        text = self.skill.text
        return [
            ResourceBinding(
                TextResource(
                    uri=self.skill.uri,
                    name=front_matter_field(text, "name"),
                    title="Incident response playbook",
                    description=front_matter_field(text, "description"),
                    mime_type="text/markdown",
                    text=text,
                )
            )
        ]

    def methods(self) -> Sequence[MethodBinding]:
        return [
            MethodBinding("skills/list", PaginatedRequestParams, self.list_skills),
            MethodBinding("skills/get", GetSkillParams, self.get_skill),
        ]

    async def list_skills(self, ctx: Any, params: PaginatedRequestParams | None) -> dict[str, Any]:
        return {"skills": [self.skill.entry], **cacheable()}

    async def get_skill(self, ctx: Any, params: GetSkillParams) -> dict[str, Any]:
        if params.uri != self.skill.uri:
            raise MCPError(INVALID_PARAMS, f"no skill at {params.uri!r}: this server serves {self.skill.uri}")
        return {"skill": self.skill.entry, **cacheable()}


def cacheable() -> dict[str, Any]:
    """SEP-2640's results are cacheable (the runner adds `resultType` on 2026-07-28 connections)."""
    return {"ttlMs": TTL_MS, "cacheScope": "public"}


async def declare_on_initialize(ctx: ServerRequestContext[Any, Any], call_next: CallNext) -> HandlerResult:
    """Middleware: the extension in `initialize`'s capabilities too. SEP-2133 negotiates extensions there for
    handshake clients, but the SDK shapes a 2025-11-25 result by that revision's schema, which has no `extensions`
    and drops it (2026-07-28's server/discover keeps it)."""
    result = await call_next(ctx)
    if ctx.method != "initialize" or not isinstance(result, dict):
        return result
    capabilities = result.get("capabilities")
    if not isinstance(capabilities, dict):
        return result
    extensions = capabilities.get("extensions")
    declared = dict(extensions) if isinstance(extensions, dict) else {}
    declared.setdefault(EXTENSION_ID, {})
    return {**result, "capabilities": {**capabilities, "extensions": declared}}


LEGACY_URI = f"skill://{SKILL_NAME}"

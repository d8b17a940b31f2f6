"""The server's tools, listed from the manifest at once and built on first use (or by the warm-up after the
handshake), so that neither the MCP handshake nor the first call pays for importing and deriving 37 tools.

Listing needs no tool module: descriptions and schemas come from server/tool_manifest.json, titles, annotations and
the listed set from server/catalog.py. Building imports every tool family and derives the argument models
(server/registration.py); it happens once, under a lock, in a worker thread.

Layer: server (MCP wiring).
"""

from __future__ import annotations

import functools
import gc
import logging
import threading
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from mcp.server.context import CallNext, HandlerResult, ServerRequestContext
from mcp.types import Tool as MCPTool
from mcp.types import ToolAnnotations

from incident_response.server import catalog, manifest
from incident_response.server.config import Settings
from incident_response.tools.core.modes import Mode

if TYPE_CHECKING:
    from mcp.server.mcpserver.tools import Tool

    from incident_response.server.registration import Built
    from incident_response.tools.kube.client import Kube

logger = logging.getLogger("incident_response.server")


def tool_annotations(name: str, mode: Mode) -> ToolAnnotations:
    """The tool's annotations, true in this mode (server/catalog.py says why), each hint only where it differs from
    the spec's default (not read-only, destructive, not idempotent, open world); destructive and idempotent only for a
    tool that changes something (they mean nothing for one that does not)."""
    entry = catalog.CATALOG[name]
    read_only = catalog.read_only(name, mode)
    destructive = entry.kind == "confirm"
    return ToolAnnotations(
        read_only_hint=True if read_only else None,
        destructive_hint=None if read_only or destructive else False,
        idempotent_hint=True if not read_only and catalog.idempotent(name) else None,
        open_world_hint=None if entry.untrusted_text else False,
    )


class LazyTools:
    def __init__(
        self,
        settings: Settings,
        kube: Kube | None = None,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        self.settings = settings
        self.names: Sequence[str] = [
            name
            for name in catalog.CATALOG
            if catalog.listed(name, settings.mode, settings.toolsets, settings.read_only)
        ]
        self._kube = kube
        self._clock = clock
        self._lock = threading.Lock()
        self._built: Built | None = None
        # Set by `serve`: warm up once a client has listed the tools (in-process tests build on first call instead).
        self.warm_after_listing = False
        self.warming: threading.Thread | None = None

    @functools.cached_property
    def listing(self) -> list[MCPTool]:
        definitions = manifest.definitions()
        return [
            MCPTool(
                name=name,
                title=catalog.CATALOG[name].title,
                description=definitions[name]["description"],
                input_schema=definitions[name]["inputSchema"],
                output_schema=definitions[name]["outputSchema"],
                annotations=tool_annotations(name, self.settings.mode),
            )
            for name in self.names
        ]

    def input_schema(self, name: str) -> dict[str, Any] | None:
        if name not in self.names:
            return None
        schema: dict[str, Any] = manifest.definitions()[name]["inputSchema"]
        return schema

    def built(self) -> Built:
        """Every listed tool, built once (callers wait here while another thread builds)."""
        with self._lock:
            if self._built is None:
                from incident_response.server.registration import build_tools

                self._built = build_tools(self.settings, self.names, self._kube, self._clock)
            return self._built

    def tool(self, name: str) -> Tool:
        return self.built().tools[name]

    async def middleware(self, ctx: ServerRequestContext[Any, Any], call_next: CallNext) -> HandlerResult:
        """Start the warm-up once the first tools/list is answered: after the handshake, so that it does not compete
        with it for the interpreter, and while the client's model reads the list and writes its first call."""
        result = await call_next(ctx)
        if self.warm_after_listing and self.warming is None and ctx.method in ("tools/list", "tools/call"):
            self.warming = threading.Thread(target=self.warm_up, name="warm-up", daemon=True)
            self.warming.start()
        return result

    def warm_up(self) -> None:
        """Build the tools and prepare what their first call needs; run in a thread once the server is up."""
        from incident_response.server.registration import warm

        try:
            warm(self.built().deps)
        except Exception:  # a warm-up failure must not kill the server: the first call will meet it and say so
            logger.exception("warming up the tools failed")
        # What the imports and the build made lives as long as the server: out of the collector's sight, so that a
        # call that makes millions of objects (a namespace of 10,000 pods) does not rescan it (~20% of such a call).
        gc.freeze()

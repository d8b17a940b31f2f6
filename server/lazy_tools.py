"""The server's tools, listed from the manifest at once and built on first use (or by the warm-up after the
handshake), so that neither the MCP handshake nor the first call pays for importing and deriving 37 tools.

Listing needs no tool module: descriptions and schemas come from server/tool_manifest.json, titles, annotations and
the listed set from server/catalog.py. Building a tool imports its family and derives its argument model
(server/registration.py), once, in a worker thread. One tool is built at a time, and a call's tool before the
warm-up's next one: a first call that arrives during the warm-up (~0.8 s of CPU in all, more wall time on a loaded
machine) waits for at most the one tool being built, then builds its own. A tool is published only once built whole.

While a call runs, the warm-up (server/warm_steps.py) stays out of its way: it starts no step, and a step under way
stops at its next import statement (server/step_aside.py) until the call ends, unless the call waits for something
the step holds (the build turn, a module it is importing) or the step has stood aside for ASIDE_LIMIT already.

Layer: server (MCP wiring).
"""

from __future__ import annotations

import functools
import gc
import logging
import threading
import time
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from mcp.server.context import CallNext, HandlerResult, ServerRequestContext
from mcp.types import Tool as MCPTool
from mcp.types import ToolAnnotations

from incident_response.server import catalog, manifest, step_aside
from incident_response.server.config import Settings
from incident_response.tools.core.modes import Mode

if TYPE_CHECKING:
    from mcp.server.mcpserver.tools import Tool

    from incident_response.server.registration import Builder, Built
    from incident_response.server.warm_steps import Step
    from incident_response.tools.engine.deps import Deps
    from incident_response.tools.kube.client import Kube

logger = logging.getLogger("incident_response.server")

# What a client's model most likely calls first (SKILL.md's order): the warm-up builds these before the others.
# list_pods before assess_namespace: the warm-up's dry run (server/warm_read.py) has just run list_pods' code and
# imported its module, so its build is ~6 ms of CPU, against ~0.1-0.2 s for assess_namespace's imports.
LIKELY_FIRST = ("list_pods", "assess_namespace", "declare_incident", "list_events", "get_logs", "server_info")

# How long one warm-up step may stand aside for calls in all, and how often it looks whether a call now waits for a
# module it is importing (the import system gives no event for that). The limit bounds what a call could lose to a
# wait the step cannot see (a lock of some library's); past it the step finishes alongside the calls, as before.
ASIDE_LIMIT = 0.5
ASIDE_POLL = 0.01


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
        # One thread builds at a time (`_building`); a tool is published in `_tools` only once whole. A call waiting
        # for a tool goes before the warm-up (`_calls_waiting`): it never waits for more than one tool of the warm-up.
        self._turn = threading.Condition()
        self._building = False
        self._calls_waiting = 0
        self._calls_running = 0  # tool calls in flight: the warm-up waits for none of them to share the interpreter
        self._aside_left = ASIDE_LIMIT  # how much longer the current warm-up step may stand aside for calls
        self._builder: Builder | None = None
        self._tools: dict[str, Tool] = {}
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

    def tool(self, name: str, *, warming: bool = False) -> Tool:
        """The listed tool `name`, built on its first use (a call waits at most for the one tool another thread is
        building; `warming`: the warm-up's build, which lets every waiting call go first)."""
        if name not in self.names:
            raise KeyError(f"{name} is not one of this server's tools")
        tool = self._tools.get(name)
        if tool is not None:
            return tool
        self._take_turn(warming)
        try:
            return self._build_in_turn(name)
        finally:
            self._end_turn()

    def _build_in_turn(self, name: str) -> Tool:
        tool = self._tools.get(name)  # built while this thread waited
        if tool is None:
            tool = self._builder_in_turn().build(name)
            self._tools[name] = tool
        return tool

    @property
    def deps(self) -> Deps:
        """What the tools share (cluster, journal, pending commands); made with the first tool."""
        if self._builder is None:
            self._take_turn(warming=False)
            try:
                self._builder_in_turn()
            finally:
                self._end_turn()
        assert self._builder is not None
        return self._builder.deps

    def built(self) -> Built:
        """Every listed tool, built (the team-mode readiness probe: a replica is ready once warm)."""
        from incident_response.server.registration import Built

        tools = {name: self.tool(name) for name in self.names}
        return Built(self.deps, tools)

    def _take_turn(self, warming: bool) -> None:
        with self._turn:
            if not warming:
                self._calls_waiting += 1
                self._turn.notify_all()  # a warm-up step standing aside while holding the turn goes on
            try:
                while self._building or (warming and (self._calls_waiting or self._calls_running)):
                    self._turn.wait()
            finally:
                if not warming:
                    self._calls_waiting -= 1
            self._building = True

    def _end_turn(self) -> None:
        with self._turn:
            self._building = False
            self._turn.notify_all()

    def _builder_in_turn(self) -> Builder:
        if self._builder is None:
            from incident_response.server.registration import Builder

            self._builder = Builder(self.settings, self._kube, self._clock)
        return self._builder

    async def middleware(self, ctx: ServerRequestContext[Any, Any], call_next: CallNext) -> HandlerResult:
        """Start the warm-up once the first tools/list is answered: after the handshake, so that it does not compete
        with it for the interpreter, and while the client's model reads the list and writes its first call."""
        if ctx.method == "tools/call":
            result = await self._running(ctx, call_next)
        else:
            result = await call_next(ctx)
        if self.warm_after_listing and self.warming is None and ctx.method in ("tools/list", "tools/call"):
            self.warming = threading.Thread(target=self.warm_up, name="warm-up", daemon=True)
            self.warming.start()
        return result

    async def _running(self, ctx: ServerRequestContext[Any, Any], call_next: CallNext) -> HandlerResult:
        """A tool call, counted while it runs (the warm-up waits for none to run; the lock is held only to count)."""
        with self._turn:
            self._calls_running += 1
        try:
            return await call_next(ctx)
        finally:
            with self._turn:
                self._calls_running -= 1
                self._turn.notify_all()

    def warm_up(self) -> None:
        """Prepare what a first call needs, then build the tools (the likely first ones first), one step at a time;
        run in a thread once the server is up (server/warm_steps.py)."""
        from incident_response.server.warm_steps import steps

        likely = [name for name in LIKELY_FIRST if name in self.names]
        rest = [name for name in self.names if name not in likely]
        for step in steps(self._builder_in_turn, self._build_in_turn, [*likely, *rest]):
            try:
                self._warm(step)
            except Exception:  # a warm-up failure must not kill the server: the first call will meet it and say so
                logger.exception("warming up (%s) failed", step.what)
        # What the imports and the build made lives as long as the server: out of the collector's sight, so that a
        # call that makes millions of objects (a namespace of 10,000 pods) does not rescan it (~20% of such a call).
        gc.freeze()

    def _warm(self, step: Step) -> None:
        """One step, started while no call runs or waits (in the build turn if it needs it); it stands aside for
        calls inside."""
        if step.turn:
            self._take_turn(warming=True)
        else:
            with self._turn:
                while self._calls_waiting or self._calls_running:
                    self._turn.wait()
        try:
            self._aside_left = ASIDE_LIMIT
            if step.aside:
                with step_aside.at_imports(self._step_aside):
                    step.run()
            else:
                step.run()
        finally:
            if step.turn:
                self._end_turn()

    def _step_aside(self) -> None:
        """At an import statement of the warm-up: wait while a call runs, unless it waits for what this step holds.
        Imports nothing (it runs inside an import statement)."""
        if not self._calls_running:  # read without the lock: the common case costs nothing
            return
        me = threading.get_ident()
        with self._turn:
            while self._calls_running and not self._calls_waiting and self._aside_left > 0:
                if step_aside.holds_a_module_lock_wanted(me) is not False:
                    return
                began = time.monotonic()
                self._turn.wait(min(ASIDE_POLL, self._aside_left))
                self._aside_left -= time.monotonic() - began

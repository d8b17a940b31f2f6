"""Probe endpoints of `serve --http`: `/healthz` (the process answers) and `/readyz` (the store and the Kubernetes API
answer). Both are unauthenticated, as kubelet probes are, so they say nothing but which part is not ready: the
reasons go to the log.

A readiness answer is reused for a couple of seconds, so that anyone who can reach the port cannot turn probes into
load on the API server.

Layer: server (MCP wiring).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import anyio
import anyio.to_thread
from mcp.server import MCPServer
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response

logger = logging.getLogger("incident_response.server")

CHECK_TIMEOUT_SECONDS = 5.0
REUSE_SECONDS = 2.0


@dataclass(frozen=True)
class Check:
    """One part readiness depends on: `probe` returns normally when it answers, raises (anything) when not."""

    name: str
    probe: Callable[[], None]


class Readiness:
    def __init__(
        self,
        checks: Sequence[Check],
        *,
        clock: Callable[[], float] = time.monotonic,
        timeout: float = CHECK_TIMEOUT_SECONDS,
        reuse: float = REUSE_SECONDS,
    ) -> None:
        self.checks = tuple(checks)
        self._clock = clock
        self._timeout = timeout
        self._reuse = reuse
        self._last: tuple[float, tuple[str, ...]] | None = None
        self._lock: anyio.Lock | None = None

    async def failing(self) -> tuple[str, ...]:
        """The names of the parts that did not answer (empty: ready)."""
        if self._lock is None:
            self._lock = anyio.Lock()
        async with self._lock:  # one probe round at a time; the others reuse its answer
            if self._last is not None and self._clock() < self._last[0] + self._reuse:
                return self._last[1]
            failing = tuple([check.name for check in self.checks if not await self._answers(check)])
            self._last = (self._clock(), failing)
            return failing

    async def _answers(self, check: Check) -> bool:
        try:
            with anyio.fail_after(self._timeout):
                # abandon_on_cancel: a hung API call must not hold the probe past its timeout.
                await anyio.to_thread.run_sync(check.probe, abandon_on_cancel=True)
        except TimeoutError:
            logger.warning("not ready: %s did not answer within %.0fs", check.name, self._timeout)
            return False
        except Exception as e:  # any failure of a probe means not ready; the reason is logged, never served
            logger.warning("not ready: %s: %s", check.name, e)
            return False
        return True


def install(server: MCPServer[Any], readiness: Readiness) -> None:
    """Add /healthz and /readyz to the HTTP app (custom routes: outside the bearer requirement)."""

    async def healthz(request: Request) -> Response:
        return PlainTextResponse("ok\n")

    async def readyz(request: Request) -> Response:
        failing = await readiness.failing()
        if failing:
            return PlainTextResponse(f"not ready: {', '.join(failing)}\n", status_code=503)
        return PlainTextResponse("ok\n")

    # Called, not used as decorators: the SDK's decorator is untyped.
    server.custom_route("/healthz", methods=["GET"], include_in_schema=False)(healthz)
    server.custom_route("/readyz", methods=["GET"], include_in_schema=False)(readyz)

"""A bound on tool calls per HTTP principal (`serve --http --rate-limit N`): a token bucket of N calls refilled over a
minute, checked before anything of the call runs or is journaled.

Every tool call is a journal entry (in team mode an object in etcd), so a client looping on calls grows the store
without bound; an assistant's human-paced work, even with parallel calls, stays far below the default. A refusal is
a tool error (the model reads it and can tell its human), not an HTTP 429 the transport would swallow. Per replica:
N replicas behind a load balancer allow up to N times the rate. stdio has one local client and no limit.

Layer: server (MCP wiring).
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

from mcp.server.mcpserver import Context
from mcp.server.mcpserver.exceptions import ToolError

from incident_response.server import http_auth
from incident_response.server.wire import Authorize

# Principals remembered; the least recently seen is forgotten first (it starts again with a full bucket).
MAX_PRINCIPALS = 4096


class CallRate:
    """Calls allowed per principal: at most `per_minute` in any minute, all of them at once after a quiet minute."""

    def __init__(self, per_minute: int, clock: Callable[[], float] = time.monotonic) -> None:
        self.per_minute = per_minute
        self.clock = clock
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()
        self._lock = threading.Lock()

    def take(self, principal: str) -> float | None:
        """None when `principal` may call now (the call is counted); else the seconds until it may."""
        now = self.clock()
        refill = self.per_minute / 60.0
        with self._lock:
            tokens, then = self._buckets.pop(principal, (float(self.per_minute), now))
            tokens = min(float(self.per_minute), tokens + (now - then) * refill)
            allowed = tokens >= 1.0
            self._buckets[principal] = (tokens - 1.0 if allowed else tokens, now)
            while len(self._buckets) > MAX_PRINCIPALS:
                self._buckets.popitem(last=False)
        return None if allowed else (1.0 - tokens) / refill


def rate_limited(authorize: Authorize | None, rate: CallRate) -> Authorize:
    """`authorize` (or none) behind the rate: the bucket is asked first, so a refused call costs no review either."""

    async def check(tool: str, ctx: Context[Any, Any] | None) -> tuple[str, ...] | None:
        principal = None if ctx is None else http_auth.caller_of(ctx).principal
        if principal is not None and (wait := rate.take(principal)) is not None:
            raise ToolError(
                f"rate limit: HTTP principal {principal!r} may make {rate.per_minute} tool calls a minute on this "
                f"server and made them; nothing was run or recorded: wait {max(wait, 1):.0f} s before the next "
                "call (if a loop is calling, stop it; the server's operator sets --rate-limit)"
            )
        return None if authorize is None else await authorize(tool, ctx)

    return check

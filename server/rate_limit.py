"""A bound on tool calls per HTTP principal (`serve --http --rate-limit N`), checked before anything of the call runs
or is journaled, that a loop of reads cannot turn against a human's decision.

Every tool call is a journal entry (in team mode an object in etcd), so a client looping on calls grows the store
without bound; an assistant's human-paced work, even with parallel calls, stays far below the default. A refusal is
a tool error (the model reads it and can tell its human), not an HTTP 429 the transport would swallow.

Three token buckets, each of calls a minute, all at once after a quiet minute:
- calls: every tool but the two decisions, N per principal;
- decisions (confirm_command, cancel_command): N per principal, apart, so reads and plans looping on one shared
  credential never hold back a confirm or a cancel (a shared static token is one principal; the modern protocol has
  no session to tell its clients apart, and a key the client chose would let it mint budgets);
- one token: at most a tenth of the decisions a minute on the same token (per tool; at least PER_TOKEN, 12 at the
  default), so a client polling confirm_command on its own plan spends a tenth of the decisions and another plan's
  confirm still goes through; a client that retries one confirm a few times at once (tests/e2e/test_team_mode.py
  sends 10 at each replica) stays within it. A flood of made-up
  tokens still stops at N. The dialog code is one guess per plan (a wrong code denies it), so guessing is bounded
  by the plans a principal can make: the calls bucket.
Per replica: R replicas behind a load balancer allow up to R times the rate. stdio has one local client and no limit.

Layer: server (MCP wiring).
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Mapping
from typing import Any

from mcp.server.mcpserver import Context
from mcp.server.mcpserver.exceptions import ToolError

from incident_response.server import http_auth
from incident_response.server.wire import Limit

# Buckets remembered (principals, and tokens decided on); the least recently used is forgotten first (it starts
# again full, which only an idle key can be).
MAX_BUCKETS = 16384
DECISIONS = frozenset({"confirm_command", "cancel_command"})
PER_TOKEN = 6  # decisions a minute on one token, at least: a confirm and its dialog's second round, polls, a cancel
TOKEN_KEY_MAX = 256  # longer is not a token the server made (tools/k8s/args.TOKEN_MAX); the argument check refuses it


class Buckets:
    """Token buckets by key, each holding up to its capacity and refilled to it over a minute."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self.clock = clock
        self._buckets: OrderedDict[tuple[str, ...], tuple[float, float]] = OrderedDict()
        self._lock = threading.Lock()

    def take(self, *charges: tuple[tuple[str, ...], int]) -> tuple[int, float] | None:
        """One call from every (key, capacity) bucket, or from none: None when each had one (all are charged);
        else (index of the first bucket that had none, seconds until it has one)."""
        now = self.clock()
        with self._lock:
            levels = [self._level(key, capacity, now) for key, capacity in charges]
            short = next((i for i, level in enumerate(levels) if level < 1.0), None)
            for (key, _), level in zip(charges, levels, strict=True):
                self._buckets.pop(key, None)
                self._buckets[key] = (level - 1.0 if short is None else level, now)
            while len(self._buckets) > MAX_BUCKETS:
                self._buckets.popitem(last=False)
        if short is None:
            return None
        capacity = charges[short][1]
        return short, (1.0 - levels[short]) * 60.0 / capacity

    def _level(self, key: tuple[str, ...], capacity: int, now: float) -> float:
        level, then = self._buckets.get(key, (float(capacity), now))
        return min(float(capacity), level + (now - then) * capacity / 60.0)


class CallRate:
    """`per_minute` calls and, apart, `per_minute` decisions per principal; a tenth of those (at least PER_TOKEN, at
    most all) a minute on one token."""

    def __init__(self, per_minute: int, clock: Callable[[], float] = time.monotonic) -> None:
        self.per_minute = per_minute
        self.per_token = min(per_minute, max(PER_TOKEN, per_minute // 10))
        self.buckets = Buckets(clock)

    def check(self, principal: str, tool: str, arguments: Mapping[str, Any]) -> None:
        """Count the call, or raise the ToolError that says which budget is spent and how long to wait."""
        if tool not in DECISIONS:
            refused = self.buckets.take((("calls", principal), self.per_minute))
            if refused is not None:
                raise ToolError(
                    f"rate limit: HTTP principal {principal!r} may make {self.per_minute} tool calls a minute on this "
                    f"server and made them; nothing was run or recorded: wait {wait(refused[1])} s before the next "
                    "call (if a loop is calling, stop it; the server's operator sets --rate-limit). confirm_command "
                    "and cancel_command have their own budget: a pending command can still be confirmed or cancelled."
                )
            return
        token = arguments.get("token")
        token = token[:TOKEN_KEY_MAX] if isinstance(token, str) else ""
        refused = self.buckets.take(
            (("token", principal, tool, token), self.per_token), (("decisions", principal), self.per_minute)
        )
        if refused is None:
            return
        if refused[0] == 0:
            raise ToolError(
                f"rate limit: {tool} was called {self.per_token} times in a minute for this token by HTTP principal "
                f"{principal!r}; nothing was run or recorded: wait {wait(refused[1])} s before calling it again for "
                "this token (if you are polling for the human's approval, stop and ask them; other tokens are not "
                "held back)"
            )
        raise ToolError(
            f"rate limit: HTTP principal {principal!r} may make {self.per_minute} confirm_command/cancel_command "
            f"calls a minute on this server and made them; nothing was run or recorded: wait {wait(refused[1])} s "
            "(if a loop is calling, stop it; the server's operator sets --rate-limit)"
        )


def wait(seconds: float) -> str:
    return f"{max(seconds, 1):.0f}"


def limiter(rate: CallRate) -> Limit:
    """What IncidentServer asks before the toolset review and the call (a refused call costs neither); a call that
    came over no network (stdio, a direct call) is not limited."""

    def check(tool: str, arguments: Mapping[str, Any], ctx: Context[Any, Any] | None) -> None:
        principal = None if ctx is None else http_auth.caller_of(ctx).principal
        if principal is not None:
            rate.check(principal, tool, arguments)

    return check

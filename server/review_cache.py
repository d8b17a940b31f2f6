"""A small bounded cache whose entries expire: answers of the Kubernetes API about tokens and permissions.

Reviews are cached briefly so that a burst of tool calls costs one TokenReview and one SubjectAccessReview, and a
revoked token or binding stops working within seconds. Bounded, so that many distinct tokens (an attacker's) cannot
grow it without limit: the least recently used entry goes first.

Layer: server (MCP wiring).
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Hashable
from typing import Generic, TypeVar

import anyio

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class ExpiringCache(Generic[K, V]):
    """At most `size` entries, each valid for the seconds given when it was put. Thread-safe."""

    def __init__(self, size: int, clock: Callable[[], float] = time.monotonic) -> None:
        if size < 1:
            raise ValueError("an ExpiringCache holds at least one entry")
        self._size = size
        self._clock = clock
        self._entries: OrderedDict[K, tuple[float, V]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: K) -> V | None:
        now = self._clock()
        with self._lock:
            entry = self._entries.get(key)
            if entry is None:
                return None
            expires, value = entry
            if now >= expires:
                del self._entries[key]
                return None
            self._entries.move_to_end(key)
            return value

    def put(self, key: K, value: V, seconds: float) -> None:
        expires = self._clock() + seconds
        with self._lock:
            self._entries[key] = (expires, value)
            self._entries.move_to_end(key)
            while len(self._entries) > self._size:
                self._entries.popitem(last=False)

    def __len__(self) -> int:
        with self._lock:
            return len(self._entries)


class OneReviewAtATime(Generic[K, V]):
    """The cache plus single flight: concurrent requests for one key (twenty confirms with a fresh token) wait for the
    one review in flight instead of each making their own. If that review fails, the next waiter makes its own."""

    def __init__(self, cache: ExpiringCache[K, V]) -> None:
        self.cache = cache
        self._in_flight: dict[K, anyio.Event] = {}

    async def get(self, key: K, review: Callable[[], Awaitable[V]], seconds: Callable[[V], float]) -> V:
        while True:
            found = self.cache.get(key)
            if found is not None:
                return found
            pending = self._in_flight.get(key)
            if pending is None:
                break
            await pending.wait()
        done = self._in_flight[key] = anyio.Event()
        try:
            value = await review()
            self.cache.put(key, value, seconds(value))
            return value
        finally:
            del self._in_flight[key]
            done.set()

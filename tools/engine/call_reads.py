"""The team-mode journal read once per tool call: what one call reads from the Kubernetes store, by request, kept for
the rest of that call only.

One assessment asks the journal the same questions from several places (the current incident, its commands, its
events, the approvals): each was a list request to the API, so team mode cost ~23 journal requests per assessment
where the SQLite journal answers in a query each. The server opens a memo per tool call (`one_call`); the store
(tools/engine/kube_store.py) asks it before a GET of its own objects.

Never across calls: other engineers' processes write the same journal, and a call starts from what the API holds.
Within a call the memo is a snapshot, plus this process's own writes: every write through the store forgets it, so a
read after a write goes to the API. Reads that decide a write (the pointer and incidents an insert checks, the
command a transition moves, an approval) are `fresh()`: they bypass the memo, as exactly-once and the incident
races need the API's current answer (the write's resourceVersion then guards the rest). Threads a tool starts
itself (a ThreadPoolExecutor) do not carry the call's context: their reads go to the API.

Layer: tools.engine.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any, ParamSpec, TypeVar

P = ParamSpec("P")
T = TypeVar("T")
Key = tuple[object, ...]  # what the store asks: (store, resource, name) or (store, resource, "?", selector)


class Memo:
    """One call's answers by request. Thread-safe: a call's worker threads share it."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._answers: dict[Key, Any] = {}
        self.hits = 0

    def get(self, key: Key, read: Callable[[], T]) -> T:
        with self._lock:
            if key in self._answers:
                self.hits += 1
                found: T = self._answers[key]
                return found
        answer = read()  # outside the lock: another thread's read of another object does not wait for this one
        with self._lock:
            self._answers[key] = answer
        return answer

    def known(self, key: Key) -> Any | None:
        with self._lock:
            return self._answers.get(key)

    def forget(self, prefix: Key = ()) -> None:
        with self._lock:
            for key in [k for k in self._answers if k[: len(prefix)] == prefix]:
                del self._answers[key]


_MEMO: ContextVar[Memo | None] = ContextVar("journal_call_reads", default=None)
_FRESH: ContextVar[bool] = ContextVar("journal_fresh_reads", default=False)


@contextmanager
def one_call() -> Iterator[Memo]:
    """The memo of one tool call (and its journal record); gone when the call ends."""
    token = _MEMO.set(Memo())
    try:
        yield _current()
    finally:
        _MEMO.reset(token)


def _current() -> Memo:
    memo = _MEMO.get()
    assert memo is not None
    return memo


def remembered(key: Key, read: Callable[[], T]) -> T:
    """`read()`'s answer, from this call's memo when it asked already; straight from `read` outside a call or
    inside `fresh()`. The answer is shared: callers must not change it."""
    memo = _MEMO.get()
    if memo is None or _FRESH.get():
        return read()
    return memo.get(key, read)


def known(key: Key) -> Any | None:
    """What this call read for `key` already, without a request; None when it did not (or reads are bypassed)."""
    memo = _MEMO.get()
    return None if memo is None or _FRESH.get() else memo.known(key)


def forget(prefix: Key = ()) -> None:
    """After a write: the call's later reads (of the keys starting with `prefix`: what the write can have changed) go
    to the API, as the memo knew the journal before this write."""
    memo = _MEMO.get()
    if memo is not None:
        memo.forget(prefix)


@contextmanager
def bypassed() -> Iterator[None]:
    """Reads inside go to the API (and are not kept): a command's state that a confirm or an approval acts on."""
    token = _FRESH.set(True)
    try:
        yield
    finally:
        _FRESH.reset(token)


def fresh(method: Callable[P, T]) -> Callable[P, T]:
    """Decorator of a store method that reads to decide a write: its reads bypass the memo, which it forgets when done
    (the journal may have changed, by this write or by whoever it lost to)."""

    @functools.wraps(method)
    def deciding(*args: P.args, **kwargs: P.kwargs) -> T:
        try:
            with bypassed():
                return method(*args, **kwargs)
        finally:
            forget()

    return deciding

"""Places inside a long warm-up step where the warm-up thread may stop while a tool call runs: its import statements.

A tool's build is mostly imports (assess_namespace's ~0.2 s of CPU) and Python threads share one interpreter lock, so a
call that comes while the warm-up is in such a step runs at half speed or worse (issue 13: a first call 2x a warm
one on a busy machine). Every `import` statement the registered thread runs first calls its `pause`; the statement
itself then runs as before. Other threads' imports only pay a dictionary lookup, and the hook is in place only while
some thread is registered.

Stopping there is safe only if no other thread waits for what the stopped thread holds: `pause` decides, and
`holds_a_module_lock_wanted` says whether another thread waits for a module the stopped thread is importing (the
import system gives no event for that, only its own bookkeeping, read here; None when this Python's is unknown).

Layer: server (MCP wiring).
"""

from __future__ import annotations

import builtins
import importlib._bootstrap  # the import system's own bookkeeping of who waits for which module
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from types import ModuleType
from typing import Any

_pausers: dict[int, Callable[[], None]] = {}
_original: Callable[..., ModuleType] = builtins.__import__  # the __import__ ours calls (set each time ours goes in)
_lock = threading.Lock()


def _importing(
    name: str,
    globals: Mapping[str, object] | None = None,  # noqa: A002  (builtins.__import__'s own parameter names)
    locals: Mapping[str, object] | None = None,  # noqa: A002
    fromlist: Sequence[str] | None = (),
    level: int = 0,
) -> ModuleType:
    pause = _pausers.get(threading.get_ident())
    if pause is not None:
        pause()
    return _original(name, globals, locals, fromlist, level)


@contextmanager
def at_imports(pause: Callable[[], None]) -> Iterator[None]:
    """While inside, each import statement this thread runs calls `pause` first."""
    global _original
    me = threading.get_ident()
    with _lock:
        if me in _pausers:
            raise RuntimeError("this thread already steps aside at its imports")
        if builtins.__import__ is not _importing:
            _original = builtins.__import__
            builtins.__import__ = _importing
        _pausers[me] = pause
    try:
        yield
    finally:
        with _lock:
            del _pausers[me]
            # Put the original back once nobody steps aside (unless something replaced ours since: then ours stays,
            # a lookup that finds nobody, rather than cutting that one out).
            if not _pausers and builtins.__import__ is _importing:
                builtins.__import__ = _original


def installed() -> bool:
    return builtins.__import__ is _importing


def holds_a_module_lock_wanted(thread: int) -> bool | None:
    """Whether another thread waits for a module lock `thread` holds (a module it is importing); None: cannot tell."""
    table: Any = getattr(importlib._bootstrap, "_blocking_on", None)
    try:
        if isinstance(table, dict):  # Python 3.11: thread id -> the module lock it waits for
            waited = list(table.values())
        else:  # 3.12+: a weak-value dict of thread id -> the list of module locks it waits for
            refs = list(table.data.values())
            waited = [lock for ref in refs for lock in (ref() or ())]
        return any(lock.owner == thread for lock in waited)
    except (AttributeError, TypeError):
        return None

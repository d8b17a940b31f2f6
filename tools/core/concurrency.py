"""Work handed to a thread pool keeps the caller's context variables (the calling principal, what it was granted):
a read made beside another is made as the same caller.

Layer: tools.core.
"""

from __future__ import annotations

import contextvars
from collections.abc import Callable
from concurrent.futures import Executor, Future
from typing import ParamSpec, TypeVar

P = ParamSpec("P")
R = TypeVar("R")


def submit(pool: Executor, fn: Callable[P, R], /, *args: P.args, **kwargs: P.kwargs) -> Future[R]:
    """`pool.submit(fn, ...)` run inside a copy of the current context (one copy per task: a context cannot be
    entered by two threads at once)."""
    context = contextvars.copy_context()

    def run() -> R:
        return context.run(fn, *args, **kwargs)

    return pool.submit(run)

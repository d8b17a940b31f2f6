"""The cyclic garbage collector held off while a large read builds its objects.

Decoding a page of 250 pods makes ~30,000 containers. Each 700 allocations start a young collection, the survivors
(the page being built: all of it is reachable) are promoted, and every few pages the promoted mass starts a full
collection over everything alive, the pods already kept included: measured, 0.5 s of CPU in a 10,000-pod read
against 0.2 s for the decoding itself. Decoded JSON and the slim pods made from it hold no reference cycles, so those
collections find nothing; held off until the read's objects are freed (by reference counting, with the call), they
are never examined at all.

Global state: the collector is off for the whole process while any read holds it (seconds). Nested and concurrent
holders are counted; the last one out turns it back on, and only if it was on when the first came in. Reads that
overlap without pause (a busy shared server) would keep it off for good: once it has been held MAX_HELD_SECONDS, a
holder leaving collects in full, so cycles made meanwhile by other work wait that long at most.

Layer: tools.core.
"""

from __future__ import annotations

import gc
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

MAX_HELD_SECONDS = 10.0

_lock = threading.Lock()
_holders = 0
_was_enabled = False
_held_since = 0.0


@contextmanager
def collection_held() -> Iterator[None]:
    """The collector off inside the block (for this and every other thread), as it was after the last holder."""
    global _holders, _was_enabled, _held_since
    with _lock:
        if _holders == 0:
            _was_enabled = gc.isenabled()
            _held_since = time.monotonic()
            gc.disable()
        _holders += 1
    try:
        yield
    finally:
        with _lock:
            _holders -= 1
            overdue = _holders > 0 and _was_enabled and time.monotonic() - _held_since > MAX_HELD_SECONDS
            if overdue:
                _held_since = time.monotonic()
            if _holders == 0 and _was_enabled:
                gc.enable()
        if overdue:
            gc.collect()  # outside the lock: other holders may come and go meanwhile

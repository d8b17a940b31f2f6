"""The cyclic garbage collector held off while a large read builds its objects.

Decoding a page of 250 pods makes ~30,000 containers. Each 700 allocations start a young collection, the survivors
(the page being built: all of it is reachable) are promoted, and every few pages the promoted mass starts a full
collection over everything alive, the pods already kept included: measured, 0.5 s of CPU in a 10,000-pod read
against 0.2 s for the decoding itself. Decoded JSON and the slim pods made from it hold no reference cycles, so those
collections find nothing; held off during the read, the objects still alive at its end are examined once.

Global state: the collector is off for the whole process while any read holds it (seconds). Nested and concurrent
holders are counted; the last one out turns it back on, and only if it was on when the first came in.

Layer: tools.core.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager

_lock = threading.Lock()
_holders = 0
_was_enabled = False


@contextmanager
def collection_held() -> Iterator[None]:
    """The collector off inside the block (for this and every other thread), as it was after the last holder."""
    global _holders, _was_enabled
    with _lock:
        if _holders == 0:
            _was_enabled = gc.isenabled()
            gc.disable()
        _holders += 1
    try:
        yield
    finally:
        with _lock:
            _holders -= 1
            if _holders == 0 and _was_enabled:
                gc.enable()

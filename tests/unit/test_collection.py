"""The cyclic collector held off while reads build their objects (tools.core.collection): counted holders, the
state found restored, and a full collection now and then when reads overlap without pause."""

from __future__ import annotations

import gc

import pytest

from incident_response.tools.core import collection
from incident_response.tools.core.collection import collection_held


def test_the_collector_is_held_while_any_read_holds_it_and_restored_as_it_was() -> None:
    assert gc.isenabled()
    with collection_held():
        with collection_held():
            assert not gc.isenabled()
        assert not gc.isenabled()  # the outer read still holds it
    assert gc.isenabled()
    gc.disable()  # a process that turned it off keeps it off
    try:
        with collection_held():
            pass
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_reads_that_overlap_without_pause_still_let_a_full_collection_run_every_so_often(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    clock = [1000.0]
    collected: list[int] = []
    monkeypatch.setattr(collection.time, "monotonic", lambda: clock[0])
    monkeypatch.setattr(collection.gc, "collect", lambda generation=2: collected.append(generation) or 0)
    first, second = collection_held(), collection_held()
    first.__enter__()
    second.__enter__()
    clock[0] += collection.MAX_HELD_SECONDS / 2
    first.__exit__(None, None, None)
    assert collected == [] and not gc.isenabled()  # a read still holds it, not for long yet
    third = collection_held()
    third.__enter__()
    clock[0] += collection.MAX_HELD_SECONDS
    second.__exit__(None, None, None)
    assert collected == [2] and not gc.isenabled()  # held too long: collected in full, still held for the third
    third.__exit__(None, None, None)
    assert gc.isenabled() and collected == [2]

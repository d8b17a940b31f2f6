"""The per-call memo of team-mode journal reads (tools/engine/call_reads.py): kept for one call only, forgotten by a
write, bypassed by the reads that decide a write, shared by a call's worker threads."""

from __future__ import annotations

import contextvars
import itertools
import threading
from collections.abc import Callable

from incident_response.tools.engine import call_reads


def counter() -> tuple[Callable[[], int], list[int]]:
    """A read that answers a new number each time it is made, and the answers made."""
    made: list[int] = []
    numbers = itertools.count()

    def read() -> int:
        made.append(next(numbers))
        return made[-1]

    return read, made


def test_outside_a_call_every_read_goes_to_the_source() -> None:
    read, made = counter()
    assert [call_reads.remembered(("s", "incidents"), read) for _ in range(3)] == [0, 1, 2]
    assert made == [0, 1, 2]


def test_within_a_call_a_read_is_made_once_and_never_carried_into_the_next_call() -> None:
    read, made = counter()
    with call_reads.one_call() as memo:
        assert [call_reads.remembered(("s", "incidents"), read) for _ in range(3)] == [0, 0, 0]
        assert memo.hits == 2
    with call_reads.one_call():
        assert call_reads.remembered(("s", "incidents"), read) == 1  # the next call asks again
    assert made == [0, 1]


def test_a_write_forgets_what_it_can_have_changed() -> None:
    incidents, _ = counter()
    entries, _ = counter()
    with call_reads.one_call():
        call_reads.remembered(("s", "incidents"), incidents)
        call_reads.remembered(("s", "entries", "?", "type=event"), entries)
        call_reads.forget(("s", "entries"))  # an event written: the incidents are as read
        assert call_reads.remembered(("s", "incidents"), incidents) == 0
        assert call_reads.remembered(("s", "entries", "?", "type=event"), entries) == 1
        call_reads.forget()  # any other write: everything is read again
        assert call_reads.remembered(("s", "incidents"), incidents) == 1


def test_a_failed_read_is_not_kept() -> None:
    attempts: list[int] = []

    def flaky() -> str:
        attempts.append(1)
        if len(attempts) == 1:
            raise OSError("connection reset")
        return "answer"

    with call_reads.one_call():
        try:
            call_reads.remembered(("s", "incidents"), flaky)
        except OSError:
            pass
        assert call_reads.remembered(("s", "incidents"), flaky) == "answer"
    assert len(attempts) == 2


class Store:
    """A store method that reads to decide a write, as KubeStore.transition does."""

    def __init__(self, read: Callable[[], int]) -> None:
        self.read = read
        self.seen: list[int] = []

    @call_reads.fresh
    def transition(self) -> bool:
        self.seen.append(call_reads.remembered(("s", "command"), self.read))
        return True


def test_the_reads_that_decide_a_write_go_to_the_source_and_the_memo_is_forgotten_after() -> None:
    read, made = counter()
    store = Store(read)
    with call_reads.one_call():
        assert call_reads.remembered(("s", "command"), read) == 0  # an earlier read of the call
        assert store.transition() and store.seen == [1]  # not the memo's 0: the command now
        assert call_reads.remembered(("s", "command"), read) == 2  # the write may have changed it
        with call_reads.bypassed():
            assert call_reads.remembered(("s", "command"), read) == 3
        assert call_reads.remembered(("s", "command"), read) == 2  # a bypassed read is not kept
    assert made == [0, 1, 2, 3]


def test_a_calls_worker_threads_share_its_memo() -> None:
    """The server runs a sync tool in a worker thread with a copy of the call's context (anyio.to_thread)."""
    read, made = counter()
    answers: list[int] = []
    with call_reads.one_call():
        call_reads.remembered(("s", "incidents"), read)
        workers = [
            threading.Thread(
                target=contextvars.copy_context().run,
                args=(lambda: answers.append(call_reads.remembered(("s", "incidents"), read)),),
            )
            for _ in range(4)
        ]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join()
    assert answers == [0, 0, 0, 0] and made == [0]

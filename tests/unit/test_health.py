"""/readyz's judgement: which parts answer, bounded in time, and reused briefly so probes cannot become load."""

from __future__ import annotations

import threading

import pytest

from incident_response.server.health import Check, Readiness

pytestmark = pytest.mark.anyio


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def counting(calls: list[str], name: str, fail: bool = False) -> Check:
    def probe() -> None:
        calls.append(name)
        if fail:
            raise RuntimeError(f"{name} is down")

    return Check(name, probe)


async def test_ready_names_the_parts_that_do_not_answer() -> None:
    calls: list[str] = []
    readiness = Readiness([counting(calls, "kubernetes API"), counting(calls, "store", fail=True)], clock=Clock())
    assert await readiness.failing() == ("store",)
    assert calls == ["kubernetes API", "store"]


async def test_an_answer_is_reused_for_a_moment_then_asked_again() -> None:
    calls: list[str] = []
    clock = Clock()
    readiness = Readiness([counting(calls, "store")], clock=clock, reuse=2.0)
    for _ in range(10):
        assert await readiness.failing() == ()
    assert calls == ["store"]
    clock.now = 2.5
    await readiness.failing()
    assert calls == ["store", "store"]


async def test_a_part_that_hangs_is_not_ready_within_the_timeout() -> None:
    release = threading.Event()

    def hangs() -> None:
        release.wait(30)

    readiness = Readiness([Check("kubernetes API", hangs)], clock=Clock(), timeout=0.05)
    try:
        assert await readiness.failing() == ("kubernetes API",)
    finally:
        release.set()  # let the abandoned worker thread finish

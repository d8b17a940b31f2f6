"""The simulated cluster's controller loop: a small cluster ticks every TICK_SECONDS; after a long tick (a cluster of
10,000 pods) it pauses twice the tick's length (at most MAX_PAUSE), so a big cluster's controllers take a third of a
core, not all of one, while its test waits on a server or kubectl."""

from __future__ import annotations

from types import SimpleNamespace

from incident_response.sim.serve import MAX_PAUSE, TICK_SECONDS, _Ticker


class Stop:
    """The ticker's stop event: records each pause it is asked to wait, and stops after the last tick given."""

    def __init__(self, ticks: int) -> None:
        self.pauses: list[float] = []
        self.ticks = ticks

    def wait(self, timeout: float) -> bool:
        self.pauses.append(timeout)
        return len(self.pauses) > self.ticks


def test_the_pause_after_a_tick_is_twice_its_length_within_bounds() -> None:
    lengths = iter([0.001, 0.2, 0.01, 3.0, 0.03])
    cluster = SimpleNamespace(last_tick_seconds=0.0)

    def tick() -> None:
        cluster.last_tick_seconds = next(lengths)

    cluster.tick = tick
    stop = Stop(ticks=5)
    sim = SimpleNamespace(cluster=cluster, _stop=stop, _ticks=0)
    _Ticker(sim).run()  # type: ignore[arg-type]
    assert sim._ticks == 5
    assert stop.pauses == [TICK_SECONDS, TICK_SECONDS, 0.4, TICK_SECONDS, MAX_PAUSE, 0.06]

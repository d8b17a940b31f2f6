"""oom_runs.reading: what restart timing alone can say of OOM kills after hours of running, and no more."""

from __future__ import annotations

import pytest

from incident_response.tools.k8s.oom_runs import EITHER, LEAK, PEAK, OomRun, reading, said, shape

H, M = 3600, 60


def runs(*pairs: tuple[int | None, int | None]) -> list[OomRun]:
    """(seconds since the kill, seconds the killed run lasted) per pod."""
    return [OomRun(f"p{i}", ran, ago) for i, (ago, ran) in enumerate(pairs)]


@pytest.mark.parametrize(
    ("killed", "expected"),
    [
        (runs((3 * H, 6 * H), (4 * H, 6 * H), (5 * H, 6 * H)), LEAK),  # hours apart, one run length: uptime
        (runs((3 * H, 6 * H), (4 * H, 6 * H + 5 * M)), LEAK),
        (runs((2 * H, 3 * H), (2 * H + 2 * M, 5 * H), (2 * H + 5 * M, 9 * H)), PEAK),  # together, lengths apart
        (runs((H, 6 * H), (H, 6 * H), (H, 6 * H)), EITHER),  # started and killed together: both fit
        (runs((H, 6 * H)), EITHER),  # one kill
        (runs((H, 2 * H), (2 * H, 5 * H)), EITHER),  # an hour apart after runs 3 hours apart: neither pattern
        (runs((None, 6 * H), (None, 6 * H)), EITHER),  # when they were killed is not recorded
        (runs((60, 1), (90, 0)), None),  # a burst
        (runs((H, 6 * H), (H, None)), None),  # one run not timed: not every run is long
    ],
)
def test_restart_timing_names_a_leak_or_a_peak_only_when_it_shows_one(
    killed: list[OomRun], expected: str | None
) -> None:
    assert reading(killed) == expected


def test_either_says_how_to_tell_and_promises_no_next_kill() -> None:
    text = shape("recommender", runs((H, 6 * H), (H, 6 * H)))
    assert text.startswith(", each after 6h or more of running: a leak or a load peak (their timing cannot tell")
    assert "next kill" not in text and "file the leak" not in text


def test_a_summary_is_read_back_as_the_reading_it_states() -> None:
    assert said("..., each after 6h or more running: a leak or a load peak.") == EITHER
    assert said("..., each after 6h or more running, 120m apart: a slow leak.") == LEAK
    assert said("... within 5m of each other after runs of 3h to 9h: a load peak.") == PEAK
    assert said("..., under 1s after starting.") is None

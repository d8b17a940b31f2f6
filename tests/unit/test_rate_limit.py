"""server/rate_limit.CallRate: N calls at once after a quiet minute, then one more every 60/N seconds, per principal;
and --rate-limit's parsing."""

from __future__ import annotations

import pytest

from incident_response.server import config
from incident_response.server.rate_limit import MAX_PRINCIPALS, CallRate


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_a_burst_then_the_refill_and_principals_apart() -> None:
    clock = Clock()
    rate = CallRate(6, clock)  # one call every 10 s once the burst of 6 is spent
    assert [rate.take("alice") for _ in range(6)] == [None] * 6
    wait = rate.take("alice")
    assert wait == pytest.approx(10.0)
    assert rate.take("bob") is None  # another principal has its own bucket
    clock.now += 9.9
    assert rate.take("alice") == pytest.approx(0.1)
    clock.now += 0.1
    assert rate.take("alice") is None and rate.take("alice") is not None
    clock.now += 3600  # a quiet hour gives back a full burst, never more
    assert [rate.take("alice") for _ in range(7)].count(None) == 6


def test_the_bucket_table_is_bounded_and_forgets_the_least_recent() -> None:
    rate = CallRate(1, Clock())
    for n in range(MAX_PRINCIPALS + 10):
        assert rate.take(f"p{n}") is None
    assert rate.take(f"p{MAX_PRINCIPALS + 9}") is not None  # still remembered: spent
    assert rate.take("p0") is None  # forgotten: a full bucket again


@pytest.mark.parametrize("value", ["-1", "1.5", "ten", "99999999"])
def test_a_bad_rate_limit_is_refused_with_what_to_give(value: str) -> None:
    with pytest.raises(config.SettingsError, match="whole number of tool calls a minute"):
        config.parse_rate_limit(value)


def test_zero_turns_it_off_and_the_default_is_stated() -> None:
    assert config.parse_rate_limit("0") == 0 and config.parse_rate_limit(" 30 ") == 30
    assert config.Settings().rate_limit == config.RATE_LIMIT_DEFAULT

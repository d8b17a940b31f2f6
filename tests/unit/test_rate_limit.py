"""server/rate_limit.CallRate: N calls at once after a quiet minute, then one more every 60/N seconds, per principal;
confirm_command/cancel_command apart (N more, a tenth a minute per token, at least 6); --rate-limit's parsing."""

from __future__ import annotations

import pytest
from mcp.server.mcpserver.exceptions import ToolError

from incident_response.server import config
from incident_response.server.rate_limit import MAX_BUCKETS, Buckets, CallRate


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def allowed(rate: CallRate, principal: str, tool: str, **arguments: object) -> bool:
    try:
        rate.check(principal, tool, arguments)
    except ToolError:
        return False
    return True


def refusal(rate: CallRate, principal: str, tool: str, **arguments: object) -> str:
    with pytest.raises(ToolError) as refused:
        rate.check(principal, tool, arguments)
    return str(refused.value)


def test_a_burst_then_the_refill_and_principals_apart() -> None:
    clock = Clock()
    rate = CallRate(6, clock)  # one call every 10 s once the burst of 6 is spent
    assert [allowed(rate, "alice", "list_pods") for _ in range(6)] == [True] * 6
    assert refusal(rate, "alice", "list_pods").endswith("a pending command can still be confirmed or cancelled.")
    assert "wait 10 s" in refusal(rate, "alice", "list_pods")
    assert allowed(rate, "bob", "list_pods")  # another principal has its own bucket
    clock.now += 9.9
    assert not allowed(rate, "alice", "list_pods")
    clock.now += 0.1
    assert allowed(rate, "alice", "list_pods") and not allowed(rate, "alice", "list_pods")
    clock.now += 3600  # a quiet hour gives back a full burst, never more
    assert [allowed(rate, "alice", "list_pods") for _ in range(7)].count(True) == 6


def test_reads_that_spent_the_calls_never_hold_back_a_decision() -> None:
    rate = CallRate(6, Clock())
    while allowed(rate, "alice", "server_info"):
        pass
    assert allowed(rate, "alice", "confirm_command", token="T1")
    assert allowed(rate, "alice", "cancel_command", token="T2")
    assert not allowed(rate, "alice", "list_pending_commands")  # a read: it stays in the calls


def test_one_token_gets_a_few_decisions_and_leaves_the_rest_to_others() -> None:
    clock = Clock()
    rate = CallRate(30, clock)
    assert [allowed(rate, "alice", "confirm_command", token="T1") for _ in range(7)] == [True] * 6 + [False]
    message = refusal(rate, "alice", "confirm_command", token="T1")
    assert "6 times in a minute for this token" in message and "wait 10 s" in message, message
    assert allowed(rate, "alice", "cancel_command", token="T1")  # cancelling is its own budget
    assert allowed(rate, "alice", "confirm_command", token="T2")  # another plan is not held back
    # The refusals spent nothing of the principal's decisions: 6 + 1 + 1 so far, so 22 left.
    assert [allowed(rate, "alice", "confirm_command", token=f"X{n}") for n in range(23)].count(True) == 22
    assert "30 confirm_command/cancel_command calls a minute" in refusal(rate, "alice", "confirm_command", token="Y")
    assert allowed(rate, "alice", "list_pods")  # the calls are apart: decisions do not spend them either


def test_a_flood_of_made_up_tokens_stops_at_the_principals_decisions() -> None:
    rate = CallRate(10, Clock())
    assert [allowed(rate, "mallory", "confirm_command", token=f"guess{n}") for n in range(15)].count(True) == 10
    assert allowed(rate, "alice", "confirm_command", token="guess0")  # per principal


def test_a_token_that_is_no_string_is_one_key_and_a_small_rate_caps_the_token_budget() -> None:
    assert [CallRate(n).per_token for n in (2, 30, 120, 1000)] == [2, 6, 12, 100]  # a tenth, at least 6, at most all
    rate = CallRate(2, Clock())
    assert allowed(rate, "alice", "confirm_command", token=None) and allowed(rate, "alice", "confirm_command")
    assert not allowed(rate, "alice", "confirm_command", token=12)


def test_the_bucket_table_is_bounded_and_forgets_the_least_recent() -> None:
    buckets = Buckets(Clock())
    for n in range(MAX_BUCKETS + 10):
        assert buckets.take(((f"p{n}",), 1)) is None
    assert buckets.take(((f"p{MAX_BUCKETS + 9}",), 1)) is not None  # still remembered: spent
    assert buckets.take((("p0",), 1)) is None  # forgotten: a full bucket again


def test_buckets_are_charged_all_or_none() -> None:
    buckets = Buckets(Clock())
    assert buckets.take((("a",), 1)) is None
    refused = buckets.take((("b",), 1), (("a",), 1))
    assert refused is not None and refused[0] == 1 and refused[1] == pytest.approx(60.0)
    assert buckets.take((("b",), 1)) is None  # the refused call did not spend b


@pytest.mark.parametrize("value", ["-1", "1.5", "ten", "99999999"])
def test_a_bad_rate_limit_is_refused_with_what_to_give(value: str) -> None:
    with pytest.raises(config.SettingsError, match="whole number of tool calls a minute"):
        config.parse_rate_limit(value)


def test_zero_turns_it_off_and_the_default_is_stated() -> None:
    assert config.parse_rate_limit("0") == 0 and config.parse_rate_limit(" 30 ") == 30
    assert config.Settings().rate_limit == config.RATE_LIMIT_DEFAULT

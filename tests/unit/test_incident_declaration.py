"""The rules of declare_incident as a pure function: every case an on-call engineer meets, and its fate."""

from __future__ import annotations

import pytest

from incident_response.tools.core.errors import InvalidArgument
from incident_response.tools.engine.journal import IncidentRow
from incident_response.tools.playbook.declaration import Request, amend, one_line

NOW = 1_700_000_000.0
UNTITLED = IncidentRow(id="inc-a", title="untitled incident", opened_at=NOW - 600)
DECLARED = IncidentRow(
    id="inc-b", title="checkout 502", opened_at=NOW - 900, severity="SEV3", namespace="shop", declared_at=NOW - 800
)
RESOLVED = DECLARED.model_copy(update={"id": "inc-c", "closed_at": NOW - 60})


def test_declaring_with_nothing_open_starts_a_new_incident() -> None:
    done = amend(Request(title="checkout 502", severity="SEV2", namespace="shop"), None, None, NOW)
    assert done.outcome == "declared" and done.before is None
    after = done.after
    assert (after.id, after.title, after.severity, after.namespace) == ("", "checkout 502", "SEV2", "shop")
    assert done.after.opened_at == done.after.declared_at == NOW
    assert done.events == [
        ("declared", {"title": "checkout 502", "severity": "SEV2", "namespace": "shop", "adopted": False, "note": None})
    ]


def test_declaring_adopts_the_untitled_open_incident_and_keeps_its_id_and_start() -> None:
    done = amend(Request(title="checkout 502", severity="SEV2"), UNTITLED, None, NOW)
    assert done.outcome == "adopted" and done.before == UNTITLED
    assert (done.after.id, done.after.opened_at, done.after.declared_at) == ("inc-a", NOW - 600, NOW)
    assert done.events[0][1]["adopted"] is True
    assert "adopting the untitled incident" in done.changes[0]


def test_an_untitled_incident_opened_long_ago_is_not_adopted_silently_and_the_refusal_says_both_ways_out() -> None:
    stale = UNTITLED.model_copy(update={"opened_at": NOW - 3 * 86400})
    with pytest.raises(InvalidArgument) as refused:
        amend(Request(title="checkout 502", severity="SEV1"), stale, None, NOW)
    message = str(refused.value)
    assert "opened automatically at 2023-11-11 22:13 UTC (72 h ago)" in message and "nothing was changed" in message
    assert "declare_incident(incident_id='inc-a', title=..., severity=...)" in message
    assert "declare_incident(incident_id='inc-a', status='resolved'), then declare again" in message
    # Named by id, the human's choice stands: it is declared, its timeline kept.
    chosen = amend(Request(title="checkout 502", severity="SEV1", incident_id="inc-a"), stale, stale, NOW)
    assert chosen.outcome == "adopted" and chosen.after.declared_at == NOW and chosen.after.opened_at == stale.opened_at


def test_a_second_declaration_without_an_id_is_refused_and_says_how() -> None:
    with pytest.raises(InvalidArgument) as refused:
        amend(Request(title="payments down", severity="SEV1"), DECLARED, None, NOW)
    message = str(refused.value)
    assert "inc-b" in message and "already declared" in message and "nothing was changed" in message
    assert "incident_id='inc-b'" in message and "status='resolved'" in message


def test_repeating_the_same_declaration_is_a_no_op_so_a_retried_call_is_safe() -> None:
    done = amend(Request(title="checkout 502", severity="SEV3", namespace="shop"), DECLARED, None, NOW)
    assert done.outcome == "unchanged" and done.events == [] and done.after == DECLARED


def test_severity_change_by_id_is_one_event_with_the_note() -> None:
    done = amend(Request(incident_id="inc-b", severity="SEV1", note="payments too"), DECLARED, DECLARED, NOW)
    assert done.outcome == "updated" and done.after.severity == "SEV1" and done.after.title == "checkout 502"
    assert done.events == [("severity_changed", {"from": "SEV3", "to": "SEV1", "note": "payments too"})]
    assert done.changes == ["severity 'SEV3' -> 'SEV1' (raised)"]
    lowered = amend(Request(incident_id="inc-b", severity="SEV4"), DECLARED, DECLARED, NOW)
    assert lowered.changes == ["severity 'SEV3' -> 'SEV4' (lowered)"]


def test_title_and_namespace_change_together_give_two_events() -> None:
    done = amend(Request(incident_id="inc-b", title="checkout and cart 502", namespace="shop2"), None, DECLARED, NOW)
    assert [kind for kind, _ in done.events] == ["title_changed", "namespace_changed"]
    assert (done.after.title, done.after.namespace) == ("checkout and cart 502", "shop2")


def test_asking_for_what_is_recorded_changes_nothing() -> None:
    done = amend(Request(incident_id="inc-b", severity="SEV3", status="active"), DECLARED, DECLARED, NOW)
    assert done.outcome == "unchanged" and done.events == []


def test_stabilized_then_active_again_then_resolved() -> None:
    stable = amend(Request(incident_id="inc-b", status="stabilized"), DECLARED, DECLARED, NOW)
    assert stable.after.stabilized_at == NOW and stable.after.status == "stabilized"
    assert stable.events == [("stabilized", {"note": None})]
    again = amend(Request(incident_id="inc-b", status="active"), stable.after, stable.after, NOW + 60)
    assert again.after.stabilized_at is None and again.events[0][0] == "reactivated"
    closed = amend(Request(incident_id="inc-b", status="resolved"), again.after, again.after, NOW + 120)
    assert closed.after.closed_at == NOW + 120 and closed.after.status == "resolved"
    assert closed.events == [("resolved", {"note": None, "declared": True})]


def test_resolving_with_live_commands_is_refused() -> None:
    live = ["rollback_deployment pending: Roll deployment checkout back"]
    with pytest.raises(InvalidArgument, match="still has live commands: rollback_deployment pending"):
        amend(Request(incident_id="inc-b", status="resolved"), DECLARED, DECLARED, NOW, live)


def test_a_resolved_incident_stays_closed() -> None:
    with pytest.raises(InvalidArgument, match="inc-c .* stays closed; nothing was changed"):
        amend(Request(incident_id="inc-c", severity="SEV1"), None, RESOLVED, NOW)


def test_an_untitled_incident_is_declared_by_id_or_closed_without_declaring() -> None:
    declared = amend(Request(incident_id="inc-a", title="cart slow", severity="SEV4"), UNTITLED, UNTITLED, NOW)
    assert declared.outcome == "adopted" and declared.after.declared_at == NOW
    closed = amend(Request(incident_id="inc-a", status="resolved"), UNTITLED, UNTITLED, NOW)
    assert closed.after.closed_at == NOW and closed.events == [("resolved", {"note": None, "declared": False})]
    with pytest.raises(InvalidArgument, match="never declared; give title and severity"):
        amend(Request(incident_id="inc-a", status="stabilized"), UNTITLED, UNTITLED, NOW)


@pytest.mark.parametrize(
    "request_, message",
    [
        (Request(title="checkout 502"), "needs severity"),
        (Request(severity="SEV2"), "needs title"),
        (Request(status="resolved"), "pass its incident_id too; the open one is inc-a"),
    ],
)
def test_incomplete_declarations_are_refused(request_: Request, message: str) -> None:
    with pytest.raises(InvalidArgument, match=message):
        amend(request_, UNTITLED, None, NOW)


def test_free_text_becomes_one_clean_line_and_blank_is_refused() -> None:
    assert one_line("  checkout\n502\t\x00 errors ", "title") == "checkout 502 errors"
    with pytest.raises(InvalidArgument, match="title is blank"):
        one_line(" \n\t", "title")

"""Which open incident a call, a node plan or a declaration belongs to: one open incident per namespace (F17)."""

from __future__ import annotations

from incident_response.tools.engine.attribution import (
    declared_over,
    incident_for,
    incident_for_node,
    incidents_for_call,
)
from incident_response.tools.engine.records import IncidentRow


def row(incident: str, namespace: str | None, *, declared: bool = True, opened: float = 0) -> IncidentRow:
    return IncidentRow(
        id=incident, title=incident, opened_at=opened, namespace=namespace, declared_at=opened if declared else None
    )


A = row("inc-a", "team-a", opened=1)
B = row("inc-b", "team-b", opened=2)
WIDE = row("inc-w", None, declared=False, opened=3)


def test_a_call_goes_to_its_namespaces_incident_else_the_one_without_else_a_new_one() -> None:
    assert incident_for([B, A], "team-a") == A and incident_for([B, A], "team-b") == B
    assert incident_for([WIDE, B, A], "team-c") == WIDE
    assert incident_for([B, A], "team-c") is None  # a new untitled incident: never another team's
    assert incident_for([], "team-a") is None and incident_for([], None) is None


def test_nothing_declared_for_a_namespace_keeps_one_incident_for_everything() -> None:
    assert [incident_for([WIDE], ns) for ns in ("team-a", "team-b", None)] == [WIDE] * 3
    declared_wide = WIDE.model_copy(update={"declared_at": 3.0})
    assert incident_for([declared_wide], "team-a") == declared_wide


def test_a_call_in_no_namespace_goes_to_each_namespaces_incident_when_only_those_are_open() -> None:
    assert incidents_for_call([B, A], None) == [A, B]
    assert incidents_for_call([A], None) == [A]  # the only open one
    assert incidents_for_call([WIDE, B, A], None) == [WIDE]
    assert incidents_for_call([B, A], "team-b") == [B] and incidents_for_call([B, A], "team-c") == []


def test_a_node_plan_goes_to_the_incident_with_most_pods_on_the_node_the_first_opened_on_a_tie() -> None:
    assert incident_for_node([B, A], {"team-b": 3, "team-a": 1}) == B
    assert incident_for_node([B, A], {"team-a": 2, "team-b": 2}) == A
    assert incident_for_node([B, A], {}) == A
    assert incident_for_node([WIDE, B, A], {"team-b": 5}) == WIDE  # one without a namespace takes node work
    assert incident_for_node([B], {"team-a": 5}) == B and incident_for_node([], {}) is None


def test_a_declaration_meets_its_namespaces_incident_or_adopts_the_untitled_one() -> None:
    assert declared_over([WIDE, B, A], "team-a") == A
    assert declared_over([WIDE, A], "team-b") == WIDE  # adopted: its timeline so far is kept
    assert declared_over([WIDE.model_copy(update={"declared_at": 3.0}), A], "team-b") is None  # a new one
    assert declared_over([B, A], "team-c") is None
    assert declared_over([B, A], None) == B and declared_over([WIDE, A], None) == WIDE
    assert declared_over([], None) is None

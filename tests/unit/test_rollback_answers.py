"""The human's remembered rollback answers (tools/engine/rollback_answers.py): which rollback they forbid, through a
renumbering rollback, and how a taken-back answer reads (review-assist F31)."""

from __future__ import annotations

from pathlib import Path

from incident_response.tools.engine.deps import Deps, ToolSettings
from incident_response.tools.engine.rollback_answers import (
    Revision,
    Ruling,
    record,
    ruling_against,
    rulings,
    taken_back,
)

FORWARD_ONLY = {"migrations_forward_only": True}


def ruling(number: int, template: str, answers: dict[str, bool] | None = None) -> Ruling:
    return Ruling("shop", "deployment", "checkout", Revision(number, template), dict(answers or FORWARD_ONLY))


def test_a_rollback_below_the_answered_revision_is_forbidden_and_one_to_it_or_later_is_not() -> None:
    found = [ruling(3, "checkout-b")]
    numbers = {"checkout-a": 2, "checkout-b": 3, "checkout-c": 4}
    assert ruling_against(found, "deployment", "checkout", 2, numbers) is found[0]
    assert ruling_against(found, "deployment", "checkout", 3, numbers) is None
    assert ruling_against(found, "deployment", "web", 2, numbers) is None
    assert ruling_against([ruling(3, "checkout-b", {"migrations_forward_only": False})], "deployment", "checkout", 2,
                          numbers) is None  # fmt: skip


def test_the_answered_revision_is_followed_by_its_replicaset_through_a_renumbering() -> None:
    """Someone rolled back to checkout-a by hand (now revision 4) and the answered checkout-b was rolled out again as
    revision 5: going back to 4 (checkout-a, the older code) is still going past the answered one."""
    found = [ruling(3, "checkout-b")]
    assert ruling_against(found, "deployment", "checkout", 4, {"checkout-a": 4, "checkout-b": 5}) is found[0]
    # Its ReplicaSet gone (history limit): the number recorded then counts.
    assert ruling_against(found, "deployment", "checkout", 2, {"checkout-a": 2}) is found[0]


def test_answers_are_kept_per_revision_and_a_taken_back_one_is_said(tmp_path: Path) -> None:
    deps = Deps(ToolSettings(state_dir=tmp_path))
    assert record(deps, "shop", "deployment", "checkout", Revision(3, "checkout-b", ("shop/checkout:2.5.0",)),
                  FORWARD_ONLY) is None  # fmt: skip
    [first] = rulings(deps, "shop")
    assert first.rules_out and first.revision == Revision(3, "checkout-b", ("shop/checkout:2.5.0",))
    assert rulings(deps, "other") == []
    record(deps, "shop", "deployment", "checkout", Revision(3, "checkout-b"), {"migrations_forward_only": False})
    [back] = rulings(deps, "shop")
    assert not back.rules_out
    [found] = taken_back([back], "deployment", "checkout")
    assert found.check == "taken_back" and "migrations_forward_only=true (revision 3)" in found.brief
    warning = found.detail
    assert "answered migrations_forward_only=true about revision 3 of deployment checkout" in warning
    assert "took it back (migrations_forward_only=false)" in warning
    record(deps, "shop", "deployment", "checkout", Revision(4, "checkout-c"), {"stateful_changes_uncertain": False})
    assert [r.revision.number for r in rulings(deps, "shop")] == [3, 4]

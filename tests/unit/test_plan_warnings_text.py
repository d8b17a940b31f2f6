# ruff: noqa: E501
"""A plan's warnings within issue 13's result rule, for every combination: the text says each as `check: brief`, the
structured content carries check, brief and detail (tools/core/plan_warnings.py).

The plan below is rollback_deployment's on the missing-volume incident (tests/e2e/test_rollback_missing_volume.py,
its structured content as the server sends it in safe mode, and the same plan pending); its warnings come from the
real producers (rollback_checks, known_good, rollback_answers) on plain dicts, so a longer brief shows up here.
"""

from __future__ import annotations

import itertools
import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from incident_response.server.budget import RESULT_OVERLAP_LIMIT, compact
from incident_response.server.render import render
from incident_response.tools.core.plan_warnings import PlanWarning
from incident_response.tools.engine.rollback_answers import Revision, Ruling, taken_back
from incident_response.tools.playbook.config_failures import shared_failure
from incident_response.tools.playbook.known_good import (
    KnownGood,
    briefly,
    default_target_warnings,
    served_item,
    served_verdict,
)
from incident_response.tools.playbook.rollback_checks import (
    Sign,
    config_item,
    migrations_item,
    plan_warnings,
    stateful_item,
)

NOW = datetime(2026, 12, 5, 10, 0, tzinfo=UTC)
SUMMARY = "Roll deployment checkout in shop back from revision 4 to revision 3 (ReplicaSet checkout-67948c8465, image registry.example.com/shop/checkout:2.4.0)."
COMMAND = "kubectl rollout undo deployment/checkout -n shop --to-revision=3 --context sim"


def checkout(claims: list[str]) -> dict[str, Any]:
    volumes: list[dict[str, Any]] = [{"name": "files", "configMap": {"name": "checkout-files"}}]
    volumes += [{"name": c, "persistentVolumeClaim": {"claimName": c}} for c in claims]
    return {
        "metadata": {"name": "checkout", "namespace": "shop", "labels": {"app": "checkout"}},
        "spec": {"template": {"metadata": {"labels": {"app": "checkout"}}, "spec": {"volumes": volumes}}},
    }


def cautions(claims: int = 1, signs: int = 1) -> dict[str, PlanWarning]:
    """Every rollback caution a plan can carry, by name, as the producers say them."""
    deployment = checkout([f"checkout-data-{i}" for i in range(claims)] if claims else [])
    jobs = [
        Sign(f"job/checkout-migrate-{i}", f"job/checkout-migrate-{i} created 5m ago (helm hook pre-upgrade)")
        for i in range(signs)
    ]
    mounts = {"checkout-7d9-x2": 'MountVolume.SetUp failed for volume "files" : configmap "checkout-files" not found'}
    failing = shared_failure([], deployment["spec"]["template"], 3, mounts)
    items = [
        stateful_item(deployment, set(), 4),
        migrations_item(jobs, 4, 3, NOW - timedelta(hours=1), True),
        *config_item(failing, None),
    ]
    found = {w.check: w for w in plan_warnings(items)}
    replaced, created = NOW - timedelta(days=3), NOW - timedelta(days=3, seconds=3)
    doubt = served_verdict(3, "replicaset/checkout-67948c8465 created 3d ago", created, replaced, [], [], [], NOW)
    good = served_item(2, 3 * 86400, [], [])
    better = KnownGood({}, 2, f"{doubt.detail.split(';')[0]}; {good.detail}", briefly(doubt, good))
    (found["default_target"],) = default_target_warnings(3, better, doubt)
    (found["known_good"],) = default_target_warnings(3, None, doubt)
    said, back = NOW.timestamp() - 600, NOW.timestamp() - 60
    ruling = Ruling(
        "shop",
        "deployment",
        "checkout",
        Revision(4, "checkout-abc"),
        taken_back={"migrations_forward_only": (said, back)},
    )
    (found["taken_back"],) = taken_back([ruling], "deployment", "checkout")
    return found


def plan(warnings: list[PlanWarning], *, pending: bool) -> dict[str, Any]:
    """The plan's structured content as the server sends it (blocked in safe mode, or pending in full mode)."""
    return {
        "summary": SUMMARY,
        "status": "pending" if pending else "blocked",
        "token": "Q2hlY2tvdXQtcm9sbGJhY2stdG9rZW4" if pending else None,
        "command": COMMAND,
        "undo_command": COMMAND.replace("=3", "=4"),
        "diff": [
            {
                "path": "spec.template.spec.containers[checkout].image",
                "before": "registry.example.com/shop/checkout:2.5.1",
                "after": "registry.example.com/shop/checkout:2.4.0",
            }
        ],
        "expires_at": "2026-12-05T10:15:00Z" if pending else None,
        "target": {
            "kind": "Deployment",
            "namespace": "shop",
            "name": "checkout",
            "uid": "cf831455-4ac4-4f9b-9676-2ae37ce11660",
        },
        "risk": "mutation",
        "steps": [COMMAND],
        "preconditions": [
            {
                "resource": "deployments",
                "namespace": "shop",
                "name": "checkout",
                "label_selector": None,
                "field_selector": None,
                "expect": {
                    "/metadata/uid": "cf831455-4ac4-4f9b-9676-2ae37ce11660",
                    "/metadata/generation": 3,
                    "/metadata/annotations/deployment.kubernetes.io~1revision": "4",
                    "/spec/replicas": 4,
                    "/spec/paused": None,
                },
                "digests": [],
                "min_ready": None,
                "unless_selector": None,
            },
            {
                "resource": "replicasets",
                "namespace": "shop",
                "name": "checkout-67948c8465",
                "label_selector": None,
                "field_selector": None,
                "expect": {
                    "/metadata/uid": "2ebb4ab0-a680-47b9-8ad8-fe4036da1cad",
                    "/metadata/annotations/deployment.kubernetes.io~1revision": "3",
                },
                "digests": [],
                "min_ready": None,
                "unless_selector": None,
            },
        ],
        "warnings": [w.model_dump(mode="json") for w in warnings],
        "fingerprint": "9f2c4e1b7a6d3c5e8f0a1b2c3d4e5f6a7b8c9d0e1f2a3b4c5d6e7f8091a2b3c4" if pending else None,
        "next_step": "Show the command, diff and undo to the human, then call confirm_command(token)."
        if pending
        else "Safe mode: advice only.",
    }


def ratio(data: dict[str, Any]) -> float:
    text, structured = len(render("Proposal", data).encode()), compact(data)
    return (text + structured) / max(text, structured)


# Below the limit with room for what varies between incidents (longer names, a kubeconfig path in a command).
MARGIN = 0.02


def test_the_four_cautions_of_the_missing_volume_incident_hold_the_rule() -> None:
    found = cautions()
    four = [found["config"], found["default_target"], found["stateful"], found["migrations"]]
    for pending in (False, True):
        assert ratio(plan(four, pending=pending)) <= RESULT_OVERLAP_LIMIT - MARGIN, ratio(plan(four, pending=pending))


def test_a_plan_with_every_caution_holds_the_rule() -> None:
    every = list(cautions(claims=3, signs=3).values())
    for pending in (False, True):
        assert ratio(plan(every, pending=pending)) <= RESULT_OVERLAP_LIMIT - MARGIN, ratio(plan(every, pending=pending))


@pytest.mark.parametrize("size", range(1, 8))
def test_every_combination_of_cautions_holds_the_rule(size: int) -> None:
    found = cautions(claims=2, signs=2)
    for chosen in itertools.combinations(found.values(), size):
        for pending in (False, True):
            data = plan(list(chosen), pending=pending)
            assert ratio(data) <= RESULT_OVERLAP_LIMIT, ([w.check for w in chosen], pending, ratio(data))


@given(
    checks=st.lists(st.sampled_from(sorted(cautions())), min_size=1, max_size=12),
    claims=st.integers(0, 6),
    signs=st.integers(1, 6),
    pending=st.booleans(),
)
def test_any_number_of_cautions_in_any_order_holds_the_rule(
    checks: list[str], claims: int, signs: int, pending: bool
) -> None:
    # A warning said twice (two taken-back answers, two config findings) only adds: each one's brief is at most about
    # a third of what it adds to the structured content, so more of them move the ratio towards 1.3, never past 1.35.
    found = cautions(claims=claims, signs=signs)
    warnings = [found[c] for c in checks if c in found]
    data = plan(warnings, pending=pending)
    assert ratio(data) <= RESULT_OVERLAP_LIMIT, (checks, claims, signs, pending, ratio(data))


@pytest.mark.parametrize("check", sorted(cautions()))
def test_each_caution_costs_the_text_at_most_a_third_of_what_it_adds(check: str) -> None:
    # What holds the rule for any number of warnings: per warning, text over structured at most ~0.35.
    warning = cautions(claims=2, signs=2)[check]
    text = len(f"- {warning.said()}\n".encode())
    assert text / compact(warning.model_dump(mode="json")) <= 0.4, (check, warning.said())


@pytest.mark.parametrize("check", sorted(cautions()))
def test_the_brief_keeps_the_instruction_and_every_name_and_number_it_acts_on(check: str) -> None:
    warning = cautions()[check]
    assert warning.brief and len(warning.brief) < len(warning.detail), warning
    instructions = {
        "config": ["restore it", "do not roll back", "checkout-files", "revision 3"],
        "default_target": ["to_revision=2", "kubectl's default 3", "served 3s", "served 3d"],
        "known_good": ["revision 3", "served 3s", "check older revisions", "to_revision"],
        "stateful": ["checkout-data-0", "revision 4", "do not roll back", "scale or isolate"],
        "migrations": ["revision 4", "revision 3", "forward-only", "do not roll back", "scale or isolate"],
        "taken_back": ["migrations_forward_only=true", "revision 4", "false", "confirm with the human"],
    }[check]
    assert all(fact in warning.brief for fact in instructions), (instructions, warning.brief)
    # ...and the detail is the whole prose, which says them too.
    numbers = set(re.findall(r"\d+", warning.brief)) - set(re.findall(r"\d+", warning.detail))
    assert not numbers, (numbers, warning)


def test_the_text_says_each_warning_by_its_check_and_brief_never_its_detail() -> None:
    found = cautions()
    text = render("Proposal", plan(list(found.values()), pending=False))
    for warning in found.values():
        assert f"- {warning.check}: {warning.brief}" in text.splitlines(), text
        assert warning.detail not in text

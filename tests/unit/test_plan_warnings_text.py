# ruff: noqa: E501
"""A plan's warnings in its text: fewer words than in its structured content, every fact kept, within issue 13's
result rule (server/render_plans.py TERSE).

The plan below is rollback_deployment's on the missing-volume incident (tests/e2e/test_rollback_missing_volume.py,
its structured content as the server sends it), with the stateful and migration cautions a PVC and a schema
migration add.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from incident_response.server.budget import RESULT_OVERLAP_LIMIT, compact
from incident_response.server.render import render
from incident_response.server.render_plans import TERSE, terse

TOOLS = Path(__file__).resolve().parents[2] / "tools"

WARNINGS = [  # each whole, as the tools write it
    "config: revision 3's pods read ConfigMap checkout-files too, which pods fail on now: restore it (from source control) instead of rolling back: they would fail too and replace the running ones",
    "revision 3 is kubectl's default target but not known to be good (revision 3 served only 3s before it was replaced; revision 2 served 3d before it was replaced, and none of its pods fail now): plan again with to_revision=2 to go back to the known-good revision",
    "stateful: the pods use PersistentVolumeClaims checkout-data. Before confirming, make sure revision 4 ran no forward-only database migration and changed no data format the older code cannot read; if it did, do not roll back (scale or isolate instead).",
    "migrations: revision 4 shows signs of a schema migration since revision 3. Ask whether it is forward-only before confirming; if it is, do not roll back (scale or isolate instead).",
]
PLAN = {
    "summary": "Roll deployment checkout in shop back from revision 4 to revision 3 (ReplicaSet checkout-67948c8465, image registry.example.com/shop/checkout:2.4.0).",
    "status": "blocked",
    "token": None,
    "command": "kubectl rollout undo deployment/checkout -n shop --to-revision=3 --context sim",
    "undo_command": "kubectl rollout undo deployment/checkout -n shop --to-revision=4 --context sim",
    "diff": [
        {
            "path": "spec.template.spec.containers[checkout].image",
            "before": "registry.example.com/shop/checkout:2.5.1",
            "after": "registry.example.com/shop/checkout:2.4.0",
        }
    ],
    "expires_at": None,
    "target": {
        "kind": "Deployment",
        "namespace": "shop",
        "name": "checkout",
        "uid": "cf831455-4ac4-4f9b-9676-2ae37ce11660",
    },
    "risk": "mutation",
    "steps": ["kubectl rollout undo deployment/checkout -n shop --to-revision=3 --context sim"],
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
    "warnings": WARNINGS,
    "fingerprint": None,
    "next_step": "Safe mode: advice only.",
}


def ratio(plan: dict[str, object]) -> float:
    text, structured = len(render("Proposal", plan).encode()), compact(plan)
    return (text + structured) / max(text, structured)


def test_every_short_form_names_a_phrase_the_tools_still_write() -> None:
    # Adjacent string literals joined (a phrase wraps across lines), f-string fields as they stand.
    source = "".join(path.read_text() for path in sorted(TOOLS.rglob("*.py")))
    joined = re.sub(r'"\s*\n\s*f?"', "", source)
    missing = [long for long, _ in TERSE if long not in joined]
    assert not missing, f"reworded in tools/, say it shorter again in render_plans.TERSE: {missing}"


@pytest.mark.parametrize("warning", WARNINGS)
def test_the_short_form_keeps_every_name_number_and_instruction(warning: str) -> None:
    short = terse(warning)
    assert len(short) < len(warning)
    words = [w.rstrip(".") for w in re.findall(r"[\w.=-]+", warning)]
    facts = [w for w in words if re.search(r"\d", w) or w.startswith("checkout")]
    assert all(fact in short for fact in facts), (facts, short)
    for instruction in ("restore it", "do not roll back", "to_revision=2", "scale or isolate", "forward-only"):
        assert (instruction in warning) == (instruction in short), short


def test_a_plan_with_the_shared_config_and_the_default_target_doubt_holds_the_rule() -> None:
    assert ratio({**PLAN, "warnings": WARNINGS[:2]}) <= RESULT_OVERLAP_LIMIT


@pytest.mark.xfail(
    strict=True,
    reason="open: with the stateful and migration cautions too, the text's short forms are not short enough (1.38; 1.36 with three); "
    "the warnings need a shape whose text is at most ~1/3 of their prose (notes-plan-budget.md)",
)
def test_a_plan_with_every_caution_holds_the_rule() -> None:
    assert ratio(PLAN) <= RESULT_OVERLAP_LIMIT

"""Every long plan warning a planner writes has a brief: shorter than its detail, inventing no number the detail does
not say, and costing the result's text at most ~0.4 of what it adds to the structured content, so a plan holding
several of them stays within issue 13's result rule (1.35) whatever their number (tests/unit/test_plan_warnings_text.py
holds the rollback cautions' combinations; these are the other planners', made from plain dicts)."""

from __future__ import annotations

import re

import pytest
from support.builders import pod

from incident_response.server.budget import compact
from incident_response.tools.core.plan_warnings import PlanWarning, warning
from incident_response.tools.k8s.unfinished import Unfinished
from incident_response.tools.mitigate.drain_budgets import blocked_by_budgets
from incident_response.tools.mitigate.memory import completes_rollout
from incident_response.tools.mitigate.unreachable import fenced_first, stuck_warning
from incident_response.tools.playbook.restore_checks import (
    Findings,
    PodState,
    memory_restore,
    scale_restore,
    still_running,
)

# A detail at least this long is one the text must not repeat whole.
LONG = 160


def budget(name: str, current: int, desired: int, expected: int) -> dict[str, object]:
    return {
        "kind": "PodDisruptionBudget",
        "metadata": {"name": name, "namespace": "shop"},
        "spec": {"selector": {"matchLabels": {"app": name}}},
        "status": {
            "disruptionsAllowed": 0,
            "currentHealthy": current,
            "desiredHealthy": desired,
            "expectedPods": expected,
        },
    }


def unready(name: str, app: str) -> dict[str, object]:
    stuck = pod(name, deployment=app, node="node-1")
    stuck["status"]["conditions"] = [{"type": "Ready", "status": "False"}]
    stuck["status"]["containerStatuses"] = [{"name": app, "ready": False, "restartCount": 4, "state": {}}]
    return stuck


def drain_warnings() -> list[PlanWarning]:
    pods = [
        pod("web-1", deployment="web", node="node-1"),  # Ready: waits for replacements
        pod("payments-1", deployment="payments", node="node-1"),  # a budget that never allows one
        unready("gateway-1", "gateway"),  # its own pod holds the budget below its minimum
    ]
    pdbs = [budget("web", 2, 2, 3), budget("payments", 2, 2, 2), budget("gateway", 1, 2, 2)]
    warnings, blocked = blocked_by_budgets(pods, pdbs)
    assert blocked == {"web-1", "payments-1", "gateway-1"}, blocked
    return warnings


def restore_warnings() -> list[PlanWarning]:
    found = Findings()
    mib = 2**20
    found.merge(memory_restore("app", 256 * mib, {f"app-{i}": 250 * mib for i in range(6)}))
    found.merge(scale_restore("ledger", 2, [PodState(f"ledger-{i}", str(i), True, True) for i in range(6)], 5.6, 1.0))
    cut = [PodState(f"api-bad-78dd647d96-{i}x2vq", f"u{i}", False, True) for i in range(3)]
    found.merge(still_running("the old backend Service api", cut, {p.uid for p in cut}, "switching back"))
    assert len(found.holds) == 3, found
    return [warning("still_there", found.briefs[h], f"Restored while still there: {h}") for h in found.holds]


def other_warnings() -> list[PlanWarning]:
    members = [pod(f"kv-{i}", node="node-2") for i in range(3)]
    rollout = Unfinished("payments", 2, ["shop/payments:2.0"], 1, 3, "payments-6f7", 1, ["shop/payments:1.9"], 2)
    return [
        fenced_first("node-2"),
        stuck_warning("node-2", "Ready=Unknown, NodeStatusUnknown", members, evicting=True),
        completes_rollout(rollout, "shop"),
    ]


WARNINGS = [*drain_warnings(), *restore_warnings(), *other_warnings()]


@pytest.mark.parametrize("found", WARNINGS, ids=[f"{w.check}-{i}" for i, w in enumerate(WARNINGS)])
def test_a_long_warning_is_said_briefly_in_the_text(found: PlanWarning) -> None:
    assert len(found.detail) >= LONG, found  # the cases here are the long ones
    assert len(found.brief) < 0.75 * len(found.detail), found
    invented = set(re.findall(r"\d+", found.brief)) - set(re.findall(r"\d+", found.detail))
    assert not invented, (invented, found)
    text = len(f"- {found.said()}\n".encode())
    assert text / compact(found.model_dump(mode="json")) <= 0.42, (text, found.said())


def test_the_drain_briefs_keep_each_budgets_way_out() -> None:
    web, payments, gateway = drain_warnings()
    assert "PDB shop/web refuses evicting web-1" in web.brief and "re-plan once replacements are Ready" in web.brief
    assert "needs all 2 pods healthy" in payments.brief and "scale deployment payments up by one" in payments.brief
    assert "gateway-1 not Ready (1 healthy, needs 2)" in gateway.brief and "delete_pod" in gateway.brief
    assert "scale deployment gateway up by 1+" in gateway.brief

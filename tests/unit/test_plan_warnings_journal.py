"""Plans journaled before warnings had a shape (each a string) still load, show and run: the previous version's pending
command keeps its fingerprint, so a human can approve it and it can be confirmed after an upgrade; a string changed
after it was fingerprinted still fails the check (tools/core/plan_warnings.py)."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

from support.fakekube import FakeKube, seat
from support.journals import scale_draft

from incident_response.server.approvals_command import describe
from incident_response.server.confirmation import question
from incident_response.tools.core.plan_warnings import PlanWarning, warning
from incident_response.tools.engine.approvals import Caller
from incident_response.tools.engine.journal import Journal
from incident_response.tools.engine.pending import PendingEngine
from incident_response.tools.engine.plan import fingerprint

OLD = "Scaling to 5 replicas: each new pod requests 256Mi; 2 of 5 replicas would fit (3 would stay Pending)."


def previous_version_row(engine: PendingEngine, warnings: list[str]) -> dict[str, Any]:
    """A pending command as the previous version journaled it: its warnings strings, its fingerprint over them."""
    proposed = engine.propose(scale_draft(), seat("full")).token
    assert proposed is not None
    row = engine.journal.command(proposed)
    assert row is not None
    plan = {**row.plan, "token": engine.token_factory(), "warnings": warnings}
    hashed = {k: v for k, v in plan.items() if k not in ("fingerprint", "command")}
    canonical = json.dumps(hashed, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    return {**plan, "fingerprint": hashlib.sha256(canonical.encode()).hexdigest()}


def kube() -> FakeKube:
    fake = FakeKube()
    fake.put(
        "deployments",
        {"metadata": {"name": "web", "namespace": "shop", "uid": "u1"}, "spec": {"replicas": 3}},
    )
    return fake


def test_a_plan_journaled_with_string_warnings_loads_shows_and_runs(tmp_path: Path) -> None:
    engine = PendingEngine(Journal(tmp_path))
    old = previous_version_row(engine, [OLD])
    engine.journal.add_command(old, state="pending")
    found = engine.get(old["token"])
    assert found is not None
    row, cmd = found
    assert cmd.warnings == [PlanWarning(check="", brief=OLD)]
    assert fingerprint(cmd) == row.fingerprint  # computed over the string, as the previous version did
    assert f"warning {OLD}" in describe(cmd, row.state, None)  # the approve CLI's view
    assert f"  - {OLD}" in question(cmd, Caller(), "123456")  # the confirmation dialog
    result = engine.confirm(old["token"], here=seat("full"), kube=kube())
    assert result.status == "succeeded", result.message


def test_a_string_warning_changed_after_it_was_fingerprinted_does_not_run(tmp_path: Path) -> None:
    engine = PendingEngine(Journal(tmp_path))
    altered = previous_version_row(engine, [OLD])
    altered["warnings"] = [OLD.replace("2 of 5", "5 of 5")]
    engine.journal.add_command(altered, state="pending")
    result = engine.confirm(altered["token"], here=seat("full"), kube=kube())
    assert result.status == "failed" and "no longer matches" in result.message, result


def test_a_new_plan_journals_its_warnings_whole_and_shows_the_human_their_detail(tmp_path: Path) -> None:
    engine = PendingEngine(Journal(tmp_path))
    draft = scale_draft()
    draft.warnings = [warning("pending", "2 of 5 fit: 3 stay Pending", OLD)]
    proposal = engine.propose(draft, seat("full"))
    assert proposal.warnings == draft.warnings and proposal.token is not None
    found = engine.get(proposal.token)
    assert found is not None
    row, cmd = found
    assert row.plan["warnings"] == [{"check": "pending", "brief": "2 of 5 fit: 3 stay Pending", "detail": OLD}]
    assert fingerprint(cmd) == row.fingerprint
    assert f"warning pending: {OLD}" in describe(cmd, row.state, None)
    assert f"  - pending: {OLD}" in question(cmd, Caller(), "123456")

"""investigate_decisions.config_cause: a ConfigMap edit is the likely cause of a failure only when the pods read it
and the failure began after it (as the Warning events date it); otherwise assess_namespace lists it as a change made
before."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from incident_response.tools.k8s.changes import Change
from incident_response.tools.playbook.decision import DEPLOY_MARGIN_MINUTES, Facts
from incident_response.tools.playbook.investigate_decisions import config_cause

NOW = datetime(2026, 12, 5, 8, 0, tzinfo=UTC)


def edit(minutes: int, selects: list[str], manager: str = "kubectl-patch") -> Change:
    return Change("ConfigMap", "checkout-config", "updated", NOW - timedelta(minutes=minutes), manager, selects=selects)


def facts(change: Change, failing_for: int | None) -> Facts:
    since = {} if failing_for is None else {"checkout": failing_for}
    return Facts(namespace="shop", failing={"checkout": ["checkout-1"]}, changes=[change], now=NOW, failing_for=since)


def test_an_edit_is_the_likely_cause_only_when_read_and_before_the_failure() -> None:
    read = edit(10, ["checkout"])
    assert config_cause(facts(read, 8), "checkout") is read
    assert config_cause(facts(read, 10 + DEPLOY_MARGIN_MINUTES + 30), "checkout") is None  # failing long before it
    assert config_cause(facts(read, None), "checkout") is None  # when it began is not known
    assert config_cause(facts(edit(10, ["web"]), 8), "checkout") is None  # its pods do not read it
    assert config_cause(facts(edit(10, ["checkout"], "incident-response-mcp"), 8), "checkout") is None  # ours

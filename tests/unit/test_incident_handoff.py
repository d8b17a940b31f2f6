"""The handoff's pure parts: timeline cap, times and their basis, open questions, masking, the markdown."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from incident_response.tools.core.models import Truncation
from incident_response.tools.engine.journal import CommandRow, Event, IncidentRow
from incident_response.tools.incident.handoff import deployments_of
from incident_response.tools.incident.handoff_document import render
from incident_response.tools.incident.handoff_lane import measure_bears_on
from incident_response.tools.playbook.decision import Decision
from incident_response.tools.playbook.declaration import info
from incident_response.tools.playbook.handoff_analysis import RecordedDecision, hypotheses, open_questions
from incident_response.tools.playbook.handoff_facts import (
    BadRevision,
    ClusterFacts,
    action_of,
    capped_timeline,
    clean,
    journal_entry,
    stabilization,
    start_time,
    with_effects,
)
from incident_response.tools.playbook.handoff_models import (
    MAX_TIMELINE,
    CurrentState,
    DeploymentState,
    Evidence,
    Handoff,
    TimelineEntry,
)
from incident_response.tools.playbook.stabilization import acted_on, applied, effect_of, stabilizes, verifications

T0 = datetime(2030, 1, 1, 12, 0, tzinfo=UTC)
DECLARED = IncidentRow(
    id="inc-1",
    title="checkout 502",
    opened_at=T0.timestamp(),
    severity="SEV2",
    declared_at=(T0 + timedelta(minutes=2)).timestamp(),
)


def command(tool: str, state: str, *, minutes: int = 5, restores: str | None = None, **result: Any) -> CommandRow:
    at = (T0 + timedelta(minutes=minutes)).timestamp()
    plan = {
        "tool": tool,
        "summary": f"{tool} plan",
        "command": f"kubectl {tool}",
        "undo_command": None,
        "target": {"kind": "Deployment", "namespace": "shop", "name": "checkout"},
    }
    return CommandRow(
        token=f"t-{tool}-{minutes}",
        incident="inc-1",
        tool=tool,
        state=state,
        plan=plan,
        fingerprint="f",
        created_at=at,
        expires_at=at + 900,
        finished_at=at + 1,
        restores=restores,
        result=result or None,
    )


def state(verdict: Any, deployment: str = "checkout") -> DeploymentState:
    return DeploymentState(deployment=deployment, verdict=verdict, summary="s", checks=[])


def warning(reason: str, minutes: int) -> dict[str, Any]:
    when = (T0 + timedelta(minutes=minutes)).isoformat().replace("+00:00", "Z")
    return {
        "reason": reason,
        "type": "Warning",
        "firstTimestamp": when,
        "message": "m",
        "involvedObject": {"kind": "Pod", "name": "checkout-1"},
    }


def test_a_long_timeline_keeps_its_start_and_its_latest_part_and_says_what_was_cut() -> None:
    entries = [
        TimelineEntry(at=T0 + timedelta(seconds=i), source="journal", kind="planned", text=f"e{i}")
        for i in reversed(range(50))
    ]
    kept, cut, note = capped_timeline(entries)
    assert len(kept) == MAX_TIMELINE and (cut.shown, cut.total, cut.truncated) == (40, 50, True)
    assert [e.text for e in kept[:10]] == [f"e{i}" for i in range(10)]
    assert [e.text for e in kept[10:]] == [f"e{i}" for i in range(20, 50)]
    document = render(handoff(timeline=kept, timeline_truncation=cut, timeline_cut=note))
    lines = document.splitlines()
    gap = lines.index("- ... 10 entries left out here ...")
    assert lines[gap - 1].endswith("e9") and lines[gap + 1].endswith("e20")


def test_text_from_the_cluster_or_journal_is_masked_and_bounded() -> None:
    line = clean("connect postgres://checkout:s3cr3t@orders-db:5432 failed\n" + "x" * 1000)
    assert "s3cr3t" not in line and "\n" not in line and len(line) == 300 and line.endswith("...")


def test_start_is_the_earliest_cluster_signal_else_the_declaration() -> None:
    bad = [BadRevision("checkout", 3, T0 - timedelta(minutes=7), ["checkout:2.5.0"])]
    facts = ClusterFacts(warnings=[warning("BackOff", -5), warning("Unhealthy", -6)])
    started = start_time(DECLARED, facts, bad)
    assert started is not None and started.at == T0 - timedelta(minutes=7)
    assert started.basis == "rollout of the bad revision (deployment/checkout revision 3)"
    by_warning = start_time(DECLARED, facts, [])
    assert by_warning is not None and by_warning.basis == "first Warning event (Unhealthy on checkout-1)"
    quiet = start_time(DECLARED, ClusterFacts(), [])
    assert quiet is not None and quiet.basis.startswith("declared") and quiet.at == T0 + timedelta(minutes=2)


def verification(deployment: str, verdict: str, minutes: int, *failing: str) -> Event:
    detail = {"namespace": "shop", "deployment": deployment, "verdict": verdict, "failing": list(failing)}
    return Event(
        id=minutes,
        incident="inc-1",
        at=(T0 + timedelta(minutes=minutes)).timestamp(),
        token=None,
        kind="verified",
        detail=detail,
    )


def test_stabilized_when_every_deployment_acted_on_is_recovered_after_the_last_mitigation() -> None:
    rollback = command("rollback_deployment", "succeeded", minutes=5)
    scale = command("scale_deployment", "succeeded", minutes=9)
    scale.plan["target"]["name"] = "web"
    done = applied([rollback, scale, command("override_hpa", "succeeded", minutes=20, restores="t-x")], "shop")
    assert [row.tool for row in done] == ["rollback_deployment", "scale_deployment"]  # a restore is no mitigation
    targets = acted_on(done, "shop", lambda hpa: None)
    assert targets == ["checkout", "web"]
    early = verifications([verification("checkout", "RECOVERED", 7), verification("web", "RECOVERED", 8)], "shop")
    assert not stabilizes(done, early, targets)  # both before the scale finished: they say nothing about it
    late = verifications(
        [
            verification("checkout", "RECOVERED", 12),
            verification("web", "RECOVERING", 11),
            verification("web", "RECOVERED", 16),
        ],
        "shop",
    )
    assert stabilizes(done, late, targets)
    assert not stabilizes(done, [*late, *verifications([verification("web", "DEGRADED", 17)], "shop")], targets)
    assert not stabilizes([], late, targets)  # nothing was acted on: recovering alone is not a stabilization


def test_a_mitigation_is_said_to_have_fixed_only_what_a_verification_after_it_found() -> None:
    after = verifications([verification("web", "DEGRADED", 6, "pods", "endpoints")], "shop")
    missed = effect_of(["web"], after, last=False)
    assert missed.effect == "not_fixed"
    assert missed.detail == (
        "did not fix the service: verify_recovery found web still DEGRADED at 12:06 UTC (failing: pods, endpoints)"
    )
    fixed = effect_of(["web"], verifications([verification("web", "RECOVERED", 15)], "shop"), last=True)
    assert (fixed.effect, fixed.detail) == ("fixed", "fixed it: verify_recovery said RECOVERED for web at 12:15 UTC")
    assert effect_of(["web"], [], last=False).detail == "not verified before the next action"
    assert effect_of([], verifications([verification("web", "RECOVERING", 6)], "shop"), last=True).effect == (
        "recovering"
    )  # an isolation names no deployment: the service verified after it is what it protected


def test_each_action_carries_the_effect_found_between_it_and_the_next() -> None:
    scale, isolate = (
        command("scale_deployment", "succeeded", minutes=5),
        command("isolate_network", "succeeded", minutes=10),
    )
    isolate.plan["target"] = {"kind": "NetworkPolicy", "namespace": "shop", "name": "incident-isolate-api-bad"}
    seen = verifications(
        [verification("checkout", "DEGRADED", 7, "pods"), verification("checkout", "RECOVERED", 16)], "shop"
    )
    rows = [scale, isolate]
    first, second = with_effects(rows, [action_of(r) for r in rows], seen, lambda hpa: None, "shop")
    assert (first.effect, second.effect) == ("not_fixed", "fixed")
    entry = journal_entry(
        Event(
            id=9,
            incident="inc-1",
            at=T0.timestamp(),
            token=scale.token,
            kind="executed",
            detail={"status": "succeeded", "message": "The API accepted every write."},
        ),
        {scale.token: scale},
        {scale.token: first},
    )
    assert entry is not None and entry.text.startswith(
        "scale_deployment succeeded at the API, but did not fix the service: verify_recovery found checkout still "
        "DEGRADED at 12:07 UTC (failing: pods)"
    )


def test_duration_ends_where_verify_recovery_marked_the_incident_stabilized() -> None:
    marked = DECLARED.model_copy(update={"stabilized_at": (T0 + timedelta(minutes=30)).timestamp()})
    by_verify = Event(
        id=1,
        incident="inc-1",
        at=marked.stabilized_at or 0,
        token=None,
        kind="stabilized",
        detail={
            "by": "verify_recovery",
            "note": "verify_recovery said RECOVERED for checkout",
            "stable_since": "2030-01-01T12:24:10+00:00",
        },
    )
    point = stabilization(marked, [by_verify], [state("RECOVERED")])
    assert point is not None and point.at == T0 + timedelta(minutes=30)
    assert point.basis == "verify_recovery said RECOVERED for checkout, stable since 12:24:10 UTC"
    declared = stabilization(marked, [], [state("DEGRADED")])
    assert declared is not None and declared.basis == "declared stabilized"
    held = state("RECOVERED").model_copy(update={"stable_since": T0 + timedelta(minutes=20)})
    fallback = stabilization(DECLARED, [], [held])
    assert fallback is not None and fallback.at == T0 + timedelta(minutes=20) and "not marked" in fallback.basis
    assert stabilization(DECLARED, [], [held, state("RECOVERING", "web")]) is None


def test_open_questions_name_what_is_unknown() -> None:
    untitled = IncidentRow(id="inc-2", title="untitled incident", opened_at=T0.timestamp())
    actions = [action_of(command("rollback_deployment", "unknown", message="no answer"))]
    questions = open_questions(
        untitled, "shop", [state("DEGRADED"), state(None)], actions, [], [], None, ["The cluster could not be read"]
    )
    assert questions[0] == "The cluster could not be read"
    assert "never declared" in questions[1]
    assert any(q.startswith("checkout is still DEGRADED") for q in questions)
    assert any(q.startswith("Recovery of checkout could not be verified") for q in questions)
    assert "Did rollback_deployment on deployment/checkout -n shop take effect? Its outcome is unknown." in questions


def test_journal_events_read_as_timeline_lines() -> None:
    row = command("rollback_deployment", "succeeded")
    claimed = Event(
        id=1,
        incident="inc-1",
        at=T0.timestamp(),
        token=row.token,
        kind="claimed",
        detail={"mode": "full", "human_approved": False},
    )
    executed = Event(
        id=2,
        incident="inc-1",
        at=T0.timestamp(),
        token=row.token,
        kind="executed",
        detail={"status": "failed", "message": "the API refused"},
    )
    commands = {row.token: row}
    first, second = journal_entry(claimed, commands, {}), journal_entry(executed, commands, {})
    assert first is not None and first.text == "rollback_deployment confirmed in full mode, without a human approval"
    assert second is not None and (second.kind, second.text) == (
        "failed",
        "rollback_deployment failed: the API refused",
    )
    released = Event(id=3, incident="inc-1", at=T0.timestamp(), token=row.token, kind="released")
    assert journal_entry(released, commands, {}) is None


def timeline_lines(*times: datetime) -> list[str]:
    entries = [TimelineEntry(at=at, source="journal", kind="planned", text=f"e{i}") for i, at in enumerate(times)]
    lines = render(handoff(timeline=entries)).splitlines()
    begin = lines.index("Timeline Summary:") + 1
    return lines[begin : begin + len(times)]


def test_a_timeline_across_midnight_dates_every_line_and_one_within_a_day_gives_times_only() -> None:
    # The e2e handoffs cross midnight only when run just after it; this pins both shapes on fixed times.
    midnight = datetime(2030, 1, 1, tzinfo=UTC)
    across = timeline_lines(midnight - timedelta(minutes=25), midnight + timedelta(minutes=3))
    assert across == ["- 12-31 23:35 e0", "- 01-01 00:03 e1"]
    within = timeline_lines(T0, T0 + timedelta(minutes=3))
    assert within == ["- 12:00 e0", "- 12:03 e1"]


def test_the_document_stays_bounded_and_is_cut_at_a_line_end() -> None:
    text = render(handoff(open_questions=["q" * 300] * 100))
    assert len(text) < 20_100 and text.endswith("\n... (cut here; format='json' has every section in full)\n")
    assert all(line in ("", "- " + "q" * 300) or not line.startswith("- q") for line in text.splitlines())
    markdown = render(
        handoff(
            format="markdown",
            actions=[action_of(command("isolate_network", "succeeded")).model_copy(update={"command": "echo `x` | y"})],
        )
    )
    assert "  - command: `` echo `x` | y ``" in markdown


def test_a_decision_hypothesis_says_what_its_mitigation_assumes_not_the_generic_reading_of_the_action() -> None:
    oom = {
        "namespace": "shop",
        "primary_action": "SCALE",
        "rule": "out of memory: vertical scaling",
        "target": "deployment/payments",
        "next_tool": "set_memory_limit",
        "reason": "1 pods were OOMKilled",
    }
    isolate = {
        "namespace": "shop",
        "primary_action": "ISOLATE",
        "rule": "one component poisons others",
        "target": "app=api,version=bad",
        "next_tool": "remove_pods_from_service",
        "reason": "api-bad poisons",
    }
    found = hypotheses(
        [], [], [], ClusterFacts(), None, "shop", [RecordedDecision(T0, oom), RecordedDecision(T0, isolate)]
    )
    assert [h.statement for h in found] == [
        "The memory limit of payments is too low for its work",
        "One component is poisoning others (app=api,version=bad)",  # a selector names no object to assume about
    ]


def test_the_deployments_verified_include_those_a_plan_writes_besides_its_target() -> None:
    canary = command("rollback_canary", "succeeded")
    canary.plan["target"]["name"] = "web-canary"
    canary.plan["steps"] = [
        {"action": {"kind": "kube", "resource": "deployments", "namespace": "shop", "name": name, "verb": "patch"}}
        for name in ("web-canary", "web-stable")
    ]
    elsewhere = command("scale_deployment", "succeeded", minutes=6)
    elsewhere.plan["steps"] = [{"action": {"resource": "deployments", "namespace": "other", "name": "x"}}]
    assert deployments_of(None, "shop", None, [canary, elsewhere], None, []) == ["web-canary", "web-stable", "checkout"]


def test_a_handoff_takes_its_own_measures_and_those_in_place_where_it_happens() -> None:
    def measure(incident: str, kind: str, namespace: str | None) -> CommandRow:
        row = command("override_hpa", "succeeded")
        row.plan["target"] = {"kind": kind, "namespace": namespace, "name": "n"}
        return row.model_copy(update={"incident": incident})

    wide = IncidentRow(id="inc-1", title="t", opened_at=0)
    own = wide.model_copy(update={"namespace": "shop"})
    assert measure_bears_on(measure("inc-1", "HorizontalPodAutoscaler", "other"), wide, "shop")  # left by it
    assert measure_bears_on(measure("inc-0", "HorizontalPodAutoscaler", "shop"), wide, "shop")  # still shapes shop
    assert measure_bears_on(measure("inc-0", "Node", None), wide, "shop")  # a cordoned node affects every namespace
    assert not measure_bears_on(measure("inc-0", "HorizontalPodAutoscaler", "other"), wide, "shop")
    # F17: a namespace's incident tells only its namespace's story, even where an older journal put another's under it
    assert not measure_bears_on(measure("inc-1", "HorizontalPodAutoscaler", "other"), own, "shop")
    assert measure_bears_on(measure("inc-1", "Node", None), own, "shop")


def handoff(**fields: Any) -> Handoff:
    base: dict[str, Any] = {
        "summary": "s",
        "incident": info(DECLARED),
        "chosen_because": "c",
        "namespace": "shop",
        "deployments": [],
        "started": None,
        "stabilized": None,
        "duration_minutes": None,
        "ongoing": True,
        "timeline": [],
        "timeline_truncation": Truncation.of(0, 0),
        "actions": [],
        "overall_verdict": "UNKNOWN",
        "current_state": CurrentState(
            service="unknown",
            service_detail="d",
            mitigation=[],
            mitigation_detail="m",
            temporary_measures=[],
            deployments=[],
        ),
        "hypotheses": [],
        "evidence": Evidence(tools_called=[], reproduce=[]),
        "open_questions": [],
        "document": "",
        "format": "text",
    }
    return Handoff(**{**base, **fields})


def test_with_nothing_acted_on_the_handoff_verifies_the_assessments_target_and_its_other_problems() -> None:
    """A bad deploy ranked second (a standing outage first) is this incident's too (review-assist6 G6)."""
    decision = Decision(
        primary_action="SCALE",
        rule="out of memory",
        target="deployment/svc-250",
        reason="OOM",
        evidence=[],
        next_tool=None,
        next_arguments={},
    )
    ranked = ["svc-250", "svc-137", "svc-183", "svc-184"]
    assert deployments_of(None, "many", None, [], decision, [], ranked) == ["svc-250", "svc-137", "svc-183"]
    rollback = command("rollback_deployment", "succeeded")  # what the incident acted on is what it verifies
    assert deployments_of(None, "shop", None, [rollback], decision, [], ranked) == ["checkout"]

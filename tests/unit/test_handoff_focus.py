"""What a handoff of a busy namespace puts first (tools/playbook/handoff_focus.py): a standing failure sets no start,
a workload's creation is no suspect unless it fails, suspects by relation to the failing components, and a capped
timeline leaves out what bears least on them (review-assist6 G6)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from incident_response.tools.engine.journal import IncidentRow
from incident_response.tools.k8s.changes import Change
from incident_response.tools.playbook.handoff_analysis import window_suspects
from incident_response.tools.playbook.handoff_changes import change_entries
from incident_response.tools.playbook.handoff_facts import ClusterFacts, capped_timeline, cluster_entries, start_time
from incident_response.tools.playbook.handoff_focus import standing_since
from incident_response.tools.playbook.handoff_leads import rollout_question
from incident_response.tools.playbook.handoff_models import MAX_TIMELINE, TimelineEntry
from incident_response.tools.playbook.handoff_rollouts import Rollout

T0 = datetime(2030, 1, 5, 12, 0, tzinfo=UTC)  # the incident is opened
OPENED = IncidentRow(id="inc-1", title="untitled incident", opened_at=T0.timestamp())


def warning(pod: str, reason: str, minutes_ago: float) -> dict[str, Any]:
    when = (T0 - timedelta(minutes=minutes_ago)).strftime("%Y-%m-%dT%H:%M:%SZ")
    return {
        "reason": reason,
        "message": "m",
        "firstTimestamp": when,
        "lastTimestamp": T0.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "count": 5,
        "involvedObject": {"kind": "Pod", "name": pod},
    }


def rollout(name: str, revision: int, minutes_ago: float) -> Rollout:
    return Rollout(name, revision, T0 - timedelta(minutes=minutes_ago), (f"reg/{name}:{revision}",))


def busy() -> ClusterFacts:
    """svc-oom OOMs for four days; svc-137's revision 2 came 30 minutes ago and fails; quiet ones were created."""
    facts = ClusterFacts(
        warnings=[warning("svc-oom-1-a", "OOMKilling", 4 * 24 * 60), warning("svc-137-2-b", "BackOff", 29)],
        failing=["svc-oom", "svc-137"],
        available={"svc-oom": "0/1", "svc-137": "1/1", "quiet-a": "1/1", "api": "2/2"},
    )
    facts.standing = standing_since(facts, OPENED)
    return facts


def test_a_failure_standing_since_days_sets_no_start_and_is_said_as_standing() -> None:
    facts = busy()
    assert list(facts.standing) == ["svc-oom"]
    started = start_time(OPENED, facts, [])
    assert started is not None and started.at == T0 - timedelta(minutes=29), started
    texts = [e.text for e in cluster_entries(facts, [], set())]
    assert any(
        t.startswith("first OOMKilling warning, on pod/svc-oom-1-a (a standing failure of svc-oom") for t in texts
    )
    assert any(t.startswith("first BackOff warning, on pod/svc-137-2-b: ") for t in texts), texts
    # Only a standing failure: the incident starts when it was opened, and says what is older.
    alone = ClusterFacts(warnings=facts.warnings[:1], failing=["svc-oom"])
    alone.standing = standing_since(alone, OPENED)
    started = start_time(OPENED, alone, [])
    assert started is not None and started.at == T0, started
    assert "svc-oom has failed since 2030-01-01 12:00 UTC, a standing failure" in started.basis
    # A failure this incident acted on is its subject, however old: it began when that one did.
    assert standing_since(alone, OPENED, {"svc-oom"}) == {}
    # A new series about it (a new pod failing, a new reason) makes it this incident's.
    again = ClusterFacts(warnings=[*facts.warnings[:1], warning("svc-oom-2-c", "BackOff", 20)], failing=["svc-oom"])
    assert standing_since(again, OPENED) == {}
    # A day is the line: a failure that began an hour before the incident was opened is its start.
    recent = ClusterFacts(warnings=[warning("svc-oom-1-a", "OOMKilling", 60)], failing=["svc-oom"])
    assert standing_since(recent, OPENED) == {}


def test_creations_of_healthy_workloads_are_no_suspects_and_the_failing_ones_come_first() -> None:
    facts = busy()
    created = rollout("quiet-a", 1, 31)  # created a minute before svc-137's rollout: not failing, no suspect
    api = rollout("api", 4, 40)  # a dependency's deploy before the failure: a suspect, after svc-137's own
    late = rollout("api", 5, 10)  # after the failure began: last
    bad = rollout("svc-137", 2, 30)
    facts.rollouts = [api, created, bad, late]
    assert window_suspects([], [], [], facts, "shop") == [bad, api, late]
    # A failing workload's own creation is a suspect.
    first = rollout("svc-137", 1, 30)
    facts.rollouts = [created, first]
    assert [r.deployment for r in window_suspects([], [], [], facts, "shop")] == ["svc-137"]
    assert rollout_question(first, facts).endswith(
        ": it created svc-137, so there is nothing earlier to go back to: what in it fails (its pods' Warning events "
        "and logs)?"
    )
    # Its question asks what it changed, measured against its own first warning; another's, whether it matters.
    assert rollout_question(bad, facts).startswith(
        "Rule out deployment/svc-137 revision 2, rolled out at 11:30:00 UTC, 60 s before the first BackOff warning "
        "(on pod/svc-137-2-b): did it make svc-137 fail? What it changed: "
        "rollout_history(deployment='svc-137', revision=2)"
    )
    assert rollout_question(api, facts).startswith("Rule out deployment/api revision 4, rolled out at 11:20:00 UTC, 11")


def test_a_capped_timeline_leaves_out_what_bears_least_on_the_failing_components_and_says_what() -> None:
    facts = busy()
    facts.rollouts = [rollout(f"quiet-{i:02d}", 1, 200 - i) for i in range(40)] + [rollout("svc-137", 2, 30)]
    changes = [
        Change(kind="Service", name=f"quiet-{i:02d}", what="created", at=T0 - timedelta(minutes=5)) for i in range(3)
    ]
    journal = [TimelineEntry(at=T0, source="journal", kind="opened", text="first tool call recorded")]
    entries = journal + cluster_entries(facts, [], set()) + change_entries(changes, facts.failing)
    kept, cut, note = capped_timeline(entries)
    assert len(kept) == MAX_TIMELINE and cut.total == len(entries) == 47 and cut.truncated
    texts = [e.text for e in kept]
    assert any(t.startswith("deployment/svc-137 rolled out revision 2") for t in texts), texts
    assert sum(t.startswith("deployment/quiet-") for t in texts) == 33  # the 7 oldest creations left out
    assert texts[-1] == "first tool call recorded" and sum(t.startswith("Service quiet-") for t in texts) == 3
    assert note is not None and note.before == 1  # after svc-oom's first warning, four days earlier
    assert note.note == (
        "... 7 entries left out (7 workload(s) created that are not failing), from 01-05 08:40 to 01-05 08:46 UTC ..."
    )
    # Over the cap with nothing spare: the start and the newest part, as before.
    plain = [
        TimelineEntry(at=T0 + timedelta(seconds=i), source="journal", kind="planned", text=f"e{i}") for i in range(45)
    ]
    kept, cut, note = capped_timeline(plain)
    assert note is not None and (note.before, note.note) == (10, "... 5 entries left out here ...")
    assert [e.text for e in kept[9:11]] == ["e9", "e15"]

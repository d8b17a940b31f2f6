"""One contract, two stores: the SQLite journal and the team-mode store on the Kubernetes API (the simulated cluster,
with our CRDs applied by real kubectl) behave alike for everything the pending engine and the incident tools ask.

`stores` makes stores on one backend: `make()` is a server's, `make(approver=True)` the approve CLI's (in team mode
the human's own credentials; with SQLite the same file).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from support.fakekube import seat
from support.kube_stores import approver_kubeconfig, draft, fresh_namespace, install_crds, kube_store
from support.kubectl_runner import Kubectl

from incident_response.sim.serve import RunningSim, run_sim
from incident_response.tools.engine.journal import Journal
from incident_response.tools.engine.pending import HumanAnswer, PendingEngine, new_token
from incident_response.tools.engine.records import IncidentRow
from incident_response.tools.engine.store import REVERTED_OUTSIDE, Store

Make = Callable[..., Store]
SECRET = "ghp_" + "a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7R8"  # GitHub's token shape: the masker knows it


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[RunningSim, Kubectl]]:
    folder = tmp_path_factory.mktemp("store-sim")
    with run_sim(None, kubeconfig_path=folder / "kubeconfig") as sim:
        kubectl = Kubectl(folder / "kubeconfig", folder / "cache")
        install_crds(kubectl)
        yield sim, kubectl


@pytest.fixture(params=["sqlite", "kubernetes"])
def stores(request: pytest.FixtureRequest, tmp_path: Path) -> Make:
    if request.param == "sqlite":
        return lambda approver=False, scope=None, clock=None: Journal(tmp_path / "state", scope=scope, clock=clock)
    sim, kubectl = request.getfixturevalue("cluster")
    namespace = fresh_namespace(kubectl)
    # An approver is a person with exactly the approver role (RBAC enforced), the server the sim's admin.
    alice = approver_kubeconfig(sim, kubectl, namespace, tmp_path)
    return lambda approver=False, scope=None, clock=None: kube_store(
        sim, namespace, approver=approver, kubeconfig=alice if approver else None, scope=scope, clock=clock
    )


def plan(token: str, incident: str, **extra: Any) -> dict[str, Any]:
    now = datetime.now(UTC)
    return {
        "token": token,
        "incident": incident,
        "tool": "rollback_deployment",
        "fingerprint": "f" * 64,
        "created_at": now.isoformat(),
        "expires_at": (now + timedelta(days=1)).isoformat(),
        "command": "kubectl rollout undo deployment/web -n shop",
        "summary": "roll back web",
        **extra,
    }


def test_the_current_incident_is_opened_once_and_named_ones_take_over(stores: Make) -> None:
    store = stores()
    first = store.current_incident()
    assert store.current_incident() == first and stores().current_incident() == first
    assert store.incident(first) is not None and store.incident(first).title == "untitled incident"  # type: ignore[union-attr]
    named = store.open_incident("checkout down", incident_id="INC-7")
    assert named == "INC-7" and store.current_incident() == "INC-7"
    assert [i.id for i in store.incidents()] == ["INC-7", first]
    assert [e.kind for e in store.events(incident="INC-7")] == ["incident_opened"]
    assert store.incident("nope") is None


def test_processes_starting_at_once_open_one_incident(stores: Make) -> None:
    start, seen = threading.Barrier(8), list[str]()

    def first_call() -> None:
        store = stores()
        start.wait()
        seen.append(store.current_incident())

    threads = [threading.Thread(target=first_call) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert len(seen) == 8 and len(set(seen)) == 1
    assert [i.id for i in stores().incidents()] == [seen[0]]


def test_save_incident_writes_only_over_what_it_read(stores: Make) -> None:
    store = stores()
    row = store.incident(store.current_incident())
    assert row is not None
    declared = row.model_copy(update={"title": "payments 5xx", "severity": "SEV1", "declared_at": row.opened_at + 1})
    assert store.save_incident(row, declared, [("declared", {"severity": "SEV1"})], at=row.opened_at + 1) == declared
    assert store.save_incident(row, declared, []) is None  # `row` is no longer what the store holds
    assert store.incident(row.id) == declared and declared.status == "active"
    fresh = IncidentRow(id="", title="second", opened_at=row.opened_at + 5)
    assert store.save_incident(None, fresh, []) is None  # one is open
    closed = declared.model_copy(update={"closed_at": row.opened_at + 9})
    assert store.save_incident(declared, closed, [("resolved", {})]) == closed
    second = store.save_incident(None, fresh, [("declared", {"severity": "SEV2"})])
    assert second is not None and second.id and second.id != row.id
    assert store.current_incident() == second.id
    assert [i.id for i in store.incidents(open_only=True)] == [second.id]
    assert [e.kind for e in store.events(incident=row.id)] == ["incident_opened", "declared", "resolved"]


def test_each_namespace_has_its_own_open_incident(stores: Make) -> None:
    """F17: two teams on one server each work on their namespace's incident (tools.engine.attribution)."""
    store = stores()
    wide = store.incident(store.current_incident("team-a"))
    assert wide is not None and wide.namespace is None
    # Nothing declared for a namespace: every call goes to the one incident, as before namespaces.
    assert store.current_incident("team-b") == wide.id and store.current_incident() == wide.id
    t = wide.opened_at
    a = wide.model_copy(update={"title": "api errors", "severity": "SEV2", "namespace": "team-a", "declared_at": t})
    assert store.save_incident(wide, a, [("declared", {})]) == a  # the untitled one adopted for team-a
    assert store.current_incident("team-a") == a.id and store.current_incident() == a.id  # the only open one
    untitled = store.current_incident("team-b")  # team-b's calls no longer land on team-a's incident
    assert untitled != a.id and store.current_incident("team-c") == untitled and store.current_incident() == untitled
    b = IncidentRow(id="", title="worker OOM", severity="SEV3", namespace="team-b", opened_at=t + 1, declared_at=t + 1)
    mine = store.save_incident(None, b, [("declared", {})])
    assert mine is not None and mine.id not in (a.id, untitled) and stores().current_incident("team-b") == mine.id
    assert store.save_incident(None, b.model_copy(update={"title": "again"}), []) is None  # one open per namespace
    row = store.incident(untitled)
    assert row is not None and store.save_incident(row, row.model_copy(update={"namespace": "team-b"}), []) is None
    closed = a.model_copy(update={"closed_at": t + 2})
    assert store.save_incident(a, closed, [("resolved", {})]) == closed
    assert store.current_incident("team-b") == mine.id and store.current_incident("team-a") == untitled
    assert {i.id for i in stores().incidents(open_only=True)} == {mine.id, untitled}


def test_each_incident_scope_has_its_own_incident_and_sees_no_other(stores: Make) -> None:
    """Servers on other clusters or with other allow-lists share a store: each works on its own scope's incident."""
    shop, payments, everyone = stores(scope=lambda: "a" * 32), stores(scope=lambda: "b" * 32), stores()
    ours = shop.current_incident()
    theirs = payments.current_incident()
    assert ours != theirs and shop.current_incident() == ours and payments.current_incident() == theirs
    assert payments.incident(ours) is None and [i.id for i in payments.incidents()] == [theirs]
    row = shop.incident(ours)
    assert row is not None and row.scope == "a" * 32
    declared = row.model_copy(update={"title": "checkout down", "declared_at": row.opened_at + 1})
    assert shop.save_incident(row, declared, [("declared", {})]) is not None
    assert payments.save_incident(None, IncidentRow(id="", title="x", opened_at=row.opened_at), []) is None  # theirs
    closed = declared.model_copy(update={"closed_at": row.opened_at + 2})
    assert shop.save_incident(declared, closed, [("resolved", {})]) is not None
    assert payments.current_incident() == theirs and shop.current_incident() not in (ours, theirs)
    # A store without a scope (the approve CLI, retention) reads every scope's incidents.
    assert {ours, theirs} <= {i.id for i in everyone.incidents()}


def test_tool_calls_are_recorded_masked_and_filtered(stores: Make) -> None:
    store = stores()
    store.record_tool_call("list_pods", {"namespace": "shop"}, status="ok", duration_ms=12.5, incident="I")
    store.record_tool_call(
        "get_logs", {"note": f"token {SECRET}"}, status="error", duration_ms=1, error=f"saw {SECRET}", incident="I"
    )
    store.record_tool_call("list_pods", {}, status="ok", duration_ms=1, incident="J", cluster={"server": "https://x"})
    calls = store.tool_calls(incident="I")
    assert [(c.tool, c.status) for c in calls] == [("list_pods", "ok"), ("get_logs", "error")]
    assert calls[0].arguments == {"namespace": "shop"} and calls[0].duration_ms == 12.5
    assert SECRET not in repr(calls[1]) and calls[1].error and calls[1].error.startswith("saw ")
    assert [c.incident for c in store.tool_calls(tool="list_pods")] == ["I", "J"]
    assert store.tool_calls(incident="J")[0].cluster == {"server": "https://x"}


def test_a_transition_is_conditional_and_writes_its_event(stores: Make) -> None:
    store, token = stores(), new_token()
    store.add_command(plan(token, "I", summary=f"uses {SECRET}"), state="pending", actor="agent")
    row = store.command(token)
    assert row is not None and row.state == "pending" and row.fingerprint == "f" * 64
    assert SECRET not in repr(row.plan)
    assert not store.transition(token, ["approved"], "executing", event="claimed")
    assert not store.transition(token, ["pending"], "cancelled", event="cancelled", unexpired_at=row.expires_at)
    assert store.transition(token, ["pending"], "cancelled", event="cancelled", actor="agent")
    assert not store.transition(token, ["pending"], "cancelled", event="cancelled")
    assert store.command(token).state == "cancelled"  # type: ignore[union-attr]
    assert [(e.kind, e.actor) for e in store.events(token=token)] == [("proposed", "agent"), ("cancelled", "agent")]
    assert store.command(new_token()) is None
    assert not store.transition(new_token(), ["pending"], "cancelled", event="cancelled")


def test_commands_filter_by_state_and_incident_and_measures_follow_restores(stores: Make) -> None:
    store = stores()
    cordon, drain, other = new_token(), new_token(), new_token()
    store.add_command(plan(cordon, "I", temporary=True), state="pending")
    store.add_command(plan(drain, "I", temporary=True), state="pending")
    store.add_command(plan(other, "J"), state="pending")
    for token in (cordon, drain):
        assert store.transition(token, ["pending"], "executing", event="claimed", fields={"claimed_at": 1.0})
        assert store.transition(
            token, ["executing"], "succeeded", event="executed", fields={"finished_at": 2.0, "result": {"ok": 1}}
        )
    assert [c.token for c in store.temporary_measures(incident="I")] == [cordon, drain]
    undo = new_token()
    store.add_command(plan(undo, "I", restores=cordon), state="pending")
    store.transition(undo, ["pending"], "executing", event="claimed")
    store.transition(undo, ["executing"], "succeeded", event="executed")
    assert [c.token for c in store.temporary_measures()] == [drain]
    assert [c.token for c in store.commands(states=["pending"])] == [other]
    assert [c.token for c in store.commands(incident="I")] == [cordon, drain, undo]
    done = store.command(drain)
    assert done is not None and done.result == {"ok": 1} and done.finished_at == 2.0 and done.claimed_at == 1.0
    # A measure someone else put back is closed by its event (restore_measure records it): listed no more (F30).
    store.record_event(REVERTED_OUTSIDE, incident="I", token=drain, detail={"reverted": "by kubectl"})
    assert store.temporary_measures() == []


def test_of_twenty_concurrent_claims_one_wins(stores: Make) -> None:
    token = new_token()
    stores().add_command(plan(token, "I"), state="pending")
    start, wins = threading.Barrier(20), list[bool]()

    def claim() -> None:
        store = stores()
        start.wait()
        wins.append(store.transition(token, ["pending"], "executing", event="claimed"))

    threads = [threading.Thread(target=claim) for _ in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert sorted(wins) == [False] * 19 + [True]
    assert [e.kind for e in stores().events(token=token)].count("claimed") == 1


def test_the_seal_key_is_one_for_every_process(stores: Make) -> None:
    first = stores().seal_key()
    assert len(first) == 32 and stores().seal_key() == first


def test_a_human_decision_binds_the_plan_and_a_denial_wins(stores: Make) -> None:
    """Through the engine, as `approve` and `deny` decide: the approver's store records who and how."""
    proposal = PendingEngine(stores()).propose(draft(), seat("standard"))
    token = proposal.token
    assert token is not None
    human = PendingEngine(stores(approver=True))
    approved = human.decide(token, HumanAnswer(approved=True, approver="alice", channel="cli", reason=None))
    assert approved.status == "approved" and approved.approved_by == "alice"
    row = stores().command(token)
    assert row is not None and row.state == "approved" and row.approved_fingerprint == proposal.fingerprint
    assert (row.decided_by, row.decided_channel) == ("alice", "cli")
    again = human.decide(token, HumanAnswer(approved=True, approver="bob", channel="cli"))
    assert again.status == "approved" and again.approved_by == "alice"
    denied = human.decide(token, HumanAnswer(approved=False, approver="bob", channel="cli (non-interactive)"))
    assert denied.status == "denied"
    assert stores().command(token).state == "denied"  # type: ignore[union-attr]
    late = human.decide(token, HumanAnswer(approved=True, approver="carol", channel="cli"))
    assert late.status == "denied" and "bob" in late.message
    kinds = [(e.kind, e.actor, e.channel) for e in stores().events(token=token)]
    assert kinds == [("proposed", None, None), ("approved", "alice", "cli"), ("denied", "bob", "cli (non-interactive)")]


def test_two_humans_approving_at_once_both_read_the_one_recorded_approver(stores: Make) -> None:
    token = PendingEngine(stores()).propose(draft(), seat("standard")).token
    assert token is not None
    start, answers = threading.Barrier(4), list[Any]()

    def approve(who: str) -> None:
        human = PendingEngine(stores(approver=True))
        start.wait()
        answers.append(human.decide(token, HumanAnswer(approved=True, approver=who, channel="cli")))

    threads = [threading.Thread(target=approve, args=(who,)) for who in ("alice", "bob", "carol", "dave")]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    row = stores().command(token)
    assert row is not None and row.state == "approved" and row.decided_by in ("alice", "bob", "carol", "dave")
    assert [(a.status, a.approved_by) for a in answers] == [("approved", row.decided_by)] * 4
    assert [e.kind for e in stores().events(token=token)].count("approved") == 1


def test_a_human_deciding_after_the_expiry_is_told_it_expired(stores: Make) -> None:
    """In team mode the approver may not write the command's status, so the expiry is the clock's, not a write's."""
    proposal = PendingEngine(stores()).propose(draft(), seat("standard"))
    assert proposal.token is not None
    later = proposal.expires_at + timedelta(seconds=1)
    human = PendingEngine(stores(approver=True), clock=lambda: later)
    for approved in (True, False):
        answer = human.decide(proposal.token, HumanAnswer(approved=approved, approver="alice", channel="cli"))
        assert answer.status == "expired", answer.message
    assert [(token, row.state) for row, _ in human.live() for token in [row.token]] == []


def test_incidents_opened_at_one_instant_list_newest_first_by_insertion(stores: Make) -> None:
    store, at = stores(), 1_800_000_000.0
    made = []
    for title in ("first", "second", "third"):
        row = store.save_incident(None, IncidentRow(id="", title=title, opened_at=at), [])
        assert row is not None
        made.append(row)
        closed = store.save_incident(row, row.model_copy(update={"closed_at": at}), [])
        assert closed is not None
        made[-1] = closed
    # A later change to the oldest does not make it newer.
    assert store.save_incident(made[0], made[0].model_copy(update={"severity": "SEV3"}), []) is not None
    assert [i.title for i in store.incidents()] == ["third", "second", "first"]
    assert len({i.id for i in store.incidents()}) == 3


def test_a_claim_handed_back_leaves_the_approval_standing(stores: Make) -> None:
    """confirm hands the claim back when it could not re-read the target (nothing ran): the same approved token
    can be confirmed again, approved by the same human."""
    token = PendingEngine(stores()).propose(draft(), seat("standard")).token
    assert token is not None
    PendingEngine(stores(approver=True)).decide(token, HumanAnswer(approved=True, approver="alice", channel="cli"))
    server = stores()
    assert server.transition(token, ["approved"], "executing", event="claimed", fields={"claimed_at": 1.0})
    assert server.transition(token, ["executing"], "approved", event="released", detail={"error": "timeout"})
    row = server.command(token)
    assert row is not None and (row.state, row.decided_by, row.decided_channel) == ("approved", "alice", "cli")
    assert server.transition(token, ["approved"], "executing", event="claimed")
    assert [e.kind for e in server.events(token=token)] == ["proposed", "approved", "claimed", "released", "claimed"]


def test_a_store_dates_what_it_writes_by_the_clock_it_was_given(stores: Make) -> None:
    later = 1_900_000_000.0  # 2030: far from the wall clock
    store = stores(clock=lambda: later)
    incident = store.open_incident("checkout down")
    store.record_tool_call("list_pods", {}, status="ok", duration_ms=1, incident=incident)
    store.add_command(plan(new_token(), incident), state="pending")
    store.record_event("assessed", incident=incident)
    row = store.incident(incident)
    assert row is not None and row.opened_at == later
    assert [c.at for c in store.tool_calls(incident=incident)] == [later]
    assert {e.at for e in store.events(incident=incident)} == {later}

"""Team mode reads the journal once per tool call (tools/engine/call_reads.py), and stays right when other
engineers' processes write the same journal during that call: an incident another process opens meanwhile is adopted,
not doubled; an approval made meanwhile is what a confirm acts on; of two replicas confirming at once one wins."""

from __future__ import annotations

import contextvars
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from typing import Any, TypeVar, cast

import pytest
from support.fakekube import seat
from support.kube_stores import draft, fresh_namespace, install_crds, kube_store
from support.kubectl_runner import Kubectl

from incident_response.sim.serve import RunningSim, run_sim
from incident_response.tools.engine import call_reads
from incident_response.tools.engine import kube_objects as objects
from incident_response.tools.engine.kube_objects import ENTRIES
from incident_response.tools.engine.kube_retention import compact
from incident_response.tools.engine.kube_store import KubeStore
from incident_response.tools.engine.pending import HumanAnswer, PendingEngine
from incident_response.tools.kube.client import RealKube

T = TypeVar("T")
DAY = 86400.0


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[RunningSim, Kubectl]]:
    folder = tmp_path_factory.mktemp("journal-read-once")
    with run_sim(None, kubeconfig_path=folder / "kubeconfig") as sim:
        kubectl = Kubectl(folder / "kubeconfig", folder / "cache")
        install_crds(kubectl)
        yield sim, kubectl


class Call:
    """One tool call of one server process: its own context, holding its own journal memo, for as long as the test
    keeps it (the server opens one per tool call)."""

    def __init__(self) -> None:
        self.context = contextvars.Context()
        self.memo = self.context.run(self._open)

    def _open(self) -> call_reads.Memo:
        self._opened: AbstractContextManager[call_reads.Memo] = call_reads.one_call()
        return self._opened.__enter__()

    def run(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        return self.context.run(fn, *args, **kwargs)

    def __enter__(self) -> Call:
        return self

    def __exit__(self, *exc: object) -> None:
        self.context.run(self._opened.__exit__, None, None, None)


def elsewhere(fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """Another process's step: no call memo of ours."""
    return contextvars.Context().run(fn, *args, **kwargs)


class Requests:
    """The store's journal GETs, by path and query."""

    def __init__(self, store: KubeStore) -> None:
        self.gets: list[str] = []
        kube = cast(RealKube, store.kube)
        sent = kube._request
        lock = threading.Lock()

        def counted(method: str, path: str, **kwargs: Any) -> bytes:
            if method == "GET":
                with lock:
                    self.gets.append(f"{path}?{kwargs.get('query')}")
            return sent(method, path, **kwargs)

        kube._request = counted  # type: ignore[method-assign]


def test_one_call_asks_the_api_each_journal_question_once(cluster: tuple[RunningSim, Kubectl]) -> None:
    sim, kubectl = cluster
    namespace = fresh_namespace(kubectl)
    store = kube_store(sim, namespace)
    incident = store.current_incident("shop")
    requests = Requests(store)
    with Call() as call:
        for _ in range(3):  # an assessment asks these from three places
            assert call.run(store.current_incident, "shop") == incident
            call.run(store.commands, states=["succeeded"], incident=incident)
            call.run(store.events, incident=incident)
        assert requests.gets and len(requests.gets) == len(set(requests.gets)), requests.gets
        assert call.memo.hits > len(requests.gets)
        asked = len(requests.gets)
        store.current_incident("shop")  # outside the call: asked again
        assert len(requests.gets) == asked + 1


def test_an_incident_another_process_opens_during_the_call_is_adopted_not_doubled(
    cluster: tuple[RunningSim, Kubectl],
) -> None:
    """B's call read 'no open incident' before A opened one: B's own opening reads the incidents again (not the
    memo), finds A's and joins it."""
    sim, kubectl = cluster
    namespace = fresh_namespace(kubectl)
    a, b = kube_store(sim, namespace), kube_store(sim, namespace)
    with Call() as call:
        assert call.run(b.incidents, open_only=True) == []
        opened = elsewhere(a.current_incident, "shop")
        assert call.run(b.current_incident, "shop") == opened
        assert [r.id for r in b.incidents()] == [opened]


def test_an_approval_made_during_the_call_is_what_the_confirm_acts_on(cluster: tuple[RunningSim, Kubectl]) -> None:
    sim, kubectl = cluster
    namespace = fresh_namespace(kubectl)
    server = kube_store(sim, namespace)
    token = PendingEngine(server).propose(draft(), seat("standard")).token
    assert token is not None
    with Call() as call:
        assert [c.state for c in call.run(server.commands)] == ["pending"]  # the call's reads, kept in its memo
        before = call.run(server.command, token)
        assert before is not None and before.state == "pending"
        human = PendingEngine(kube_store(sim, namespace, approver=True))
        elsewhere(human.decide, token, HumanAnswer(approved=True, approver="alice@example.com", channel="cli"))
        row = call.run(server.command, token)
        assert row is not None and (row.state, row.decided_by) == ("approved", "alice@example.com")
        claimed = call.run(server.transition, token, ("approved",), "executing", event="claimed")
        assert claimed
        assert [c.state for c in call.run(server.commands)] == ["executing"]  # the claim forgot the call's list


def test_of_two_replicas_confirming_after_reading_the_same_approval_one_claims_it(
    cluster: tuple[RunningSim, Kubectl],
) -> None:
    """Both read the command approved; the claim re-reads it from the API, and the write carries the version it read:
    the later one loses, whatever its memo said."""
    sim, kubectl = cluster
    namespace = fresh_namespace(kubectl)
    first, second = kube_store(sim, namespace), kube_store(sim, namespace)
    token = PendingEngine(first).propose(draft(), seat("standard")).token
    assert token is not None
    human = PendingEngine(kube_store(sim, namespace, approver=True))
    human.decide(token, HumanAnswer(approved=True, approver="alice@example.com", channel="cli"))
    with Call() as one, Call() as other:
        for call, store in ((one, first), (other, second)):
            assert [c.state for c in call.run(store.commands)] == ["approved"]
            row = call.run(store.command, token)
            assert row is not None and row.state == "approved"
        won = [
            one.run(first.transition, token, ("approved",), "executing", event="claimed"),
            other.run(second.transition, token, ("approved",), "executing", event="claimed"),
        ]
        assert won == [True, False]
        assert [e.kind for e in first.events(token=token)].count("claimed") == 1


def test_a_call_asks_for_no_retention_summary_of_an_incident_it_read_open(cluster: tuple[RunningSim, Kubectl]) -> None:
    """Retention folds only incidents resolved at least 0.05 days before, and a resolved incident stays resolved: one
    the call listed open has no summary. A resolved one's summary is still read, and merged into its events."""
    sim, kubectl = cluster
    namespace = fresh_namespace(kubectl)
    store = kube_store(sim, namespace)
    folded = store.current_incident("shop")
    store.record_event("note", incident=folded, detail={"text": "kept in the summary"})
    before = store.incident(folded)
    assert before is not None
    assert store.save_incident(before, before.model_copy(update={"closed_at": time.time()}), [("resolved", {})])
    assert compact(store, now=time.time() + 2 * DAY, retention=DAY) == [folded]
    current = store.current_incident("shop")
    requests = Requests(store)
    with Call() as call:
        call.run(store.incidents)
        assert [e.kind for e in call.run(store.events, incident=current)] == ["incident_opened"]
        assert not [r for r in requests.gets if "summary-" in r], requests.gets
        assert "note" in [e.kind for e in call.run(store.events, incident=folded)]
        assert [r for r in requests.gets if f"summary-{folded}" in r]


def test_a_narrower_list_comes_from_a_broader_one_the_call_read(cluster: tuple[RunningSim, Kubectl]) -> None:
    """verify_recovery lists every command, then the incident's: the second is the first filtered by its labels, as
    the API filters, with no request; the same rows as the API's own answer."""
    sim, kubectl = cluster
    namespace = fresh_namespace(kubectl)
    store = kube_store(sim, namespace)
    engine = PendingEngine(store)
    mine = store.current_incident("shop")
    other = store.open_incident("another team's incident")
    for incident in (mine, other, mine):
        engine.propose(draft(), seat("standard"), incident=incident)
    store.record_event("note", incident=mine)
    store.record_event("note", incident=other)
    requests = Requests(store)
    with Call() as call:
        call.run(store.incidents)  # as every call does first (its incident)
        every = call.run(store.commands)
        events = call.run(store.list_objects, ENTRIES, type="event")
        asked = len(requests.gets)
        narrowed = call.run(store.commands, incident=mine)
        mine_events = call.run(store.list_objects, ENTRIES, type="event", incident=mine)
        assert len(requests.gets) == asked, requests.gets[asked:]
    assert len(every) == 3 and len(events) == 2
    assert [c.token for c in narrowed] == [c.token for c in store.commands(incident=mine)]
    assert len(narrowed) == 2 and {c.incident for c in narrowed} == {mine}
    assert [objects.name_of(o) for o in mine_events] == [
        objects.name_of(o) for o in store.list_objects(ENTRIES, type="event", incident=mine)
    ]
    assert len(mine_events) == 1

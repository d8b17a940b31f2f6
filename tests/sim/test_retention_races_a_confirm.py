"""Retention racing a confirm: a replica compacting a long-resolved incident reads a still-approved command whose
time is up by its own clock (folded as expired), while another replica, whose clock says it is not expired yet,
claims and runs it. The compaction must not then delete the command's object: the journal would say `expired` for a
command that ran. The delete carries the resourceVersion the compaction read; a changed object stays for the next
round, which folds what really happened."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest
from support.fakekube import FakeKube, seat
from support.kube_stores import draft, fresh_namespace, install_crds, kube_store
from support.kubectl_runner import Kubectl

from incident_response.sim.serve import RunningSim, run_sim
from incident_response.tools.engine.kube_objects import COMMANDS
from incident_response.tools.engine.kube_retention import compact
from incident_response.tools.engine.pending import HumanAnswer, PendingEngine

DAY = 86400.0


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[RunningSim, Kubectl]]:
    folder = tmp_path_factory.mktemp("retention-race")
    with run_sim(None, kubeconfig_path=folder / "kubeconfig") as sim:
        kubectl = Kubectl(folder / "kubeconfig", folder / "cache")
        install_crds(kubectl)
        yield sim, kubectl


def test_a_command_claimed_while_its_incident_is_compacted_is_not_recorded_as_expired(
    cluster: tuple[RunningSim, Kubectl], monkeypatch: pytest.MonkeyPatch
) -> None:
    sim, kubectl = cluster
    namespace = fresh_namespace(kubectl)
    store = kube_store(sim, namespace)
    server = PendingEngine(store)
    token = server.propose(draft(), seat("standard")).token
    assert token is not None
    human = PendingEngine(kube_store(sim, namespace, approver=True))
    assert human.decide(token, HumanAnswer(approved=True, approver="alice", channel="cli")).status == "approved"
    incident = store.incident(store.current_incident())
    assert incident is not None
    assert store.save_incident(incident, incident.model_copy(update={"closed_at": time.time()}), []) is not None

    outcomes: list[str] = []
    delete = store.delete_object

    def another_replica_confirms_first(resource: str, name: str, **options: Any) -> Any:
        if resource == COMMANDS and not outcomes:
            confirmed = PendingEngine(kube_store(sim, namespace)).confirm(token, here=seat("standard"), kube=FakeKube())
            outcomes.append(confirmed.status)
        return delete(resource, name, **options)

    monkeypatch.setattr(store, "delete_object", another_replica_confirms_first)
    compact(store, now=time.time() + 2 * DAY, retention=DAY)  # this replica's clock: long after the expiry

    assert outcomes and outcomes[0] not in ("expired", "used", "unknown_token"), outcomes
    row = kube_store(sim, namespace).command(token)
    assert row is not None and row.state == outcomes[0], (row.state if row else None, outcomes)
    compact(kube_store(sim, namespace), now=time.time() + 2 * DAY, retention=DAY)  # the next round folds it
    row = kube_store(sim, namespace).command(token)
    assert row is not None and row.state == outcomes[0]
    assert kubectl.json("get", "pendingcommands", "-n", namespace)["items"] == []

"""Team mode: a human's deny that lands between a confirm's read of the command and its claim write. A decision is
an Approval object apart from the command, so the claim's write (guarded by the command's resourceVersion only) did
not see it: the human was answered "denied" and the command was claimed and run all the same. The claim now reads
the deny again once it holds the command, and hands it back as denied: either the deny is seen, or the deny's own
check sees the claim and says it came too late. Never both "denied" and run."""

from __future__ import annotations

import contextvars
from collections.abc import Iterator
from typing import Any

import pytest
from support.fakekube import seat
from support.kube_stores import draft, fresh_namespace, install_crds, kube_store
from support.kubectl_runner import Kubectl

from incident_response.sim.serve import RunningSim, run_sim
from incident_response.tools.engine.kube_objects import COMMANDS
from incident_response.tools.engine.pending import CommandResult, HumanAnswer, PendingEngine


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[RunningSim, Kubectl]]:
    folder = tmp_path_factory.mktemp("deny-during-claim")
    with run_sim(None, kubeconfig_path=folder / "kubeconfig") as sim:
        kubectl = Kubectl(folder / "kubeconfig", folder / "cache")
        install_crds(kubectl)
        yield sim, kubectl


@pytest.mark.parametrize("approved_first", [True, False], ids=["approved-then-denied", "full-mode-denied"])
def test_a_deny_made_while_the_claim_is_written_is_never_answered_denied_and_run(
    cluster: tuple[RunningSim, Kubectl], approved_first: bool
) -> None:
    sim, kubectl = cluster
    namespace = fresh_namespace(kubectl)
    server = kube_store(sim, namespace)
    mode = "standard" if approved_first else "full"
    token = PendingEngine(server).propose(draft(), seat(mode)).token
    assert token is not None
    human = PendingEngine(kube_store(sim, namespace, approver=True))
    if approved_first:
        human.decide(token, HumanAnswer(approved=True, approver="alice@example.com", channel="cli"))
    denied: list[CommandResult] = []
    swap = server.swap

    def deny_first(resource: str, obj: dict[str, Any], change: dict[str, Any], **kwargs: Any) -> bool:
        # The claim's write is on its way: bob's deny reaches the API server first.
        if resource == COMMANDS and (change.get("status") or {}).get("state") == "executing" and not denied:
            answer = HumanAnswer(approved=False, approver="bob@example.com", channel="cli", reason="stop")
            denied.append(contextvars.Context().run(human.decide, token, answer))
        return swap(resource, obj, change, **kwargs)

    server.swap = deny_first  # type: ignore[method-assign]
    claimed = server.transition(token, ("approved", "pending"), "executing", event="claimed", fields={})
    assert denied, "the claim wrote nothing"
    row = server.command(token)
    assert row is not None
    if denied[0].status == "denied":
        assert not claimed, f"bob was told {denied[0].message!r} and the command was claimed to run"
        assert (row.state, row.decided_by) == ("denied", "bob@example.com")
        assert "handed_back" in [e.kind for e in server.events(token=token)]  # the handoff says it did not run
    else:
        assert claimed and row.state == "executing"

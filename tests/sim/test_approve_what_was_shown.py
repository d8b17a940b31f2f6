"""A human approves exactly the plan `approve` showed them, never what the store holds a moment later.

The team-mode store lets the server's ServiceAccount delete and create PendingCommands (it plans, retention
deletes), so between the plan shown at the y/N prompt and the Approval written, the object under the human's token
could be replaced by another plan with its own consistent fingerprint. The approval must bind to the plan shown.
"""

from __future__ import annotations

import io
import json
import sys
from collections.abc import Iterator

import pytest
from support.fakekube import FakeKube, seat
from support.kube_stores import draft, fresh_namespace, install_crds, kube_store
from support.kubectl_runner import Kubectl

from incident_response.server import approvals_command
from incident_response.server.cli import main
from incident_response.sim.serve import RunningSim, run_sim
from incident_response.tools.engine.kube_objects import command_name
from incident_response.tools.engine.pending import PendingEngine
from incident_response.tools.engine.plan import KubeWrite, PlanDraft, Step, Target


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[RunningSim, Kubectl]]:
    folder = tmp_path_factory.mktemp("approve-shown")
    with run_sim(None, kubeconfig_path=folder / "kubeconfig") as sim:
        kubectl = Kubectl(folder / "kubeconfig", folder / "cache")
        install_crds(kubectl)
        yield sim, kubectl


def other_plan() -> PlanDraft:
    """What the swapped object holds: another change to another deployment."""
    write = KubeWrite(verb="delete", resource="deployments", namespace="shop", name="payments", body={})
    step = Step(description="delete", command="kubectl delete deployment/payments -n shop", action=write)
    return PlanDraft(
        tool="scale_deployment",
        summary="delete payments",
        target=Target(kind="Deployment", namespace="shop", name="payments"),
        steps=[step],
    )


def swap(sim: RunningSim, kubectl: Kubectl, namespace: str, token: str) -> None:
    """Replace the PendingCommand of `token` by a consistent one for another plan (delete + create: the verbs the
    server's ServiceAccount holds on pendingcommands)."""
    elsewhere = fresh_namespace(kubectl)
    PendingEngine(kube_store(sim, elsewhere), token_factory=lambda: token).propose(other_plan(), seat("standard"))
    made = kubectl.json("get", "pendingcommands", command_name(token), "-n", elsewhere)
    kubectl.run("delete", "pendingcommands", command_name(token), "-n", namespace)
    body = {"apiVersion": made["apiVersion"], "kind": made["kind"], "metadata": {"name": command_name(token)}}
    kubectl.run("create", "-n", namespace, "-f", "-", stdin=json.dumps(body | {"spec": made["spec"]}))


def test_a_plan_swapped_while_the_human_reads_it_is_not_approved(
    cluster: tuple[RunningSim, Kubectl], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    sim, kubectl = cluster
    namespace = fresh_namespace(kubectl)
    server = PendingEngine(kube_store(sim, namespace))
    token = server.propose(draft(), seat("standard")).token
    assert token is not None
    questions: list[str] = []

    def human_reads_then_answers_yes(question: str) -> bool:
        questions.append(capsys.readouterr().out)  # what `approve` showed: the scale of web
        swap(sim, kubectl, namespace, token)
        return True

    monkeypatch.setattr(approvals_command, "ask", human_reads_then_answers_yes)
    monkeypatch.setattr(sys, "stdin", Terminal("y\n"))
    assert sim.kubeconfig_path is not None
    argv = ["approve", token, "--store", "kubernetes", "--store-namespace", namespace]
    with pytest.raises(SystemExit) as exit_info:
        main([*argv, "--kubeconfig", str(sim.kubeconfig_path)])
    said = capsys.readouterr()

    assert questions and "kubectl scale deployment/web" in questions[0]
    assert "deployment/payments" not in questions[0]
    assert exit_info.value.code == 1, said.out + said.err
    assert "changed" in said.out + said.err, said.out + said.err
    assert kubectl.json("get", "approvals.incident-response.dev", "-n", namespace)["items"] == []
    result = server.confirm(token, here=seat("standard"), kube=FakeKube())
    assert result.status == "awaiting_approval", result.message

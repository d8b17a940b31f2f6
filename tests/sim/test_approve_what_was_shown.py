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
from pathlib import Path

import pytest
from support.fakekube import FakeKube, seat
from support.kube_stores import approver_kubeconfig, draft, fresh_namespace, install_crds, kube_store
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


def approve_as(kubeconfig: Path, token: str, namespace: str, capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    argv = ["approve", token, "--yes", "--store", "kubernetes", "--store-namespace", namespace]
    with pytest.raises(SystemExit) as exit_info:
        main([*argv, "--kubeconfig", str(kubeconfig)])
    said = capsys.readouterr()
    return int(exit_info.value.code or 0), said.out + said.err


def test_an_approver_in_the_wrong_namespace_is_told_to_check_it(
    cluster: tuple[RunningSim, Kubectl],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """alice may approve in the server's namespace; run against another one, the refusal names the namespace she
    used and --store-namespace, not only "ask an admin for the role" (she has it), and nothing is decided."""
    sim, kubectl = cluster
    home, elsewhere = fresh_namespace(kubectl), fresh_namespace(kubectl)
    token = PendingEngine(kube_store(sim, home)).propose(draft(), seat("standard")).token
    assert token is not None
    alice = approver_kubeconfig(sim, kubectl, home, tmp_path)
    monkeypatch.setattr(sys, "stdin", io.StringIO(""))
    monkeypatch.setattr(approvals_command, "controlling_terminal", lambda: False)  # a program, even under a terminal

    code, said = approve_as(alice, token, elsewhere, capsys)

    assert code == 1, said
    assert f"namespace {elsewhere!r}" in said and "--store-namespace" in said, said
    assert kubectl.json("get", "approvals.incident-response.dev", "-n", home)["items"] == []
    assert approve_as(alice, token, home, capsys)[0] == 0  # the right namespace: approved


def test_a_missing_kubeconfig_is_the_humans_to_fix_not_the_servers(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(sys, "stdin", io.StringIO(""))
    code, said = approve_as(tmp_path / "absent", "irm_" + "a" * 43, "incident-response", capsys)
    assert code == 1 and "does not exist" in said, said
    assert "server_info" not in said and "start the server" not in said, said
    assert "--kubeconfig" in said, said


def test_a_token_unknown_in_the_namespace_given_names_that_namespace(
    cluster: tuple[RunningSim, Kubectl], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """An admin (who may read everywhere) approving in the wrong namespace is told which store was searched."""
    sim, kubectl = cluster
    home, elsewhere = fresh_namespace(kubectl), fresh_namespace(kubectl)
    token = PendingEngine(kube_store(sim, home)).propose(draft(), seat("standard")).token
    assert token is not None and sim.kubeconfig_path is not None
    monkeypatch.setattr(sys, "stdin", io.StringIO(""))
    code, said = approve_as(sim.kubeconfig_path, token, elsewhere, capsys)
    assert code == 1 and "unknown_token" in said and f"--store-namespace {elsewhere}" in said, said

"""Team mode's store end to end: two `serve --http --store kubernetes` processes on one simulated cluster, the
journal as our CRDs' objects in one namespace, a human approving with `approve TOKEN --store kubernetes` as a
process, and confirms racing on both replicas."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import anyio
import pytest
from support.fakekube import seat
from support.http_server import LAUNCHER, ONCALL, clean_env, client_as, http_server
from support.kube_stores import CRDS, draft, install_crds, kube_store, store_namespace
from support.kubectl_runner import Kubectl

from incident_response.sim.resources import DEPLOYMENTS
from incident_response.sim.serve import RunningSim
from incident_response.tools.engine.pending import PendingEngine

pytestmark = pytest.mark.anyio
NAMESPACE = "incident-response"
REVISION = "deployment.kubernetes.io/revision"
DEPLOY = CRDS.parent


def team_cluster(sim: RunningSim, tmp_path: Path) -> Kubectl:
    assert sim.kubeconfig_path is not None
    kubectl = Kubectl(sim.kubeconfig_path, tmp_path / "kubectl-cache")
    install_crds(kubectl)
    store_namespace(kubectl, NAMESPACE)
    return kubectl


def store_flags() -> tuple[str, ...]:
    return ("--store", "kubernetes", "--store-namespace", NAMESPACE)


def serve_flags() -> tuple[str, ...]:
    """The store under test; clients keep the static bearer credential (team-auth's tests cover --auth kubernetes)."""
    return (*store_flags(), "--auth", "static")


def cli(sim: RunningSim, tmp_path: Path, *argv: str) -> subprocess.CompletedProcess[str]:
    """`incident-response-mcp ARGV --store kubernetes ...` as the admin runs it, without a terminal."""
    assert sim.kubeconfig_path is not None
    return as_user(sim, tmp_path, sim.kubeconfig_path, *argv)


def revision(sim: RunningSim) -> int:
    with sim.store.lock:
        deployment = sim.store.get(DEPLOYMENTS, "shop", "checkout")
    return int(deployment["metadata"]["annotations"][REVISION])


async def test_twenty_concurrent_confirms_over_two_replicas_run_the_command_once(
    sim_factory: Callable[..., RunningSim], tmp_path: Path
) -> None:
    sim = sim_factory("bad-deploy")
    kubectl = team_cluster(sim, tmp_path)
    before = revision(sim)
    for replica in ("a", "b"):
        (tmp_path / replica).mkdir()
    with (
        http_server(sim, tmp_path / "a", *serve_flags()) as first,
        http_server(sim, tmp_path / "b", *serve_flags()) as second,
    ):
        async with client_as(first, ONCALL) as planner:
            planned = await planner.call_tool("rollback_deployment", {"namespace": "shop", "deployment": "checkout"})
        assert planned.structured_content is not None, planned.content
        token = planned.structured_content["token"]
        assert (
            f"approve {token} --store kubernetes --store-namespace {NAMESPACE}"
            in (planned.structured_content["next_step"])
        )
        approved = cli(sim, tmp_path, "approve", token, "--yes")
        assert approved.returncode == 0, approved.stderr
        results: list[dict[str, Any]] = []
        with anyio.fail_after(120):
            async with client_as(first, ONCALL) as one, client_as(second, ONCALL) as other:

                async def confirm(client: Any) -> None:
                    result = await client.call_tool("confirm_command", {"token": token})
                    assert result.structured_content is not None, result.content
                    results.append(result.structured_content)

                async with anyio.create_task_group() as group:
                    for n in range(20):
                        group.start_soon(confirm, (one, other)[n % 2])
    statuses = sorted(r["status"] for r in results)
    assert statuses == ["succeeded"] + ["used"] * 19, statuses
    assert revision(sim) == before + 1  # one rollback reached the cluster
    journal = kube_store(sim, NAMESPACE)
    kinds = [e.kind for e in journal.events(token=token)]
    assert kinds.count("claimed") == 1 and kinds.count("executed") == 1, kinds
    row = journal.command(token)
    assert row is not None and row.state == "succeeded" and row.decided_channel == "cli (non-interactive)"
    # The approver is who the API server says the kubeconfig's credentials are, as real kubectl asks it.
    assert row.decided_by == kubectl.run("auth", "whoami", "-o", "jsonpath={.status.userInfo.username}").stdout
    shown = {r["NAME"]: r for r in kubectl.table("pendingcommands", "-n", NAMESPACE)}
    assert [(r["STATE"], r["TOOL"]) for r in shown.values()] == [("succeeded", "rollback_deployment")]
    assert next(iter(shown.values()))["APPROVED-BY"] == row.decided_by


def kubeconfig_of(sim: RunningSim, tmp_path: Path, user: str) -> Path:
    return sim.write_kubeconfig(tmp_path / f"{user}.kubeconfig", sim.mint_user_token(user, ("oncall",)))


def as_user(sim: RunningSim, tmp_path: Path, kubeconfig: Path, *argv: str) -> subprocess.CompletedProcess[str]:
    """`incident-response-mcp ARGV --store kubernetes ...` with `kubeconfig`'s identity, without a terminal."""
    command = [sys.executable, "-c", LAUNCHER, *argv, *store_flags(), "--kubeconfig", str(kubeconfig)]
    return subprocess.run(
        command,
        capture_output=True,
        text=True,
        timeout=120,
        stdin=subprocess.DEVNULL,
        env=clean_env(tmp_path),
        start_new_session=True,
    )


def test_who_may_approve_is_the_cluster_rbac_and_the_journal_names_them(
    sim_factory: Callable[..., RunningSim], tmp_path: Path
) -> None:
    sim = sim_factory("healthy")
    kubectl = team_cluster(sim, tmp_path)
    rbac = DEPLOY / "rbac"
    kubectl.run("apply", "-f", str(rbac / "approver.yaml"))
    kubectl.run("apply", "-n", NAMESPACE, "-f", str(rbac / "store.yaml"), "-f", str(rbac / "server-bindings.yaml"))
    kubectl.run("create", "serviceaccount", "incident-response-mcp", "-n", NAMESPACE)
    kubectl.run(
        "create", "rolebinding", "alice-approves", "--clusterrole=incident-response-approver", "--user=alice",
        "-n", NAMESPACE,
    )  # fmt: skip
    server = "system:serviceaccount:incident-response:incident-response-mcp"
    for verb in ("create", "update", "patch"):
        can = kubectl.run("auth", "can-i", verb, "approvals.incident-response.dev", "-n", NAMESPACE, f"--as={server}",
                          check=False)  # fmt: skip
        assert can.stdout.strip() == "no", (verb, can.stdout)
    token = PendingEngine(kube_store(sim, NAMESPACE)).propose(draft(), seat("standard")).token
    assert token is not None
    alice, bob = kubeconfig_of(sim, tmp_path, "alice"), kubeconfig_of(sim, tmp_path, "bob")

    refused = as_user(sim, tmp_path, bob, "approve", token, "--yes")
    assert refused.returncode == 1 and "incident-response-approver" in refused.stderr, refused.stderr
    assert kubectl.json("get", "approvals.incident-response.dev", "-n", NAMESPACE)["items"] == []

    listed = as_user(sim, tmp_path, alice, "pending")
    assert listed.returncode == 0 and token in listed.stdout, listed.stderr
    unasked = as_user(sim, tmp_path, alice, "approve", token)  # no terminal to answer y/N, and no --yes
    assert unasked.returncode == 2 and "--yes" in unasked.stderr, unasked.stderr
    assert kubectl.json("get", "approvals.incident-response.dev", "-n", NAMESPACE)["items"] == []
    approved = as_user(sim, tmp_path, alice, "approve", token, "--yes")
    assert approved.returncode == 0, approved.stderr
    row = kube_store(sim, NAMESPACE).command(token)
    assert row is not None and row.state == "approved"
    assert (row.decided_by, row.decided_channel) == ("alice", "cli (non-interactive)")
    shown = kubectl.table("approvals", "-n", NAMESPACE)
    assert [(r["DECISION"], r["APPROVER"]) for r in shown] == [("Approved", "alice")]

    denied = as_user(sim, tmp_path, alice, "deny", token, "--reason", "wrong deployment")
    assert denied.returncode == 0, denied.stderr
    assert kube_store(sim, NAMESPACE).command(token).state == "denied"  # type: ignore[union-attr]
    assert as_user(sim, tmp_path, alice, "approve", token, "--yes").returncode == 1  # a denial stands

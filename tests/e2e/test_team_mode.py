"""Issue 16's "done when": team mode on the simulated cluster, enforcing RBAC, after `kubectl apply -k deploy/`.

Two `serve --http --store kubernetes` replicas run as the deployment's ServiceAccount. A bot whose token may read,
plan and confirm plans a rollback through one; alice approves it with `incident-response-mcp approve --store
kubernetes --yes` under her own credentials; the bot's concurrent confirms through both replicas run it exactly
once. A request without a token gets 401, and a person bound only to `view` cannot get confirm_command to run.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import anyio
import httpx2
import pytest
from mcp import Client
from mcp.types import CallToolResult, TextContent
from support.confirm_env import DEPLOYMENT, NAMESPACE
from support.http_server import LAUNCHER, client_as, until_ready
from support.kubectl_runner import Kubectl
from support.mitigation_env import call
from support.team import DEPLOY, SERVER_ACCOUNT, kubeconfig_as, replicas, service_account_token
from support.team import NAMESPACE as HOME

from incident_response.sim.serve import RunningSim

pytestmark = pytest.mark.anyio

CONFIRMS_PER_REPLICA = 10


def text_of(result: CallToolResult) -> str:
    assert isinstance(result.content[0], TextContent)
    return result.content[0].text


def image(kubectl: Kubectl) -> str:
    deployment = kubectl.json("get", "deployment", DEPLOYMENT, "-n", NAMESPACE)
    return str(deployment["spec"]["template"]["spec"]["containers"][0]["image"])


def approve(kubeconfig: Path, token: str, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    argv = [sys.executable, "-c", LAUNCHER, "approve", token, "--yes", "--store", "kubernetes"]
    argv += ["--store-namespace", HOME, "--kubeconfig", str(kubeconfig)]
    env = {"HOME": str(tmp_path), "PATH": "/usr/bin:/bin"}
    return subprocess.run(
        argv, capture_output=True, text=True, timeout=120, env=env, stdin=subprocess.DEVNULL, start_new_session=True
    )


def grant(admin: Kubectl, name: str, clusterrole: str, *subject: str) -> None:
    admin.run("create", "rolebinding", name, "--clusterrole", clusterrole, *subject, "-n", HOME)


async def test_a_team_plans_approves_and_confirms_once_across_two_replicas_under_rbac(
    sim_factory: Callable[..., RunningSim], tmp_path: Path, kubectl_for: Callable[[RunningSim], Kubectl]
) -> None:
    sim = sim_factory("bad-deploy", tls=True)  # kubectl sends bearer tokens only over TLS
    admin = kubectl_for(sim)
    admin.run("apply", "-k", str(DEPLOY))
    bad = image(admin)

    # The deployment's ServiceAccount runs both replicas; a bot and two people get tokens the cluster issued.
    server_kubeconfig = kubeconfig_as(sim, tmp_path, "server", service_account_token(admin, SERVER_ACCOUNT))
    admin.run("create", "serviceaccount", "oncall-bot", "-n", HOME)
    for toolset in ("read", "plan", "confirm"):
        grant(admin, f"oncall-bot-{toolset}", f"incident-response-{toolset}", "--serviceaccount", f"{HOME}:oncall-bot")
    bot = service_account_token(admin, "oncall-bot")
    alice = sim.mint_user_token("alice", ("oncall",))
    grant(admin, "alice-approves", "incident-response-approver", "--user", "alice")
    # Everyone on call reads through the server: a ClusterRoleBinding to their group.
    admin.run(
        "create", "clusterrolebinding", "oncall-reads", "--clusterrole", "incident-response-read", "--group", "oncall"
    )
    victor = sim.mint_user_token("victor")
    admin.run("create", "clusterrolebinding", "victor-views", "--clusterrole", "view", "--user", "victor")

    with replicas(server_kubeconfig, tmp_path, 2) as (first, second):
        async with httpx2.AsyncClient(timeout=30) as http:
            listing = {"jsonrpc": "2.0", "id": 1, "method": "tools/list"}
            anonymous = await http.post(first, json=listing)
            stranger = await http.post(first, json=listing, headers={"Authorization": "Bearer " + "x" * 40})
            ready = [await until_ready(http, url.replace("/mcp", "/readyz")) for url in (first, second)]
        assert (anonymous.status_code, stranger.status_code) == (401, 401)
        assert [r.status_code for r in ready] == [200, 200], [r.text for r in ready]

        with anyio.fail_after(120):
            async with client_as(first, bot) as bot_first, client_as(second, bot) as bot_second:
                plan = await call(bot_first, "rollback_deployment", namespace=NAMESPACE, deployment=DEPLOYMENT)
                # The other replica knows the plan (one store), and waits for a human as well.
                waiting = await call(bot_second, "confirm_command", token=plan["token"])
        assert plan["status"] == "pending" and waiting["status"] == "awaiting_approval", waiting

        # The server's own ServiceAccount cannot approve: the assistant can never approve its own plan.
        refused = approve(server_kubeconfig, plan["token"], tmp_path)
        assert refused.returncode == 1 and "may not create approvals.incident-response.dev" in refused.stderr
        approved = approve(kubeconfig_as(sim, tmp_path, "alice", alice), plan["token"], tmp_path)
        assert approved.returncode == 0, approved.stderr

        # A person bound only to `view` reaches the server but cannot get confirm_command to run.
        with anyio.fail_after(60):
            async with client_as(second, victor) as viewer:
                denied = await viewer.call_tool("confirm_command", {"token": plan["token"]})
        assert denied.is_error and "forbidden (403): victor may not use the 'confirm' toolset" in text_of(denied)
        # alice reads by her group's grant, and may not plan (her server_info says so).
        with anyio.fail_after(60):
            async with client_as(first, alice) as human:
                info = await call(human, "server_info")
                pods = await call(human, "list_pods", namespace=NAMESPACE)
                planned = await human.call_tool(
                    "scale_deployment", {"namespace": NAMESPACE, "deployment": DEPLOYMENT, "replicas": 5}
                )
        assert (info["caller"], info["caller_toolsets"]) == ("HTTP principal 'alice'", ["read"])
        assert pods["pods"] and planned.is_error and "may not use the 'plan' toolset" in text_of(planned)
        assert image(admin) == bad
        generation = admin.json("get", "deployment", DEPLOYMENT, "-n", NAMESPACE)["metadata"]["generation"]

        statuses: list[str] = []
        with anyio.fail_after(180):
            async with client_as(first, bot) as one, client_as(second, bot) as other:

                async def confirm(client: Client) -> None:
                    statuses.append((await call(client, "confirm_command", token=plan["token"]))["status"])

                async with anyio.create_task_group() as tg:
                    for _ in range(CONFIRMS_PER_REPLICA):
                        tg.start_soon(confirm, one)
                        tg.start_soon(confirm, other)
    assert sorted(statuses) == ["succeeded"] + ["used"] * (2 * CONFIRMS_PER_REPLICA - 1), statuses
    assert image(admin) != bad
    assert admin.json("get", "deployment", DEPLOYMENT, "-n", NAMESPACE)["metadata"]["generation"] == generation + 1
    approval = admin.json("get", "approvals.incident-response.dev", "-n", HOME)["items"]
    assert [item["spec"]["approver"] for item in approval] == ["alice"], approval
    # `kubectl get` shows what ran and who approved it (README: Run it for a team).
    rows = [row for row in admin.table("pendingcommands", "-n", HOME) if row["TOOL"] == "rollback_deployment"]
    assert [(row["STATE"], row["APPROVED-BY"]) for row in rows] == [("succeeded", "alice")], rows

"""A program never approves its own plan in team mode, even when an admin bound its ServiceAccount to the approver
role by mistake: the bot plans through the server, approves with `incident-response-mcp approve` under its own
ServiceAccount token (the cluster lets it create the Approval), and its confirm is refused; nothing runs. A person
approving the same kind of plan is the ordinary path (tests/e2e/test_team_mode.py)."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import anyio
import pytest
from mcp.types import TextContent
from support.confirm_env import DEPLOYMENT, NAMESPACE
from support.http_server import LAUNCHER, client_as
from support.kubectl_runner import Kubectl
from support.team import DEPLOY, SERVER_ACCOUNT, kubeconfig_as, replica, service_account_token
from support.team import NAMESPACE as HOME

from incident_response.sim.serve import RunningSim

pytestmark = pytest.mark.anyio
BOT = f"system:serviceaccount:{HOME}:oncall-bot"


def image(kubectl: Kubectl) -> str:
    deployment = kubectl.json("get", "deployment", DEPLOYMENT, "-n", NAMESPACE)
    return str(deployment["spec"]["template"]["spec"]["containers"][0]["image"])


async def test_a_service_account_approving_its_own_plan_does_not_get_it_run(
    sim_factory: Callable[..., RunningSim], tmp_path: Path, kubectl_for: Callable[[RunningSim], Kubectl]
) -> None:
    sim = sim_factory("bad-deploy", tls=True)
    admin = kubectl_for(sim)
    admin.run("apply", "-k", str(DEPLOY))
    bad = image(admin)
    server = kubeconfig_as(sim, tmp_path, "server", service_account_token(admin, SERVER_ACCOUNT))
    admin.run("create", "serviceaccount", "oncall-bot", "-n", HOME)
    # The mistake: the bot may read, plan and confirm, and is an approver too.
    for role in ("read", "plan", "confirm", "approver"):
        admin.run(
            "create", "rolebinding", f"oncall-bot-{role}", "--clusterrole", f"incident-response-{role}",
            "--serviceaccount", f"{HOME}:oncall-bot", "-n", HOME,
        )  # fmt: skip
    bot = service_account_token(admin, "oncall-bot")

    with replica(server, tmp_path / "replica") as url:
        with anyio.fail_after(120):
            async with client_as(url, bot) as client:
                planned = await client.call_tool(
                    "rollback_deployment", {"namespace": NAMESPACE, "deployment": DEPLOYMENT}
                )
                assert planned.structured_content is not None, planned.content
                token = str(planned.structured_content["token"])
                argv = [sys.executable, "-c", LAUNCHER, "approve", token, "--yes", "--store", "kubernetes"]
                argv += ["--store-namespace", HOME, "--kubeconfig", str(kubeconfig_as(sim, tmp_path, "bot", bot))]
                env = {"HOME": str(tmp_path), "PATH": "/usr/bin:/bin"}
                approved = await anyio.to_thread.run_sync(
                    # The bot is a program: no terminal (on one, approve asks y/N even with --yes).
                    lambda: subprocess.run(
                        argv,
                        capture_output=True,
                        text=True,
                        timeout=120,
                        env=env,
                        stdin=subprocess.DEVNULL,
                        start_new_session=True,
                    )
                )
                assert approved.returncode == 0, approved.stderr  # the cluster let the bot create the Approval
                confirmed = await client.call_tool("confirm_command", {"token": token})

    assert confirmed.structured_content is not None, confirmed.content
    assert confirmed.structured_content["status"] == "refused", confirmed.structured_content
    assert isinstance(confirmed.content[0], TextContent) and BOT in confirmed.content[0].text
    assert image(admin) == bad

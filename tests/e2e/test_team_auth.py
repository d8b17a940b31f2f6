"""`serve --http --auth kubernetes` against the simulated cluster's own authentication and RBAC: clients present
tokens the cluster issued, TokenReview says who they are, a SubjectAccessReview per call says what they may use.
(The whole team deployment, deploy/ and the Kubernetes store, is tests/e2e/test_team_mode.py.)"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import anyio
import httpx2
import pytest
from mcp.types import CallToolResult, TextContent
from support.confirm_env import DEPLOYMENT, NAMESPACE
from support.http_server import LAUNCHER, client_as, until_ready
from support.kubectl_runner import Kubectl
from support.mitigation_env import call
from support.team import DEPLOY, kubeconfig_as, replica, service_account_token

from incident_response.sim.serve import RunningSim
from incident_response.tools.engine.journal import Journal

pytestmark = pytest.mark.anyio

HOME = "oncall"  # the server's namespace: its RoleBindings grant the toolsets
AUDIENCE = "incident-response-mcp"  # bot tokens are minted for the server: useless against the API server itself


def may_use(admin: Kubectl, user: str) -> dict[str, bool]:
    """What the cluster's RBAC answers the server's question (a SubjectAccessReview, created with kubectl) for `user`:
    `kubectl auth can-i` cannot ask it, since it maps only resources that discovery lists."""
    answers = {}
    for toolset in ("read", "plan", "confirm"):
        review = {
            "apiVersion": "authorization.k8s.io/v1",
            "kind": "SubjectAccessReview",
            "spec": {
                "user": user,
                "resourceAttributes": {
                    "group": "incident-response.dev",
                    "resource": "toolsets",
                    "name": toolset,
                    "verb": "use",
                    "namespace": HOME,
                },
            },
        }
        answer = json.loads(admin.run("create", "-o", "json", "-f", "-", stdin=json.dumps(review)).stdout)
        answers[toolset] = answer["status"].get("allowed") is True
    return answers


def text_of(result: CallToolResult) -> str:
    assert isinstance(result.content[0], TextContent)
    return result.content[0].text


def bind(admin: Kubectl, name: str, clusterrole: str, *subject: str, namespace: str | None = None) -> None:
    """A RoleBinding in `namespace`, or a ClusterRoleBinding without one."""
    where = ("rolebinding", name, "-n", namespace) if namespace else ("clusterrolebinding", name)
    admin.run("create", *where, "--clusterrole", clusterrole, *subject)


def set_up(sim: RunningSim, admin: Kubectl, tmp_path: Path) -> tuple[Path, str, str]:
    """The server's ServiceAccount (may review tokens; `edit` everywhere), the toolset roles, and a bot that may
    read, plan and confirm. Returns the server's kubeconfig, and the bot's tokens for the server and for the API."""
    admin.run("create", "namespace", HOME)
    for account in ("server", "bot"):
        admin.run("create", "serviceaccount", account, "-n", HOME)
    bind(admin, "server-reviews", "system:auth-delegator", "--serviceaccount", f"{HOME}:server")
    bind(admin, "server-acts", "edit", "--serviceaccount", f"{HOME}:server")
    admin.run("apply", "-f", str(DEPLOY / "rbac" / "toolsets.yaml"))  # incident-response-read, -plan, -confirm
    for name in ("read", "plan", "confirm"):
        bind(admin, f"bot-{name}", f"incident-response-{name}", "--serviceaccount", f"{HOME}:bot", namespace=HOME)
    server = kubeconfig_as(sim, tmp_path, "server", service_account_token(admin, "server", HOME))
    for_server, for_api = (service_account_token(admin, "bot", HOME, *audience) for audience in ((AUDIENCE,), ()))
    return server, for_server, for_api


async def until_not_ready(http: httpx2.AsyncClient, url: str) -> httpx2.Response:
    """/readyz reuses an answer for up to 2 s: poll until it reflects the change, within a bounded time."""
    with anyio.fail_after(15):
        while (answer := await http.get(url)).status_code == 200:
            await anyio.sleep(0.25)  # polling another process's cached answer: no event to wait on
    return answer


async def test_tokens_the_cluster_issued_are_reviewed_and_each_call_is_authorized_by_rbac(
    sim_factory: Callable[..., RunningSim], tmp_path: Path, kubectl_for: Callable[[RunningSim], Kubectl]
) -> None:
    sim = sim_factory("bad-deploy", tls=True)  # kubectl sends bearer tokens only over TLS
    admin = kubectl_for(sim)
    server, bot, bot_for_api = set_up(sim, admin, tmp_path)
    # A client bound only to `view` (a ServiceAccount: person's tokens are for the API server's audience).
    admin.run("create", "serviceaccount", "victor", "-n", HOME)
    bind(admin, "victor-views", "view", "--serviceaccount", f"{HOME}:victor")
    victor = service_account_token(admin, "victor", HOME, AUDIENCE)
    argv = ("--auth", "kubernetes", "--auth-namespace", HOME, "--auth-audience", AUDIENCE)
    with replica(server, tmp_path / "server", *argv, store=None) as url:
        async with httpx2.AsyncClient(timeout=30) as http:
            body = {"jsonrpc": "2.0", "id": 1, "method": "tools/list"}
            refusals = [
                (await http.post(url, json=body, headers=headers)).status_code
                for headers in (
                    {},
                    {"Authorization": "Bearer " + "x" * 40},
                    {"Authorization": f"Bearer {bot}x"},
                    {"Authorization": f"Bearer {bot_for_api}"},  # the cluster's own token, for another audience
                )
            ]
            healthy = await http.get(url.replace("/mcp", "/healthz"))
            probes = [healthy.status_code, (await until_ready(http, url.replace("/mcp", "/readyz"))).status_code]
        assert refusals == [401, 401, 401, 401] and probes == [200, 200]

        with anyio.fail_after(120):
            async with client_as(url, bot) as client:
                plan = await call(client, "rollback_deployment", namespace=NAMESPACE, deployment=DEPLOYMENT)
                approve = [sys.executable, "-c", LAUNCHER, "approve", plan["token"], "--yes"]
                approve += ["--state-dir", str(tmp_path / "server" / "state")]
                done = subprocess.run(
                    approve,
                    capture_output=True,
                    text=True,
                    timeout=60,
                    stdin=subprocess.DEVNULL,
                    start_new_session=True,
                )
                assert done.returncode == 0, done.stderr
                ran = await call(client, "confirm_command", token=plan["token"])
            async with client_as(url, victor) as viewer:
                read = await viewer.call_tool("list_pods", {"namespace": NAMESPACE})
                confirm = await viewer.call_tool("confirm_command", {"token": plan["token"]})
        assert ran["status"] == "succeeded", ran
        row = Journal(tmp_path / "server" / "state").command(plan["token"])
        assert row is not None and row.plan["principal"] == f"system:serviceaccount:{HOME}:bot"  # its planner
        viewer_name = f"system:serviceaccount:{HOME}:victor"
        for refused, toolset in ((read, "read"), (confirm, "confirm")):
            assert refused.is_error
            assert f"forbidden (403): {viewer_name} may not use the {toolset!r} toolset" in text_of(refused)
        # The command the refusal names, run by an admin with real kubectl, grants exactly what was missing.
        assert may_use(admin, viewer_name) == {"read": False, "plan": False, "confirm": False}
        rendered = re.search(r"`(kubectl create rolebinding [^`]+)`", text_of(confirm))
        assert rendered is not None, text_of(confirm)
        admin.shell(rendered.group(1).replace("<name>", "victor"))
        assert may_use(admin, viewer_name) == {"read": False, "plan": False, "confirm": True}

        # The admin removes the server's system:auth-delegator binding: a token not reviewed yet gets 503 (never 401,
        # never a pass), /readyz says the API is not ready, and the log says what to bind.
        admin.run("delete", "clusterrolebinding", "server-reviews")
        fresh = service_account_token(admin, "bot", HOME, AUDIENCE)
        async with httpx2.AsyncClient(timeout=30) as http:
            unavailable = await http.post(url, json=body, headers={"Authorization": f"Bearer {fresh}"})
            ready = await until_not_ready(http, url.replace("/mcp", "/readyz"))
        assert (unavailable.status_code, unavailable.headers.get("retry-after")) == (503, "5"), unavailable.text
        assert (ready.status_code, ready.text) == (503, "not ready: kubernetes API\n")
    assert (
        "grant its ServiceAccount the system:auth-delegator ClusterRole"
        in (tmp_path / "server" / "server.log").read_text()
    )

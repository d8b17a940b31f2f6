"""Over HTTP, who may approve and confirm: the real `serve --http` with two credentials (alice, bob) against the
simulated cluster running `bad-deploy`; each client answers yes to any dialog, as an agent-driven client could."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import anyio
import httpx2
import pytest
from mcp import Client
from mcp.types import ElicitRequestFormParams, ElicitResult, Implementation
from support.confirm_env import DEPLOYMENT, NAMESPACE
from support.dialog import human_answer
from support.http_server import approve_out_of_band, client_as, credentials_file, http_server
from support.mitigation_env import call

from incident_response.server.app import build_server
from incident_response.server.config import Settings
from incident_response.sim.serve import RunningSim
from incident_response.tools.engine.approvals import CLI_NON_INTERACTIVE, ELICITATION
from incident_response.tools.engine.journal import Journal
from incident_response.tools.kube.client import ClusterSource, RealKube

pytestmark = pytest.mark.anyio

ALICE = "alice-" + "a" * 40
BOB = "bob-" + "b" * 40


def accepting(asked: list[str]) -> Any:
    async def callback(context: Any, params: ElicitRequestFormParams) -> ElicitResult:
        asked.append(params.message)
        return ElicitResult(action="accept", content=human_answer(params))

    return callback


def image(sim: RunningSim) -> str:
    assert sim.kubeconfig_path is not None
    kube = RealKube.connect(ClusterSource(kubeconfig=sim.kubeconfig_path, context=sim.context))
    return str(kube.get("deployments", DEPLOYMENT, NAMESPACE)["spec"]["template"]["spec"]["containers"][0]["image"])


def two_users(tmp_path: Path) -> tuple[str, ...]:
    return ("--auth-token-file", str(credentials_file(tmp_path, f"alice {ALICE}\nbob {BOB}\n")))


async def test_a_client_cannot_approve_its_own_plan_in_its_own_dialog_over_http(
    sim_factory: Callable[..., RunningSim], tmp_path: Path
) -> None:
    sim = sim_factory("bad-deploy")
    bad = image(sim)
    asked: list[str] = []
    with http_server(sim, tmp_path, *two_users(tmp_path)) as url:
        async with client_as(url, ALICE, elicitation_callback=accepting(asked)) as alice:
            p = await call(alice, "rollback_deployment", namespace=NAMESPACE, deployment=DEPLOYMENT)
            waiting = await call(alice, "confirm_command", token=p["token"])
            assert waiting["status"] == "awaiting_approval", waiting
            assert "over HTTP a client's own dialog does not count" in waiting["message"]
            assert asked == [] and image(sim) == bad
            # The human approves out of band, on the server's host.
            done = await anyio.to_thread.run_sync(approve_out_of_band, p["token"], tmp_path / "state")
            assert done.returncode == 0, done.stderr
            confirmed = await call(alice, "confirm_command", token=p["token"])
    assert confirmed["status"] == "succeeded", confirmed
    assert confirmed["approval_channel"] == CLI_NON_INTERACTIVE and asked == []
    assert image(sim) != bad


async def test_only_the_planner_confirms_and_another_user_may_approve_in_their_own_dialog(
    sim_factory: Callable[..., RunningSim], tmp_path: Path
) -> None:
    sim = sim_factory("bad-deploy")
    bad = image(sim)
    alice_asked: list[str] = []
    bob_asked: list[str] = []
    with http_server(sim, tmp_path, *two_users(tmp_path)) as url:
        async with (
            client_as(url, ALICE, elicitation_callback=accepting(alice_asked)) as alice,
            client_as(
                url,
                BOB,
                elicitation_callback=accepting(bob_asked),
                client_info=Implementation(name="bobs-desk", version="2"),
            ) as bob,
        ):
            p = await call(alice, "rollback_deployment", namespace=NAMESPACE, deployment=DEPLOYMENT)
            listed = await call(bob, "list_pending_commands")
            assert [(c["token"], c["planned_by"]) for c in listed["commands"]] == [
                (p["token"], "HTTP principal 'alice'")
            ]
            # bob's human is asked, says yes: that approves alice's plan; it does not run it for bob.
            approved = await call(bob, "confirm_command", token=p["token"])
            assert approved["status"] == "approved", approved
            assert "Only HTTP principal 'alice' can confirm it now" in approved["message"]
            assert len(bob_asked) == 1 and "Planned by HTTP principal 'alice'" in bob_asked[0]
            assert image(sim) == bad
            for tool in ("confirm_command", "cancel_command"):
                refused = await call(bob, tool, token=p["token"])
                assert refused["status"] == "wrong_principal", refused
            assert image(sim) == bad
            confirmed = await call(alice, "confirm_command", token=p["token"])
    assert confirmed["status"] == "succeeded", confirmed
    assert confirmed["approval_channel"] == ELICITATION and alice_asked == []
    assert (
        confirmed["approved_by"]
        == "HTTP principal 'bob', the user of MCP client 'bobs-desk 2' (attested by the client)"
    )
    assert image(sim) != bad
    journal = Journal(tmp_path / "state")
    row = journal.command(p["token"])
    assert row and row.decided_principal == "bob" and row.plan["principal"] == "alice"
    [claimed] = [e for e in journal.events(token=p["token"]) if e.kind == "claimed"]
    assert claimed.detail == {"mode": "standard", "approval_channel": ELICITATION, "human_approved": False}


async def test_another_credential_cannot_use_a_session_or_a_plan_it_did_not_make(
    sim_factory: Callable[..., RunningSim], tmp_path: Path
) -> None:
    sim = sim_factory("bad-deploy")
    with http_server(sim, tmp_path, *two_users(tmp_path)) as url:
        async with client_as(url, ALICE) as alice:
            p = await call(alice, "rollback_deployment", namespace=NAMESPACE, deployment=DEPLOYMENT)
        # A local (stdio) client of a server sharing the state directory: not alice either, and not asked.
        asked: list[str] = []
        assert sim.kubeconfig_path is not None
        local = build_server(
            Settings(
                state_dir=tmp_path / "state", cluster=ClusterSource(kubeconfig=sim.kubeconfig_path, context=sim.context)
            )
        )
        async with Client(local, elicitation_callback=accepting(asked)) as stdio:
            assert (await call(stdio, "confirm_command", token=p["token"]))["status"] == "wrong_principal"
            assert (await call(stdio, "cancel_command", token=p["token"]))["status"] == "wrong_principal"
        assert asked == []
        # bob, without a dialog, tries alice's token; and then her plan once a human approved it.
        async with client_as(url, BOB) as bob:
            assert (await call(bob, "confirm_command", token=p["token"]))["status"] == "wrong_principal"
            done = approve_out_of_band(p["token"], tmp_path / "state")
            assert done.returncode == 0, done.stderr
            assert (await call(bob, "confirm_command", token=p["token"]))["status"] == "wrong_principal"
        # A session alice opened answers alice, and to bob's credential it does not exist.
        headers = {"Accept": "application/json, text/event-stream", "MCP-Protocol-Version": "2025-11-25"}
        initialize = {
            "jsonrpc": "2.0",
            "id": 1,
            "method": "initialize",
            "params": {
                "protocolVersion": "2025-11-25",
                "capabilities": {},
                "clientInfo": {"name": "raw", "version": "1"},
            },
        }
        listing = {"jsonrpc": "2.0", "id": 2, "method": "tools/list"}
        async with httpx2.AsyncClient(timeout=30) as http:
            opened = await http.post(url, json=initialize, headers=headers | {"Authorization": f"Bearer {ALICE}"})
            session = opened.headers["mcp-session-id"]
            answers = {
                who: (
                    await http.post(
                        url,
                        json=listing,
                        headers=headers | {"Authorization": f"Bearer {token}", "Mcp-Session-Id": session},
                    )
                ).status_code
                for who, token in (("bob", BOB), ("alice", ALICE))
            }
        assert answers == {"bob": 404, "alice": 200}
    row = Journal(tmp_path / "state").command(p["token"])
    assert row and row.state == "approved"  # still alice's to run

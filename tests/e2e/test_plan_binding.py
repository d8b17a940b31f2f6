"""A plan is bound to where it was made: its cluster, the planning mode and allow-list (issue 9).

Two servers share one state directory (as every server a user starts shares the default one): a plan made by one
must not run, be listed, or be cancelled through the other when that other talks to another cluster or has an
allow-list the plan's target is outside of; and a plan made in standard mode needs a human wherever it is confirmed.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from mcp import Client
from mcp.types import ElicitRequestFormParams, ElicitResult
from support.confirm_env import Env, call, make_env, plan
from support.dialog import human_answer

from incident_response.server import approvals_command
from incident_response.server.cli import main
from incident_response.sim.serve import RunningSim, run_sim
from incident_response.tools.engine.journal import Journal
from incident_response.tools.engine.pending import PendingEngine

pytestmark = pytest.mark.anyio


@pytest.fixture
def env(sim_factory: Callable[..., RunningSim], tmp_path: Path) -> Env:
    return make_env(sim_factory("bad-deploy"), tmp_path / "state")


@pytest.fixture
def other(sim_factory: Callable[..., RunningSim], env: Env) -> Env:
    """A second cluster, same scenario, same context name, sharing `env`'s state directory."""
    return make_env(sim_factory("bad-deploy"), env.state)


async def everything(client: Client, tool: str, **arguments: Any) -> tuple[dict[str, Any], str]:
    """(structured result, every byte of text the client received), for checks that nothing leaks."""
    result = await client.call_tool(tool, arguments)
    assert not result.is_error, result.content
    assert result.structured_content is not None
    return result.structured_content, " ".join(getattr(c, "text", "") for c in result.content)


def approve_as_cli(env: Env, token: str) -> str:
    return approvals_command.decide(PendingEngine(Journal(env.state)), token, approved=True).status


async def test_a_plan_made_on_one_cluster_is_refused_on_another_and_still_runs_where_it_was_made(
    env: Env, other: Env
) -> None:
    bad, good = env.image(), env.revision_image(2)
    async with Client(env.server("full")) as here, Client(other.server("full")) as there:
        p = await plan(here, env)
        refused, text = await everything(there, "confirm_command", token=p["token"])
        assert refused["status"] == "wrong_cluster", refused
        assert env.sim.url in refused["message"] and other.sim.url in refused["message"]
        assert refused["command"] is None and refused["diff"] == [] and "rollout undo" not in text
        assert (await call(there, "cancel_command", token=p["token"]))["status"] == "wrong_cluster"
        listed, text = await everything(there, "list_pending_commands")
        assert listed["commands"] == [] and env.deployment not in text
        assert (await call(here, "list_pending_commands"))["commands"][0]["token"] == p["token"]
        assert other.image() == bad and env.image() == bad
        done = await call(here, "confirm_command", token=p["token"])
    assert done["status"] == "succeeded", done
    assert env.image() == good and other.image() == bad
    refusals = [e for e in Journal(env.state).events(token=p["token"]) if e.kind == "refused_here"]
    assert [e.detail["status"] for e in refusals if e.detail] == ["wrong_cluster", "wrong_cluster"]


async def test_a_new_cluster_behind_the_same_address_and_context_is_another_cluster(tmp_path: Path) -> None:
    """Same URL, same context name, same kubeconfig file: only the API server's own identity (the kube-system
    namespace's uid, which a rebuilt cluster does not keep) tells the clusters apart."""
    kubeconfig, state = tmp_path / "kubeconfig", tmp_path / "state"
    with run_sim("bad-deploy", kubeconfig_path=kubeconfig) as first:
        port, env = first.port, make_env(first, state)
        async with Client(env.server("full")) as client:
            p = await plan(client, env)
    with run_sim("bad-deploy", port=port, kubeconfig_path=kubeconfig) as second:
        again = make_env(second, state)
        bad = again.image()
        async with Client(again.server("full")) as client:
            refused = await call(client, "confirm_command", token=p["token"])
        assert again.image() == bad
    assert refused["status"] == "wrong_cluster" and "kube-system" in refused["message"], refused


async def test_a_dialog_answered_through_a_server_on_the_wrong_cluster_approves_nothing(tmp_path: Path) -> None:
    """The dialog is asked before the tool body reads the cluster's identity (no request is made on the event loop),
    so a rebuilt cluster behind the same address can get as far as the question; the answer must not become an
    approval of the plan, which the original cluster's server could otherwise run without a human."""
    kubeconfig, state = tmp_path / "kubeconfig", tmp_path / "state"
    seen: list[str] = []

    async def accept(context: Any, params: ElicitRequestFormParams) -> ElicitResult:
        seen.append(params.message)
        return ElicitResult(action="accept", content=human_answer(params))

    with run_sim("bad-deploy", kubeconfig_path=kubeconfig) as first:
        port, env = first.port, make_env(first, state)
        async with Client(env.server("standard")) as client:
            p = await plan(client, env)
    with run_sim("bad-deploy", port=port, kubeconfig_path=kubeconfig) as second:
        again = make_env(second, state)
        async with Client(again.server("standard"), elicitation_callback=accept) as client:
            refused = await call(client, "confirm_command", token=p["token"])
    assert refused["status"] == "wrong_cluster"
    row = Journal(state).command(p["token"])
    assert row is not None and row.state == "pending" and row.decided_by is None


async def test_a_target_outside_the_confirming_servers_allow_list_is_refused_and_not_shown(env: Env) -> None:
    bad, good = env.image(), env.revision_image(2)
    async with Client(env.server("full")) as wide, Client(env.server("full", namespaces=("payments",))) as narrow:
        p = await plan(wide, env)
        refused, text = await everything(narrow, "confirm_command", token=p["token"])
        assert refused["status"] == "outside_allow_list", refused
        assert env.deployment not in text and "shop" not in text and refused["diff"] == []
        assert (await call(narrow, "cancel_command", token=p["token"]))["status"] == "outside_allow_list"
        listed, text = await everything(narrow, "list_pending_commands")
        assert listed["commands"] == [] and env.deployment not in text
        assert env.image() == bad
        done = await call(wide, "confirm_command", token=p["token"])
    assert done["status"] == "succeeded" and env.image() == good


async def test_a_plan_made_in_standard_mode_needs_a_human_on_a_full_mode_server(env: Env) -> None:
    bad, good = env.image(), env.revision_image(2)
    async with Client(env.server("standard")) as standard, Client(env.server("full")) as full:
        p = await plan(standard, env)
        waiting = await call(full, "confirm_command", token=p["token"])
        assert waiting["status"] == "awaiting_approval", waiting
        assert env.image() == bad
        assert approve_as_cli(env, p["token"]) == "approved"
        done = await call(full, "confirm_command", token=p["token"])
    assert done["status"] == "succeeded" and done["approval_channel"] == "cli"
    assert env.image() == good
    claimed = [e for e in Journal(env.state).events(token=p["token"]) if e.kind == "claimed"]
    assert claimed[0].detail and (claimed[0].detail["mode"], claimed[0].detail["human_approved"]) == ("standard", True)


async def test_a_full_mode_server_asks_the_human_about_a_plan_made_in_standard_mode(env: Env) -> None:
    seen: list[str] = []

    async def accept(context: Any, params: ElicitRequestFormParams) -> ElicitResult:
        seen.append(params.message)
        return ElicitResult(action="accept", content=human_answer(params))

    async with Client(env.server("standard")) as standard:
        p = await plan(standard, env)
    async with Client(env.server("full"), elicitation_callback=accept) as full:
        done = await call(full, "confirm_command", token=p["token"])
    assert len(seen) == 1 and p["command"] in seen[0]
    assert done["status"] == "succeeded" and done["approval_channel"] == "elicitation"


async def test_the_pending_cli_shows_the_cluster_a_plan_is_bound_to(
    env: Env, capsys: pytest.CaptureFixture[str]
) -> None:
    async with Client(env.server("standard", namespaces=("shop",))) as client:
        p = await plan(client, env)
    with pytest.raises(SystemExit) as exited:
        main(["pending", "--state-dir", str(env.state)])
    out = capsys.readouterr().out
    uid = env.kube.get("namespaces", "kube-system")["metadata"]["uid"]
    assert exited.value.code == 0 and p["token"] in out
    assert (
        f"cluster context sim at {env.sim.url}, kube-system uid {uid}; planned in standard mode, namespaces shop"
        in (out)
    )

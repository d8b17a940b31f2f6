"""The incident record respects the cluster and the allow-list too (issue 9): two servers sharing a state directory,
on two clusters or on one cluster with other allow-lists, each work on their own incident. Neither sees the other's
title, severity, timeline, measures or pending commands, in declare_incident's answers or in incident_handoff."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from mcp import Client
from mcp.server import MCPServer
from support.mitigation_env import NS, Env, call, make_env, plan_and_confirm
from support.texts import everything

from incident_response.sim.serve import RunningSim

pytestmark = pytest.mark.anyio

A_TITLE, B_TITLE = "checkout returns 502 for everyone", "payments settle late"


@pytest.fixture
def env(sim_factory: Callable[..., RunningSim], tmp_path: Path) -> Env:
    return make_env(sim_factory("overload"), tmp_path / "state")


@pytest.fixture(params=["another cluster", "another allow-list"])
def other(request: pytest.FixtureRequest, sim_factory: Callable[..., RunningSim], env: Env) -> Callable[[], Any]:
    """A second server (made anew for each client) sharing env's state directory."""
    if request.param == "another cluster":
        elsewhere = make_env(sim_factory("overload"), env.state)
        return lambda: elsewhere.server("full")
    return lambda: env.server("full", namespaces=("payments",))


def mentions(text: str, incident_id: str) -> bool:
    """Whether `text` names this incident (ids opened in one second by one process differ only by a suffix)."""
    return re.search(re.escape(incident_id) + r"(?![-\w])", text) is not None


async def test_servers_of_other_scopes_each_declare_and_hand_off_their_own_incident(
    env: Env, other: Callable[[], MCPServer[Any]]
) -> None:
    async with Client(env.server("full")) as a:
        declared = await call(a, "declare_incident", title=A_TITLE, severity="SEV1", namespace=NS)
        ours = declared["incident"]["incident_id"]
        await call(a, "list_pods", namespace=NS, selector="app=web")
        await plan_and_confirm(a, env, "override_hpa", namespace=NS, hpa="web", min_replicas=9, max_replicas=12)
        await call(a, "scale_deployment", namespace=NS, deployment="api", replicas=4)

    async with Client(other()) as b:
        # Its first call opens its own incident: the handoff is of an untitled one, with nothing of A's in it.
        handoff, seen = await everything(b, "incident_handoff", namespace="payments", format="json")
        assert handoff is not None and handoff["incident"]["incident_id"] != ours, seen
        assert handoff["incident"]["title"] == "untitled incident" and handoff["actions"] == []
        mine, seen_declaring = await everything(b, "declare_incident", title=B_TITLE, severity="SEV3")
        assert mine is not None and mine["outcome"] == "adopted", seen_declaring
        theirs = mine["incident"]["incident_id"]
        assert theirs == handoff["incident"]["incident_id"] and mine["incident"]["severity"] == "SEV3"
        # A's incident cannot be named either: the refusal lists this server's incidents only.
        refusal, seen_naming = await everything(b, "declare_incident", incident_id=ours, status="resolved")
        assert refusal is None and f"no incident {ours!r}" in seen_naming and theirs in seen_naming
        handoff, seen_after = await everything(b, "incident_handoff", namespace="payments", format="json")
        assert handoff is not None and handoff["incident"]["title"] == B_TITLE, seen_after
        assert handoff["chosen_because"] == "the open, declared incident"
        assert B_TITLE in handoff["document"] and not handoff["current_state"]["temporary_measures"]
        measures, seen_measures = await everything(b, "list_temporary_measures")
        listed, seen_listing = await everything(b, "list_pending_commands")
        assert measures is not None and measures["measures"] == [] and listed is not None and listed["commands"] == []
        for text in (
            seen,
            seen_declaring,
            seen_naming.replace(repr(ours), ""),
            seen_after,
            seen_measures,
            seen_listing,
        ):
            assert not mentions(text, ours), text
            for trace in (A_TITLE, "SEV1", "override_hpa", "scale_deployment", "list_pods"):
                assert trace not in text, (trace, text)

    async with Client(env.server("full")) as a:
        handoff, seen = await everything(a, "incident_handoff", namespace=NS, format="json")
        assert handoff is not None and handoff["incident"]["incident_id"] == ours, seen
        assert handoff["incident"]["title"] == A_TITLE and handoff["incident"]["severity"] == "SEV1"
        assert [x["tool"] for x in handoff["actions"]] == ["override_hpa", "scale_deployment"]
        # Declaring anew is refused over A's own open incident (not B's, declared later on the shared journal).
        refusal, seen_refusal = await everything(a, "declare_incident", title="another one", severity="SEV2")
        assert (
            refusal is None
            and f"incident {ours} ({A_TITLE!r}, SEV1, namespace {NS}, active) is already declared" in seen_refusal
        )
        again, seen_again = await everything(a, "declare_incident", incident_id=ours, severity="SEV2")
        assert again is not None and again["outcome"] == "updated" and again["incident"]["severity"] == "SEV2"
        for text in (seen, seen_refusal, seen_again):
            assert B_TITLE not in text and not mentions(text, theirs) and "SEV3" not in text

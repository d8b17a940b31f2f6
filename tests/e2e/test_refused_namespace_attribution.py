"""A call refused for its namespace (outside the allow-list, or not a namespace name: a typo) opens no incident.

With --namespace shop and shop's incident declared, list_pods(namespace="shpo") was refused but still journaled
under a new untitled incident (no incident had that namespace): from then on top_nodes, server_info and node plans
went to that ghost instead of shop's incident, so shop's handoff lost their evidence, and the ghost could later
make a declaration meet a stale untitled incident. A refused namespace now counts as none: the call is recorded on
the incident a call in no namespace belongs to (here shop's, the only open one).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from mcp import Client
from support.mitigation_env import call, make_env, refused

from incident_response.sim.serve import RunningSim
from incident_response.tools.engine.journal import Journal

pytestmark = pytest.mark.anyio


async def test_a_refused_namespace_opens_no_incident(sim_factory: Callable[..., RunningSim], tmp_path: Path) -> None:
    env = make_env(sim_factory("healthy"), tmp_path / "state")
    async with Client(env.server("standard", namespaces=("shop",))) as client:
        declared = await call(client, "declare_incident", title="checkout crash", severity="SEV2", namespace="shop")
        outside = await refused(client, "list_pods", namespace="shpo")
        malformed = await refused(client, "list_pods", namespace="Shop")
        await call(client, "top_nodes")
    assert "outside this server's allow-list" in outside and "not a valid namespace name" in malformed
    shop = declared["incident"]["incident_id"]
    journal = Journal(env.state)
    assert [row.id for row in journal.incidents(open_only=True, limit=10)] == [shop]
    tools = [row.tool for row in journal.tool_calls(incident=shop)]
    assert tools.count("list_pods") == 2 and "top_nodes" in tools, tools

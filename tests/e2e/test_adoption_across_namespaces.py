"""A namespace's declaration does not adopt the untitled incident that holds plans in another namespace (F17).

Before either team declared, a scale of coredns in kube-system was planned: it went to the untitled incident.
declare_incident(namespace="shop") then adopted that incident, which became shop's: kube-system's later declaration
opened a new one, so kube-system's handoff said "no mitigation was planned" while listing its own scale as a measure
in place, and shop's handoff left the plan out without a word. Now shop declares a fresh incident, its handoff names
the untitled one where the kube-system plan went, and kube-system's declaration adopts it.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from mcp import Client
from support.mitigation_env import call, make_env

from incident_response.sim.serve import RunningSim

pytestmark = pytest.mark.anyio


async def test_a_namespace_declaration_leaves_another_namespaces_plans_untitled(
    sim_factory: Callable[..., RunningSim], tmp_path: Path
) -> None:
    env = make_env(sim_factory("healthy"), tmp_path / "state")
    async with Client(env.server("standard")) as client:
        planned = await call(client, "scale_deployment", namespace="kube-system", deployment="coredns", replicas=3)
        shop = await call(client, "declare_incident", title="checkout crash", severity="SEV2", namespace="shop")
        handoff = await client.call_tool("incident_handoff", {"namespace": "shop"})
        dns = await call(client, "declare_incident", title="dns slow", severity="SEV2", namespace="kube-system")
    assert planned["token"] and shop["outcome"] == "declared", shop["summary"]
    text = handoff.content[0].text  # type: ignore[union-attr]
    assert "Plans in kube-system are recorded under the open incident" in text, text
    assert dns["outcome"] == "adopted", dns["summary"]

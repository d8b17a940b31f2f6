"""The change list says where a hand scale's count comes from, through an MCP client against the simulated cluster.

A hand scale's count before comes from ScalingReplicaSet events, which any workload allowed to create events can
write. The decisions and plans take a count only events claim no further than the step demand-unknown scaling
takes, and say so (tests/e2e/test_lone_scale_event.py); the change list still printed "scaled 60 -> 0" as fact.
It now says a count beyond that step is claimed by events only, unless a record (the manifest last applied, the
revision before's desired-replicas) shows the same count.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from mcp import Client
from support.kubectl_runner import Kubectl
from support.mitigation_env import NS, call, make_env
from support.scale_events import cut_to_zero_with_a_lone_event
from support.texts import read_text

from incident_response.sim.serve import RunningSim

pytestmark = pytest.mark.anyio


async def test_a_count_only_events_claim_is_not_listed_as_fact(
    sim_factory: Callable[..., RunningSim], kubectl_for: Callable[[RunningSim], Kubectl], tmp_path: Path
) -> None:
    """cart was scaled 2 -> 0 by hand; its real events expired and a forged "from 60 to 0" is left (its revision
    before ran with 2 replicas: the record disagrees). api was scaled 3 -> 1 with its events intact."""
    env = make_env(sim_factory("healthy"), tmp_path / "state")
    kubectl = kubectl_for(env.sim)
    kubectl.run("scale", "deployment/api", "--replicas=1", "-n", NS)
    await env.until(lambda: env.rolled_out("api", 1))
    await cut_to_zero_with_a_lone_event(env, kubectl, "cart", 2)

    async with Client(env.server("safe")) as client:
        assessed = await call(client, "assess_namespace", namespace=NS)
        handoff = await read_text(client, "incident_handoff", namespace=NS)

    changes = assessed["recent_changes"]
    cart = next(c for c in changes if c.startswith("Deployment cart "))
    assert cart.startswith("Deployment cart scaled 60 -> 0 (only events claim 60) "), changes
    # a count within the step is what the tools would go to anyway: said plainly
    assert any(c.startswith("Deployment api scaled 3 -> 1 ") for c in changes), changes
    assert "only events claim 60" in assessed["summary"], assessed["summary"]
    assert "Deployment cart scaled 60 -> 0 (only events claim 60)" in handoff, handoff

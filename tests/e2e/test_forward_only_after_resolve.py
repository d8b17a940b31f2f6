"""The human's forward-only answer outlives the incident it was given in (F31 follow-up).

bad-deploy: the human answers that checkout's revision 3 ran a forward-only migration; the incident is resolved
(too early: the relapse comes an hour later) and the next call opens a new incident. The answer is a fact about
revision 3, not about the incident: rollback_deployment(to_revision=2) was planned again with only the generic
migration question, now it is refused as in the incident the answer was given in.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pytest
from mcp import Client
from support.mitigation_env import NS, Env, call, make_env, refused

from incident_response.sim.serve import RunningSim

pytestmark = pytest.mark.anyio


@pytest.fixture
def env(sim_factory: Callable[..., RunningSim], tmp_path: Path) -> Env:
    return make_env(sim_factory("bad-deploy"), tmp_path / "state")


async def test_a_forward_only_answer_holds_in_the_next_incident(env: Env) -> None:
    async with Client(env.server("safe")) as client:
        first = await call(client, "declare_incident", title="checkout crash", severity="SEV2", namespace=NS)
        await call(client, "evaluate_decision", namespace=NS, deployment="checkout", migrations_forward_only=True)
        incident = first["incident"]["incident_id"]
        await call(client, "declare_incident", incident_id=incident, status="resolved")
        second = await call(client, "declare_incident", title="checkout crash again", severity="SEV2", namespace=NS)
        refusal = await refused(client, "rollback_deployment", namespace=NS, deployment="checkout", to_revision=2)
    assert second["incident"]["incident_id"] != incident
    assert "migrations_forward_only=true" in refusal and "fix forward" in refusal.lower(), refusal
    # An answer that may be days old is dated: 'at 04:30 UTC' alone would read as today's.
    assert re.search(r"at \d{4}-\d\d-\d\d \d\d:\d\d UTC the human answered", refusal), refusal

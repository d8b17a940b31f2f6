"""A handoff's Duration never ends before it begins (review-assist7 H11).

Nothing fails in the cluster (the human reports errors the cluster cannot show: a ConfigMap edited in place, read by
pods only at start); the handoff asked about checkout, whose pods are 3 days old and RECOVERED "stable for 3d", said
"Duration: 2026-12-05 07:55 UTC to 2026-12-02 07:55 UTC (0 min)": the stabilization was dated by the pods' Ready time,
three days before the incident's first tool call.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

import pytest
from mcp import Client
from support.mitigation_env import call, make_env

from incident_response.sim.serve import RunningSim

pytestmark = pytest.mark.anyio
NS = "shop"
DURATION = re.compile(r"^Duration: (\d{4}-\d\d-\d\d \d\d:\d\d) UTC to (\d{4}-\d\d-\d\d \d\d:\d\d) UTC", re.M)


async def test_a_handoff_of_a_quiet_deployment_ends_no_earlier_than_it_starts(
    sim_factory: Callable[..., RunningSim], tmp_path: Path
) -> None:
    sim = sim_factory("healthy")
    env = make_env(sim, tmp_path / "state")
    async with Client(env.server("safe")) as client:
        await call(client, "assess_namespace", namespace=NS)  # opens the incident
        handoff = await client.call_tool("incident_handoff", {"namespace": NS, "deployment": "checkout"})

    document = " ".join(getattr(c, "text", "") for c in handoff.content)
    found = DURATION.search(document)
    assert found is not None, document
    start, end = (datetime.strptime(t, "%Y-%m-%d %H:%M") for t in found.groups())
    assert end >= start, found.group(0)

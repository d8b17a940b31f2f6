"""A mitigation whose outcome is unknown is not handed off as "no mitigation changed the cluster" (review-assist7 H2).

The server's rollback PATCH reached the API server and was applied, but the answer never came back (the connection
dropped after the write; the same as the server being killed after the write, play/interrupt.py landed). The
handoff's Current State said "Mitigation: none applied (no mitigation changed the cluster)" while payments already
ran the rolled-back image. It now names the command whose outcome is unknown.
"""

from __future__ import annotations

import pytest
from mcp import Client
from support.kubectl_runner import Kubectl
from support.mitigation_env import Env, call, set_image

pytestmark = pytest.mark.anyio
NS = "shop"


async def test_an_unknown_outcome_is_not_called_no_change(built: tuple[Env, Kubectl]) -> None:
    env, kubectl = built
    sim = env.sim
    await set_image(env, kubectl, "payments", "payments:5.1.0")
    async with Client(env.server("full")) as client:
        plan = await call(client, "rollback_deployment", namespace=NS, deployment="payments")
        sim.faults.add("drop_after", verb="patch", resource="deployments", namespace=NS, times=1)
        done = await call(client, "confirm_command", token=plan["token"])
        assert done["status"] == "unknown", done
        image = env.get("deployments", "payments")["spec"]["template"]["spec"]["containers"][0]["image"]
        assert not image.endswith("5.1.0"), image  # the write was applied
        handoff = await client.call_tool("incident_handoff", {"namespace": NS})

    document = " ".join(getattr(c, "text", "") for c in handoff.content)
    line = next(x for x in document.splitlines() if x.startswith("- Mitigation:"))
    assert "no mitigation changed the cluster" not in line and "none applied" not in line, line
    assert "rollback_deployment on deployment/payments -n shop (outcome unknown" in line, line

"""A denied plan is handed off as denied, by whom and why (review-assist7 H4), and evaluate_decision remembers it (H5).

The human denied a rollback with `incident-response-mcp deny TOKEN --reason "..."`. The handoff's Actions Taken said
"denied at 07:28 UTC (approved by root via cli ...)" (the decider was called the approver) and the reason, given
"for the incident timeline", appeared nowhere. evaluate_decision then walked the same rollback to "PROCEED - nothing
the cluster shows or the human said stops it".
"""

from __future__ import annotations

import pytest
from mcp import Client
from support.kubectl_runner import Kubectl
from support.mitigation_env import Env, call, set_image

from incident_response.server import approvals_command
from incident_response.tools.engine.journal import Journal
from incident_response.tools.engine.pending import PendingEngine

pytestmark = pytest.mark.anyio
NS = "shop"
WHY = "not yet: 5.1.0 carries the PCI fix, the payments team is on it"


async def test_a_denial_names_the_decider_and_the_reason(built: tuple[Env, Kubectl]) -> None:
    env, kubectl = built
    await set_image(env, kubectl, "payments", "payments:5.1.0")
    async with Client(env.server("standard")) as client:
        plan = await call(client, "rollback_deployment", namespace=NS, deployment="payments")
        denied = approvals_command.decide(PendingEngine(Journal(env.state)), plan["token"], approved=False, reason=WHY)
        assert denied.status == "denied", denied
        done = await call(client, "confirm_command", token=plan["token"])
        assert done["status"] == "denied", done
        handoff = await client.call_tool("incident_handoff", {"namespace": NS})
        walked = await call(client, "evaluate_decision", namespace=NS, deployment="payments", action="ROLLBACK")

    document = " ".join(getattr(c, "text", "") for c in handoff.content)
    actions = document.split("Actions Taken:", 1)[1].split("Current State:", 1)[0]
    line = next(x for x in actions.splitlines() if "rollback_deployment on deployment/payments" in x)
    assert "denied at" in line and "approved by" not in line, line
    assert WHY in document, document
    assert walked["cautions"][0].startswith("The human denied rollback_deployment on deployment/payments"), walked
    assert WHY in walked["cautions"][0] and "or the human said" not in walked["summary"], walked["summary"]

"""Two live plans on one object are not accepted silently (review-assist8 I3): the assessment's rollback of a failing
canary and evaluate_decision's pull of it both target deployment/web-canary; confirming both runs both. The second
plan's answer says the first is pending and how to drop it; a plan on another object, or once the first is
cancelled, says nothing of it.
"""

from __future__ import annotations

import pytest
from mcp import Client
from support.mitigation_env import Start, call

pytestmark = pytest.mark.anyio
NS = "shop"


async def test_a_second_plan_on_the_same_target_says_the_first_is_pending(shared: Start) -> None:
    env = shared("canary")
    async with Client(env.server("standard")) as client:
        first = await call(client, "scale_deployment", namespace=NS, deployment="web-canary", replicas=0)
        second = await call(client, "rollback_canary", namespace=NS, app="web")
        other = await call(client, "scale_deployment", namespace=NS, deployment="api", replicas=4)
        await call(client, "cancel_command", token=first["token"])
        again = await call(client, "rollback_canary", namespace=NS, app="web")
        text = await client.call_tool("rollback_canary", {"namespace": NS, "app": "web"})
    said = [w for w in second["warnings"] if w["check"] == "same_target"]
    assert said == [
        {
            "check": "same_target",
            "brief": "scale_deployment for deployment/web-canary is pending too: cancel_command one",
            "detail": "Another plan for deployment/web-canary is pending (scale_deployment): confirming both runs "
            "both. cancel_command the one not meant to run (list_pending_commands shows it).",
        }
    ], second["warnings"]
    assert second["status"] == "pending" and second["token"] != first["token"]
    assert not any(w["check"] == "same_target" for w in other["warnings"]), other["warnings"]
    # The cancelled one no longer counts; the second rollback_canary still does for the third.
    assert [w["brief"] for w in again["warnings"] if w["check"] == "same_target"] == [
        "rollback_canary for deployment/web-canary is pending too: cancel_command one"
    ], again["warnings"]
    shown = " ".join(getattr(c, "text", "") for c in text.content)
    assert "same_target: rollback_canary for deployment/web-canary is pending too: cancel_command one" in shown, shown

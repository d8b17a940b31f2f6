"""A handoff asked the moment a rollback is confirmed names the change the rollback undid, as one asked once the
rollout is done does: an on-call engineer asks for it right away. The rollback's write puts the good template in the
Deployment's spec at once, but its revision annotation still names the bad revision until the deployment controller's
next pass renumbers the revision brought back; the handoff once compared revisions by that annotation and, in that
window (a tick or two; longer on a loaded machine), said nothing of the image change.

The window is held open deterministically: the sim's controllers wait (Env.held) from the confirm to the handoff.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta

import pytest
from mcp import Client
from support.mitigation_env import NS, Start, call, plan_and_confirm
from support.texts import text_of

from incident_response.tools.k8s.workloads import REVISION

pytestmark = pytest.mark.anyio
IMAGE_CHANGE = re.compile(r"changed image \S+/checkout:2\.4\.0 -> \S+/checkout:2\.5\.0 \(container checkout\)")


async def test_the_handoff_right_after_a_rollback_names_the_image_it_undid(start: Start) -> None:
    env = start("bad-deploy")
    async with Client(env.server()) as client:
        async with env.held():
            await plan_and_confirm(client, env, "rollback_deployment", namespace=NS, deployment="checkout")
            deployment = env.get("deployments", "checkout")
            # The window: the spec holds the good template, the annotation still names the bad revision.
            assert deployment["spec"]["template"]["spec"]["containers"][0]["image"].endswith(":2.4.0")
            assert deployment["metadata"]["annotations"][REVISION] == "3", deployment["metadata"]
            early = text_of(await client.call_tool("incident_handoff", {"namespace": NS}))
        assert IMAGE_CHANGE.search(early), early
        await env.until(lambda: env.rolled_out("checkout", 4))
        late = text_of(await client.call_tool("incident_handoff", {"namespace": NS}))
        assert IMAGE_CHANGE.search(late), late


async def test_right_after_a_rollback_the_old_revisions_crash_loops_are_being_replaced_not_a_failure(
    start: Start,
) -> None:
    """While the rollback's rollout replaces the bad revision's crash-looping pods (held open here; on a real cluster
    it lasts the whole rollout), verify_recovery says RECOVERING with a near recheck, not DEGRADED; the handoff does
    not say the rollback failed nor propose another one. Once rolled out, RECOVERING still."""
    env = start("bad-deploy")
    async with Client(env.server()) as client:
        async with env.held():
            await plan_and_confirm(client, env, "rollback_deployment", namespace=NS, deployment="checkout")
            crashing = [p for p in env.pods("app=checkout") if "CrashLoopBackOff" in str(p.get("status"))]
            assert crashing, "the window: the bad revision's pods still crash-loop"
            report = await call(client, "verify_recovery", namespace=NS, deployment="checkout")
            handoff = text_of(await client.call_tool("incident_handoff", {"namespace": NS}))
        assert report["verdict"] == "RECOVERING", report["summary"]
        assert re.search(
            r"rollout to revision \d+ under way: \d+ of 4 updated; the failing pods are revision 3's, "
            r"being replaced",
            report["summary"],
        ), report["summary"]
        checked, recheck = (datetime.fromisoformat(report[k]) for k in ("checked_at", "recheck_at"))
        assert recheck - checked <= timedelta(minutes=1), report
        assert "did not fix" not in handoff and "not fix the service" not in handoff, handoff
        assert "recommends ROLLBACK" not in handoff, handoff
        await env.until(lambda: env.rolled_out("checkout", 4))
        after = await call(client, "verify_recovery", namespace=NS, deployment="checkout")
        assert after["verdict"] == "RECOVERING", after["summary"]
        assert "being replaced" not in after["summary"], after["summary"]

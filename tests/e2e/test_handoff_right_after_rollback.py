"""A handoff asked the moment a rollback is confirmed names the change the rollback undid, as one asked once the
rollout is done does: an on-call engineer asks for it right away. The rollback's write puts the good template in the
Deployment's spec at once, but its revision annotation still names the bad revision until the deployment controller's
next pass renumbers the revision brought back; the handoff once compared revisions by that annotation and, in that
window (a tick or two; longer on a loaded machine), said nothing of the image change.

The window is held open deterministically: the sim's controllers wait (Env.held) from the confirm to the handoff.
"""

from __future__ import annotations

import re

import pytest
from mcp import Client
from support.mitigation_env import NS, Start, plan_and_confirm
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

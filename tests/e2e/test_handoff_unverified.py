"""The handoff says which deployments it did not verify (review-assist6, LOW): after node-2 went NotReady and came
back, four deployments had Warning events; the handoff said "Only 3 of 4 deployments were verified: checkout, api,
payments, web", naming all four, so the reader could not tell which one was left unverified."""

from __future__ import annotations

from typing import Any

import pytest
from mcp import Client
from support.kubectl_runner import Kubectl
from support.mitigation_env import Env, ready

pytestmark = pytest.mark.anyio
NS = "shop"
CONDITION = "sim.incident-response.dev/condition"


def rolled_out(deploy: dict[str, Any]) -> bool:
    """Its status has observed its spec and counts every wanted replica updated, ready and available."""
    meta, spec, status = deploy["metadata"], deploy.get("spec") or {}, deploy.get("status") or {}
    wanted = spec.get("replicas", 1)
    counts = [status.get(k) or 0 for k in ("replicas", "updatedReplicas", "readyReplicas", "availableReplicas")]
    return status.get("observedGeneration", 0) >= meta.get("generation", 0) and counts == [wanted] * 4


async def test_the_handoff_names_the_deployments_it_left_unverified(built: tuple[Env, Kubectl]) -> None:
    env, kubectl = built
    kubectl.run("annotate", "node", "node-2", f"{CONDITION}=NotReady")
    await env.until(lambda: sum(not ready(p) for p in env.pods(None, NS)) >= 3)
    kubectl.run("annotate", "node", "node-2", f"{CONDITION}-")
    # Back, and the deployments' status caught up (it follows the pods a tick or two later): until then the
    # assessment ranks a deployment still short of available replicas, and the handoff verifies that one instead.
    await env.until(
        lambda: (
            all(ready(p) for p in env.pods(None, NS)) and all(map(rolled_out, env.kube.list("deployments", NS).items))
        )
    )

    async with Client(env.server("safe")) as client:
        result = await client.call_tool("incident_handoff", {"namespace": NS})
    text = " ".join(getattr(c, "text", "") for c in result.content)

    [line] = [line for line in text.splitlines() if "deployments were verified" in line] or [text]
    verified, _, unverified = line.partition("; not verified: ")
    assert unverified, line
    left_out = unverified.split(" (incident_handoff")[0].split(", ")
    assert left_out and not any(name in verified for name in left_out), line

"""review-landed7 play: the shared-config incident (key removed after a recent deploy): what the handoff and
verify_recovery say beside assess/evaluate/check_rollback_safety. Printed, not asserted (a repro script)."""

from __future__ import annotations

import json

import pytest
from mcp import Client
from tests.e2e.test_rollback_shared_config import built, live, stick  # noqa: F401

from support.mitigation_env import NS, call, ready

pytestmark = pytest.mark.anyio


async def test_play(built) -> None:  # noqa: F811
    env, kubectl = built
    kubectl.run("set", "image", "deployment/checkout", "checkout=registry.example.com/shop/checkout:2.5.1", "-n", NS)

    def rolled_out() -> bool:
        deploy = env.get("deployments", "checkout")
        status = deploy.get("status") or {}
        image = "registry.example.com/shop/checkout:2.5.1"
        return (
            status.get("observedGeneration") == deploy["metadata"]["generation"]
            and status.get("updatedReplicas") == status.get("readyReplicas") == deploy["spec"]["replicas"]
            and len(live(env)) == deploy["spec"]["replicas"]
            and all(p["spec"]["containers"][0]["image"] == image and ready(p) for p in live(env))
        )

    await env.until(rolled_out, 40)
    kubectl.run("patch", "configmap/checkout-config", "-n", NS, "--type=json",
                "-p", '[{"op":"remove","path":"/data/PAYMENTS_URL"}]')
    first = live(env)[0]["metadata"]["name"]
    kubectl.run("delete", "pod", first, "-n", NS, "--wait=false")
    await env.until(lambda: len(live(env)) == 4 and first not in [p["metadata"]["name"] for p in live(env)])
    await env.until(lambda: all(ready(p) for p in live(env)))
    stick(kubectl, max(live(env), key=lambda p: p["metadata"]["creationTimestamp"]), "PAYMENTS_URL")
    await env.until(lambda: sum(ready(p) for p in live(env)) == 3)

    async with Client(env.server("safe")) as client:
        for tool, args in [
            ("assess_namespace", {"namespace": NS}),
            ("evaluate_decision", {"namespace": NS, "action": "ROLLBACK", "deployment": "checkout"}),
            ("evaluate_decision", {"namespace": NS, "action": "SCALE", "deployment": "checkout"}),
            ("check_rollback_safety", {"namespace": NS, "deployment": "checkout"}),
            ("verify_recovery", {"namespace": NS, "deployment": "checkout"}),
        ]:
            out = await call(client, tool, **args)
            print(f"\n===== {tool} {args}")
            print(json.dumps({k: out.get(k) for k in ("summary", "verdict", "reason", "decision", "next_step", "next_tool", "text", "markdown") if k in out}, indent=1)[:5000])
        handoff = await client.call_tool("incident_handoff", {"namespace": NS})
        print("\n===== incident_handoff")
        print("\n".join(c.text for c in handoff.content if hasattr(c, "text"))[:6000])

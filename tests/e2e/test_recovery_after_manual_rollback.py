"""A rollback nobody here made does not certify recovery at once (review-assist7 H1).

payments 5.1.0 crash-loops while its two old pods keep serving (maxUnavailable 0); the human runs `kubectl rollout
undo` by hand and the crashing pod is gone seconds later. verify_recovery said "RECOVERED ... stable for 15d" (the
old pods' Ready time; the replaced pod's BackOff of seconds ago was "history" and no mitigation of ours started the
window) and the handoff's Duration then ended 15 days before it began. The same happens to our own rollback whose
outcome is unknown (the server died after the write). A replaced pod's warning inside the window dates the current
state: RECOVERING until it has held a whole window.
"""

from __future__ import annotations

import json

import pytest
from mcp import Client
from support.kubectl_runner import Kubectl
from support.mitigation_env import Env, call, ready

pytestmark = pytest.mark.anyio
NS = "shop"
BAD = "registry.example.com/shop/payments:5.1.0"


async def test_a_hand_rollback_seconds_ago_is_recovering_not_recovered(built: tuple[Env, Kubectl]) -> None:
    env, kubectl = built
    sim = env.sim
    old = {p["metadata"]["name"] for p in env.pods("app=payments")}
    sim.cluster.images[BAD] = {"sim.incident-response.dev/behavior": "crashloop"}  # it crashes through its image
    patch = {"spec": {"template": {"spec": {"containers": [{"name": "payments", "image": BAD}]}}}}
    kubectl.run("patch", "deployment", "payments", "-n", NS, "-p", json.dumps(patch))

    def crashing() -> bool:
        return any(
            (s.get("state") or {}).get("waiting", {}).get("reason") == "CrashLoopBackOff"
            for p in env.pods("app=payments")
            for s in (p.get("status") or {}).get("containerStatuses") or []
        )

    await env.until(crashing)
    async with Client(env.server("safe")) as client:
        await call(client, "assess_namespace", namespace=NS)  # the incident is open: the handoff has a start
        kubectl.run("rollout", "undo", "deployment/payments", "-n", NS)

        def back() -> bool:
            pods = env.pods("app=payments")
            status = env.get("deployments", "payments").get("status") or {}
            return (
                {p["metadata"]["name"] for p in pods} == old
                and all(ready(p) for p in pods)
                and env.observed("payments")
                and status.get("updatedReplicas") == 2
                and status.get("availableReplicas") == 2
            )

        await env.until(back)
        verified = await call(client, "verify_recovery", namespace=NS, deployment="payments")
        handoff = await client.call_tool("incident_handoff", {"namespace": NS})

    assert verified["verdict"] == "RECOVERING", verified["summary"]
    assert verified["recheck_at"] is not None and "stable for 15d" not in verified["summary"], verified["summary"]
    document = " ".join(getattr(c, "text", "") for c in handoff.content)
    duration = next(line for line in document.splitlines() if line.startswith("Duration:"))
    assert "not stabilized yet" in duration, duration  # it never ends before it starts

"""Rolling back a `kubectl rollout restart` restarts the same template (review-assist8 I7), built with real kubectl.

web runs the mutable tag web:stable (imagePullPolicy Always); CI pushes a new build under the tag and runs `kubectl
rollout restart deployment/web`: the new revision differs from the old only in kubectl.kubernetes.io/restartedAt, and
its pods crash-loop (the sim's image catalogue says what :stable does now; running pods keep the old build).
check_rollback_safety said CLEAR and evaluate_decision PROCEED for a rollback that starts the same template and pulls
the same tag, so the rolled-back pods crash the same way. Now the check warns (same_template), evaluate sends the
assistant to older revisions, the plan carries the warning, and assess's reason says a rollback cannot undo it; a
target with other images gets no such warning.
"""

from __future__ import annotations

import json

import pytest
from mcp import Client
from support.kubectl_runner import Kubectl
from support.mitigation_env import Env, call

pytestmark = pytest.mark.anyio
NS = "shop"
TAG = "registry.example.com/shop/web:stable"
PULL_ALWAYS = {
    "spec": {"template": {"spec": {"containers": [{"name": "web", "image": TAG, "imagePullPolicy": "Always"}]}}}
}


async def test_a_rollback_of_a_restart_is_not_cleared(built: tuple[Env, Kubectl]) -> None:
    env, kubectl = built
    sim = env.sim
    sim.cluster.images[TAG] = {}
    kubectl.run("patch", "deployment/web", "-n", NS, "-p", json.dumps(PULL_ALWAYS))
    await env.until(lambda: env.rolled_out("web", 4), 60)
    sim.cluster.images[TAG] = {"sim.incident-response.dev/behavior": "crashloop"}  # the tag re-pushed
    kubectl.run("rollout", "restart", "deployment/web", "-n", NS)

    def restarted_pods_crash() -> bool:
        fresh = [
            p
            for p in env.pods("app=web")
            if (p["metadata"].get("annotations") or {}).get("kubectl.kubernetes.io/restartedAt")
        ]
        statuses = [s for p in fresh for s in (p.get("status") or {}).get("containerStatuses") or []]
        return env.observed("web") and any(s.get("restartCount", 0) >= 1 for s in statuses)

    await env.until(restarted_pods_crash, 60)
    async with Client(env.server("safe")) as client:
        safety = await call(client, "check_rollback_safety", namespace=NS, deployment="web")
        evaluated = await call(client, "evaluate_decision", namespace=NS, deployment="web", action="ROLLBACK")
        assessed = await call(client, "assess_namespace", namespace=NS)
        plan = await call(client, "rollback_deployment", namespace=NS, deployment="web")
        older = await call(client, "check_rollback_safety", namespace=NS, deployment="web", to_revision=3)

    assert (safety["target_revision"], safety["verdict"]) == (4, "CHECK_FIRST"), safety["summary"]
    [same] = [i for i in safety["items"] if i["check"] == "same_template"]
    assert same["status"] == "warning" and "kubectl rollout restart" in same["detail"] and TAG in same["detail"], same
    assert evaluated["verdict"] == "CHECK_OLDER" and evaluated["next_tool"] == "rollout_history", evaluated["summary"]
    assert "rollout restart" in assessed["decision"]["reason"], assessed["decision"]["reason"]
    [warned] = [w for w in plan["warnings"] if w["check"] == "same_template"]
    assert TAG in warned["brief"] and "pause_rollout" in warned["brief"], warned  # what the text says
    assert not [i for i in older["items"] if i["check"] == "same_template"], older["summary"]

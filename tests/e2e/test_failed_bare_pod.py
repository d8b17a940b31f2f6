"""A bare pod with restartPolicy Never whose container failed (phase Failed, STATUS Error): the assessment must not
call it a crash loop (nothing restarts it), through an MCP client against the simulated cluster."""

from __future__ import annotations

import json

import pytest
from mcp import Client
from support.kubectl_runner import Kubectl
from support.mitigation_env import Env, call

from incident_response.sim import behaviors

pytestmark = pytest.mark.anyio
NS = "shop"


async def test_a_failed_bare_pod_is_no_crash_loop(built: tuple[Env, Kubectl]) -> None:
    env, kubectl = built
    pod = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "migrate", "namespace": NS, "annotations": {behaviors.BEHAVIOR: behaviors.CRASHLOOP}},
        "spec": {"restartPolicy": "Never", "containers": [{"name": "migrate", "image": "busybox"}]},
    }
    kubectl.run("apply", "-f", "-", stdin=json.dumps(pod))
    await env.until(lambda: (env.get("pods", "migrate").get("status") or {}).get("phase") == "Failed")
    async with Client(env.server("safe")) as client:
        assessed = await call(client, "assess_namespace", namespace=NS)
    reason = assessed["decision"]["reason"]
    assert "Error: it ran and exited, not restarted" in reason, reason
    assert assessed["decision"]["next_tool"] == "get_logs"  # why it exited, not a rollback or a scale
    [row] = [p for p in assessed["problem_pods"] if p["name"] == "migrate"]
    assert (row["status"], row["restarts"]) == ("Error", 0), row
    text = json.dumps(assessed)
    assert "CrashLoop" not in text and "crash loop" not in text.lower(), text

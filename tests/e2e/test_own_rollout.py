"""A mitigation's own revision is not a deploy to roll back, end to end.

Built incident: a log-shipper DaemonSet on two labelled nodes is OOMKilled (it needs 300Mi, its limit is 128Mi).
The assessment's set_memory_limit doubles the limit to 256Mi: confirmed, and still too small. The DaemonSet now has a
revision from minutes ago whose pods fail, and the "recent deployment with failing pods" rule used to propose rolling
it back (evaluate_decision: PROCEED, "revision 1 worked before"): undoing the mitigation, back to the limit that was
OOMKilling the pods. The next step an on-call engineer takes is a larger limit.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from mcp import Client
from support.mitigation_env import NS, Env, call, make_env, plan_and_confirm
from support.texts import handoff_fields

from incident_response.sim import behaviors
from incident_response.sim.serve import RunningSim

pytestmark = pytest.mark.anyio


@pytest.fixture
def env(sim_factory: Callable[..., RunningSim], tmp_path: Path) -> Env:
    return make_env(sim_factory("healthy"), tmp_path / "state")


def log_shipper() -> dict[str, Any]:
    return {
        "metadata": {"name": "log-shipper", "namespace": NS, "labels": {"app": "log-shipper"}},
        "spec": {
            "selector": {"matchLabels": {"app": "log-shipper"}},
            "template": {
                "metadata": {
                    "labels": {"app": "log-shipper"},
                    "annotations": {behaviors.BEHAVIOR: behaviors.OOM, behaviors.MEMORY_NEED: "300Mi"},
                },
                "spec": {
                    "nodeSelector": {"logs": "on"},
                    "containers": [
                        {
                            "name": "shipper",
                            "image": "registry.example.com/infra/log-shipper:1.9",
                            "resources": {
                                "requests": {"cpu": "50m", "memory": "64Mi"},
                                "limits": {"cpu": "200m", "memory": "128Mi"},
                            },
                        }
                    ],
                },
            },
        },
    }


def oom_killed(env: Env, limit: str) -> bool:
    pods = env.pods("app=log-shipper")
    return len(pods) == 2 and all(
        p["spec"]["containers"][0]["resources"]["limits"]["memory"] == limit
        and ((p["status"].get("containerStatuses") or [{}])[0].get("lastState") or {})
        .get("terminated", {})
        .get("reason")
        == "OOMKilled"
        for p in pods
    )


async def test_a_memory_limit_raised_too_little_is_raised_again_not_rolled_back(env: Env) -> None:
    for node in ("node-1", "node-2"):
        env.kube.patch("nodes", node, {"metadata": {"labels": {"logs": "on"}}}, None, patch_type="strategic")
    env.kube.create("daemonsets", log_shipper(), NS)
    await env.until(lambda: oom_killed(env, "128Mi"), 60)
    async with Client(env.server("full")) as client:
        first = await call(client, "assess_namespace", namespace=NS)
        assert first["decision"]["next_tool"] == "set_memory_limit", first["decision"]
        assert first["decision"]["next_arguments"]["limit"] == "256Mi", first["decision"]
        await plan_and_confirm(client, env, "set_memory_limit", **first["decision"]["next_arguments"])
        await env.until(lambda: oom_killed(env, "256Mi"), 60)

        again = await call(client, "assess_namespace", namespace=NS)
        decided = await call(client, "evaluate_decision", namespace=NS)
        handoff = await handoff_fields(client, namespace=NS, deployment="log-shipper")

    assert [r["deployment"] for r in again["recent_rollouts"]] == ["log-shipper"]  # still listed as a rollout
    decision = again["decision"]
    assert (decision["next_tool"], decision["next_arguments"].get("limit")) == ("set_memory_limit", "512Mi"), decision
    assert "rollback" not in str(decided["next_tool"]), decided
    assert decided["next_arguments"].get("limit") == "512Mi", decided
    # The handoff judges the namespace as assess_namespace does: the mitigation is not the suspect change.
    statements = [h["statement"] for h in handoff["hypotheses"]]
    assert "The memory limit of log-shipper is too low for its work" in statements, statements
    assert not any(s.startswith("The change rolled out to log-shipper") for s in statements), statements

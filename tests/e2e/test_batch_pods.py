"""Pods no workload owns (a Job's, bare pods) are not sent to a Deployment's tools, end to end.

A batch pod running at its CPU limit is batch work doing its job: the assessment used to call it an overload and
propose scale_deployment for a deployment of that name that does not exist. One that is OOMKilled needs its limit
raised where it is created (a Job's template cannot change), which no tool here plans: the assessment says so with
no tool, and evaluate_decision agrees (PROCEED, by hand), instead of set_memory_limit(deployment=NAME) that fails.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from mcp import Client
from support.mitigation_env import NS, Env, call, make_env, ready

from incident_response.sim import behaviors
from incident_response.sim.serve import RunningSim

pytestmark = pytest.mark.anyio


@pytest.fixture
def env(sim_factory: Callable[..., RunningSim], tmp_path: Path) -> Env:
    return make_env(sim_factory("healthy"), tmp_path / "state")


def bare(name: str, annotations: dict[str, str], limits: dict[str, str]) -> dict[str, Any]:
    return {
        "metadata": {"name": name, "namespace": NS, "labels": {"app": name}, "annotations": annotations},
        "spec": {
            "restartPolicy": "OnFailure",
            "containers": [
                {
                    "name": name,
                    "image": f"registry.example.com/batch/{name}:3.0",
                    "resources": {"requests": {"cpu": "100m", "memory": "64Mi"}, "limits": limits},
                }
            ],
        },
    }


async def test_a_batch_pod_at_its_cpu_limit_is_no_overload(env: Env) -> None:
    env.kube.create(
        "pods", bare("nightly-export", {behaviors.CPU_MILLICORES: "500"}, {"cpu": "500m", "memory": "128Mi"}), NS
    )
    await env.until(lambda: all(ready(p) for p in env.pods("app=nightly-export")))
    async with Client(env.server("safe")) as client:
        assessed = await call(client, "assess_namespace", namespace=NS)
    assert any(u["name"] == "nightly-export" for u in assessed["top_cpu"]), assessed["top_cpu"]
    assert assessed["primary_action"] == "NONE", assessed["summary"]


async def test_an_oomkilled_pod_of_no_workload_is_raised_by_hand(env: Env) -> None:
    annotations = {behaviors.BEHAVIOR: behaviors.OOM, behaviors.MEMORY_NEED: "300Mi"}
    env.kube.create("pods", bare("ledger-rebuild", annotations, {"cpu": "500m", "memory": "128Mi"}), NS)

    def killed() -> bool:
        pods = env.pods("app=ledger-rebuild")
        statuses = [((p.get("status") or {}).get("containerStatuses") or [{}])[0] for p in pods]
        return bool(statuses) and all(
            ((s.get("lastState") or {}).get("terminated") or {}).get("reason") == "OOMKilled" for s in statuses
        )

    await env.until(killed)
    async with Client(env.server("safe")) as client:
        assessed = await call(client, "assess_namespace", namespace=NS)
        decided = await call(client, "evaluate_decision", namespace=NS)
    decision = assessed["decision"]
    assert (decision["primary_action"], decision["target"]) == ("SCALE", "pods of ledger-rebuild"), decision
    assert decision["next_tool"] is None and "no tool here plans it" in decision["reason"], decision
    assert (decided["verdict"], decided["next_tool"]) == ("PROCEED", None), decided["summary"]

"""The ranking reads every workload kind's impact the same way, end to end.

Built incident, on the bad-deploy shop (checkout's new revision crash-loops while its old pods serve: degraded):
a metrics-agent DaemonSet crash-loops on every node (none of its pods available: below the minimum its rolling update
keeps, maxUnavailable 1), and the ledger-db StatefulSet behind its Service crash-loops (the Service has no ready
endpoint: outage). The ranking used to read deployments only, so the DaemonSet with nothing available ranked
"degraded", after checkout's partial failure. Now: the outage, then the DaemonSet below its minimum, then checkout.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from mcp import Client
from support.mitigation_env import NS, Env, call, make_env

from incident_response.sim import behaviors
from incident_response.sim.serve import RunningSim

pytestmark = pytest.mark.anyio


@pytest.fixture
def env(sim_factory: Callable[..., RunningSim], tmp_path: Path) -> Env:
    return make_env(sim_factory("bad-deploy"), tmp_path / "state")


def crash_looping(kind: str, name: str, image: str) -> dict[str, Any]:
    labels = {"app": name}
    spec: dict[str, Any] = {
        "selector": {"matchLabels": labels},
        "template": {
            "metadata": {"labels": labels, "annotations": {behaviors.BEHAVIOR: behaviors.CRASHLOOP}},
            "spec": {"containers": [{"name": name, "image": image}]},
        },
    }
    if kind == "statefulsets":
        spec |= {"serviceName": name, "replicas": 2, "podManagementPolicy": "Parallel"}
    return {"metadata": {"name": name, "namespace": NS, "labels": labels}, "spec": spec}


def all_restarted(env: Env, selector: str, count: int) -> Callable[[], bool]:
    def check() -> bool:
        pods = env.pods(selector)
        return len(pods) == count and all(
            (p["status"].get("containerStatuses") or [{}])[0].get("restartCount") for p in pods
        )

    return check


async def test_a_daemonset_with_no_pod_available_ranks_below_minimum_before_a_partial_failure(env: Env) -> None:
    nodes = len(env.kube.list("nodes", None).items)
    env.kube.create(
        "daemonsets", crash_looping("daemonsets", "metrics-agent", "registry.example.com/obs/agent:1.4"), NS
    )
    env.kube.create("statefulsets", crash_looping("statefulsets", "ledger-db", "registry.example.com/db/ledger:12"), NS)
    service = {
        "metadata": {"name": "ledger-db", "namespace": NS},
        "spec": {"selector": {"app": "ledger-db"}, "ports": [{"port": 5432, "targetPort": 5432}]},
    }
    env.kube.create("services", service, NS)
    await env.until(all_restarted(env, "app=metrics-agent", nodes))
    await env.until(all_restarted(env, "app=ledger-db", 2))

    def counted() -> bool:  # the controllers have reported what runs
        status = env.get("daemonsets", "metrics-agent").get("status") or {}
        return status.get("desiredNumberScheduled") == nodes and not status.get("numberAvailable")

    await env.until(counted)
    async with Client(env.server("safe")) as client:
        assessed = await call(client, "assess_namespace", namespace=NS)

    ranked = [(p["impact"], p["components"]) for p in assessed["problems"]]
    assert ranked == [
        ("outage", ["ledger-db"]),
        ("below_minimum", ["metrics-agent"]),
        ("degraded", ["checkout"]),
    ], assessed["problems"]
    agent = assessed["problems"][1]
    assert agent["detail"] == (
        f"daemonset metrics-agent has 0 of {nodes} pods available, below its minimum of {nodes - 1} (maxUnavailable 1)"
    ), agent
    assert assessed["problems"][0]["detail"].startswith("service ledger-db has no ready endpoint"), assessed["problems"]
    # primary_action addresses the outage first.
    assert assessed["decision"]["target"] == "statefulset/ledger-db", assessed["decision"]
    summary = assessed["summary"]
    assert summary.index("ledger-db") < summary.index("metrics-agent") < summary.index("deployment checkout"), summary

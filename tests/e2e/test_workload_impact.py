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
from support.mitigation_env import NS, Env, call, make_env, ready

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


async def test_a_disruption_budget_sets_a_statefulsets_minimum(env: Env) -> None:
    """cart-cache, 3 members, one failing readiness: its update's minimum (3 - 1) holds, so degraded; a
    PodDisruptionBudget promising all 3 makes the same state below its minimum, and the detail says which."""
    body = crash_looping("statefulsets", "cart-cache", "registry.example.com/shop/cart-cache:7.1")
    body["spec"] |= {"replicas": 3, "updateStrategy": {"type": "OnDelete"}}
    del body["spec"]["template"]["metadata"]["annotations"]
    env.kube.create("statefulsets", body, NS)

    def available(count: int) -> Callable[[], bool]:
        return lambda: (env.get("statefulsets", "cart-cache").get("status") or {}).get("availableReplicas") == count

    await env.until(available(3))
    # OnDelete: a template failing readiness reaches only the member deleted, cart-cache-1.
    not_ready = {"spec": {"template": {"metadata": {"annotations": {behaviors.BEHAVIOR: behaviors.NOT_READY}}}}}
    env.kube.patch("statefulsets", "cart-cache", not_ready, NS, patch_type="strategic")
    env.kube.delete("pods", "cart-cache-1", NS)

    def replaced() -> bool:
        # 2 available is also what the old cart-cache-1 shows while it terminates: wait for its replacement to run,
        # failing readiness, or the assessment may read the old member going away instead of the failing one.
        pods = [p for p in env.pods("app=cart-cache") if p["metadata"]["name"] == "cart-cache-1"]
        return available(2)() and any(
            not p["metadata"].get("deletionTimestamp")
            and (p["metadata"].get("annotations") or {}).get(behaviors.BEHAVIOR) == behaviors.NOT_READY
            and (p.get("status") or {}).get("phase") == "Running"
            and not ready(p)
            for p in pods
        )

    await env.until(replaced)
    async with Client(env.server("safe")) as client:
        before = await call(client, "assess_namespace", namespace=NS)
        budget = {
            "metadata": {"name": "cart-cache", "namespace": NS},
            "spec": {"minAvailable": 3, "selector": {"matchLabels": {"app": "cart-cache"}}},
        }
        env.kube.create("poddisruptionbudgets", budget, NS)
        after = await call(client, "assess_namespace", namespace=NS)

    def cart(assessed: dict[str, Any]) -> dict[str, Any]:
        return next(p for p in assessed["problems"] if p["components"] == ["cart-cache"])

    assert cart(before)["impact"] == "degraded", cart(before)
    assert "2 of 3 replicas available (its minimum is 2)" in cart(before)["detail"], cart(before)
    assert cart(after)["impact"] == "below_minimum", cart(after)
    assert cart(after)["detail"] == (
        "statefulset cart-cache has 2 of 3 replicas available, below its minimum of 3 (PodDisruptionBudget "
        "cart-cache: minAvailable 3)"
    ), cart(after)

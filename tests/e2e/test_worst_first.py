"""Several problems at once, end to end: assess_namespace ranks them by user impact, primary_action takes the worst,
and after its mitigation the next assessment leads to the next problem, not back to the one handled."""

from __future__ import annotations

import pytest
from mcp import Client
from support.mitigation_env import NS, Env, Start, call, plan_and_confirm, ready

from incident_response.sim import behaviors
from incident_response.sim.scenarios.builders import deployment_body

pytestmark = pytest.mark.anyio


def add_outage(env: Env, name: str, replicas: int = 3) -> None:
    """A service in full outage with no deploy: its pods run for days but fail readiness, its Service has none."""
    body = deployment_body(
        name,
        namespace=NS,
        replicas=replicas,
        image=f"registry.example.com/shop/{name}:4.1",
        annotations={behaviors.ROLLED_OUT_MINUTES_AGO: str(3 * 24 * 60)},
        pod_annotations={behaviors.BEHAVIOR: behaviors.NOT_READY},
    )
    env.kube.create("deployments", body, NS)
    service = {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": name, "namespace": NS},
        "spec": {"selector": {"app": name}, "ports": [{"port": 80, "targetPort": 8080}]},
    }
    env.kube.create("services", service, NS)


async def test_an_outage_without_deploy_ranks_before_a_bad_deploy_whose_old_pods_still_serve(start: Start) -> None:
    env = start("bad-deploy")  # checkout's new revision crash-loops while its 4 old pods serve
    add_outage(env, "search")

    def built() -> bool:
        pods = env.pods("app=search")
        running = all(p["status"].get("phase") == "Running" and not ready(p) for p in pods)
        return len(pods) == 3 and running and env.settled("search", 3, 0)

    await env.until(built)
    async with Client(env.server("full")) as client:
        assessed = await call(client, "assess_namespace", namespace=NS)
        ranked = [(p["rank"], p["impact"], p["components"], p["action"]) for p in assessed["problems"]]
        assert ranked == [
            (1, "outage", ["search"], "INVESTIGATE"),
            (2, "degraded", ["checkout"], "ROLLBACK"),
        ], assessed["problems"]
        assert assessed["decision"]["target"] == "deployment/search"
        # Nothing explains it (no deploy, no load): its pods' Warning events say why they fail readiness.
        assert assessed["decision"]["next_tool"] == "list_events", assessed["decision"]
        assert assessed["decision"]["next_arguments"]["object"].startswith("pod/search-"), assessed["decision"]
        summary = assessed["summary"]
        assert "2 problems, worst for users first" in summary
        assert summary.index("service search has no ready endpoint") < summary.index("deployment checkout")

        # The worst one is mitigated (here: more replicas, the team's call once the events showed load).
        await plan_and_confirm(client, env, "scale_deployment", namespace=NS, deployment="search", replicas=4)
        verified = await call(client, "verify_recovery", namespace=NS, deployment="search")
        assert verified["verdict"] == "DEGRADED" and "assess_namespace" in verified["summary"]

        # Search still fails, but it was handled: the next assessment leads to checkout's rollback.
        again = await call(client, "assess_namespace", namespace=NS)
        assert (again["decision"]["target"], again["decision"]["next_tool"]) == (
            "deployment/checkout",
            "rollback_deployment",
        )
        assert [(p["components"], p["mitigated"]) for p in again["problems"]] == [
            (["checkout"], False),
            (["search"], True),
        ]
        assert "mitigated already" in again["summary"]


async def test_a_deployment_below_its_minimum_ranks_before_a_partial_degradation(start: Start) -> None:
    env = start("bad-deploy")
    # ledger: 4 replicas that all crash-loop, no Service in front: below its minimum of 3 available, no outage
    ledger = deployment_body(
        "ledger",
        namespace=NS,
        replicas=4,
        # 3 hours: no deploy of the last 2 hours, and not a standing failure of more than a day (those rank last)
        annotations={behaviors.ROLLED_OUT_MINUTES_AGO: str(3 * 60)},
        pod_annotations={behaviors.BEHAVIOR: behaviors.CRASHLOOP},
    )
    env.kube.create("deployments", ledger, NS)

    await env.until(lambda: len([p for p in env.pods("app=ledger") if p["status"].get("containerStatuses")]) == 4)
    async with Client(env.server("safe")) as client:
        assessed = await call(client, "assess_namespace", namespace=NS)
    impacts = [(p["impact"], p["components"]) for p in assessed["problems"]]
    assert impacts == [("below_minimum", ["ledger"]), ("degraded", ["checkout"])], assessed["problems"]
    assert "below its minimum of 3" in assessed["problems"][0]["detail"]

"""A recent deploy that came after a failure began is not its cause, end to end.

Built incident: ledger-batch (a worker, no Service) has crash-looped for two days; notifications, a healthy service,
had a config-only change 20 minutes ago. The framework's "unknown cause, recent deploy exists" rule used to send the
assistant to roll back notifications for ledger-batch's crash loop. The cluster's own record (the BackOff warnings
recurring since two days ago) shows the crash loop is older than the deploy: an on-call engineer dismisses it.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from mcp import Client
from support.mitigation_env import NS, Env, call, make_env, plan_and_confirm, ready

from incident_response.sim import behaviors
from incident_response.sim.scenarios.builders import deployment_body
from incident_response.sim.serve import RunningSim

pytestmark = pytest.mark.anyio

TWO_DAYS = str(2 * 24 * 60)
THREE_DAYS = str(3 * 24 * 60)


@pytest.fixture
def env(sim_factory: Callable[..., RunningSim], tmp_path: Path) -> Env:
    return make_env(sim_factory("healthy"), tmp_path / "state")


def crash_looping_worker(env: Env, minutes_ago: str | None) -> None:
    annotations = {behaviors.ROLLED_OUT_MINUTES_AGO: minutes_ago} if minutes_ago else {}
    body = deployment_body(
        "ledger-batch",
        namespace=NS,
        replicas=1,
        image="registry.example.com/shop/ledger-batch:2.0",
        annotations=annotations,
        pod_annotations={behaviors.BEHAVIOR: behaviors.CRASHLOOP},
    )
    env.kube.create("deployments", body, NS)


async def config_change_twenty_minutes_ago(env: Env) -> None:
    """notifications ran for three days; its second revision (an env var, same image) rolled out 20 minutes ago."""
    body = deployment_body(
        "notifications",
        namespace=NS,
        replicas=2,
        image="registry.example.com/shop/notifications:3.1",
        annotations={behaviors.ROLLED_OUT_MINUTES_AGO: THREE_DAYS},
    )
    env.kube.create("deployments", body, NS)
    await env.until(lambda: len([p for p in env.pods("app=notifications") if ready(p)]) == 2)
    patch = {
        "metadata": {"annotations": {behaviors.ROLLED_OUT_MINUTES_AGO: "20"}},
        "spec": {
            "template": {
                "spec": {"containers": [{"name": "notifications", "env": [{"name": "LOG_LEVEL", "value": "debug"}]}]}
            }
        },
    }
    env.kube.patch("deployments", "notifications", patch, NS, patch_type="strategic")

    def rolled() -> bool:  # its pods, and the controller's status, show the rollout done (none unavailable)
        pods = env.pods("app=notifications")
        deploy = env.get("deployments", "notifications")
        status = deploy.get("status") or {}
        settled = status.get("updatedReplicas") == 2 and status.get("availableReplicas") == 2
        return (
            len(pods) == 2
            and all(ready(p) for p in pods)
            and deploy["metadata"]["annotations"].get("deployment.kubernetes.io/revision") == "2"
            and settled
            and not status.get("unavailableReplicas")
            and env.observed("notifications")
        )

    await env.until(rolled)


def crashing(env: Env) -> bool:
    pods = env.pods("app=ledger-batch")
    return len(pods) == 1 and bool((pods[0]["status"].get("containerStatuses") or [{}])[0].get("restartCount"))


async def test_a_deploy_after_a_crash_loop_began_is_not_rolled_back_for_it(env: Env) -> None:
    crash_looping_worker(env, TWO_DAYS)
    await config_change_twenty_minutes_ago(env)
    await env.until(lambda: crashing(env))
    async with Client(env.server("safe")) as client:
        assessed = await call(client, "assess_namespace", namespace=NS)
        decided = await call(client, "evaluate_decision", namespace=NS)

    assert [r["deployment"] for r in assessed["recent_rollouts"]] == ["notifications"], assessed["recent_rollouts"]
    (problem,) = assessed["problems"]
    assert problem["components"] == ["ledger-batch"], problem
    assert problem["target"] == "deployment/ledger-batch" and problem["action"] == "INVESTIGATE", problem
    # The next call reads why it crashes: the previous log of one of its pods.
    assert problem["next_tool"] == "get_logs" and problem["next_arguments"]["previous"] is True, problem
    assert problem["next_arguments"]["pod_or_deployment"].startswith("ledger-batch-"), problem
    assert assessed["decision"]["next_tool"] != "rollback_deployment", assessed["decision"]
    reason = assessed["decision"]["reason"]
    assert "at least 2 days" in reason and "notifications" in reason and "get_logs" in reason, reason
    # The summary does not read as advice to scale a crash loop.
    assert "-> INVESTIGATE with get_logs" in assessed["summary"] and "SCALE" not in assessed["summary"], assessed
    assert "notifications" not in str(decided.get("next_arguments")), decided
    assert decided["next_tool"] != "rollback_deployment", decided


async def test_a_deploy_before_the_crash_loop_began_is_still_the_suspect(env: Env) -> None:
    await config_change_twenty_minutes_ago(env)
    crash_looping_worker(env, None)  # begins crash-looping now, 20 minutes after the deploy
    await env.until(lambda: crashing(env))
    async with Client(env.server("safe")) as client:
        assessed = await call(client, "assess_namespace", namespace=NS)

    decision = assessed["decision"]
    assert (decision["rule"], decision["target"]) == (
        "unknown cause, recent deploy exists",
        "deployment/notifications",
    ), decision


def hpa_pinned_over(env: Env, name: str, replicas: int, above: int) -> Callable[[], bool]:
    """The HPA runs `replicas` (its max), every pod Ready, and its CPU metric reads above `above`% of requests."""

    def check() -> bool:
        status = env.get("horizontalpodautoscalers", name).get("status") or {}
        metrics = status.get("currentMetrics") or [{}]
        utilization = ((metrics[0].get("resource") or {}).get("current") or {}).get("averageUtilization") or 0
        pods = [p for p in env.pods(f"app={name}") if not p["metadata"].get("deletionTimestamp")]
        return status.get("currentReplicas") == replicas and len(pods) == replicas and utilization > above

    return check


async def test_a_standing_failure_ranks_after_the_incidents_problems_and_their_follow_up(env: Env) -> None:
    """payments-api (4 pods at the HPA's max, 4 cores of traffic, 500m limits) is in outage; ledger-batch has
    crash-looped for two days. The override asked for is a floor (12; the load needs 23): verify_recovery says DEGRADED
    and sends the assistant back to assess_namespace, whose next action used to be ledger-batch's standing crash loop
    (with no tool), while payments-api's follow-up sat last as "mitigated already": a loop with no way forward."""
    crash_looping_worker(env, TWO_DAYS)
    payments = deployment_body(
        "payments-api",
        namespace=NS,
        replicas=4,
        image="registry.example.com/shop/payments-api:7.2.0",
        annotations={behaviors.ROLLED_OUT_MINUTES_AGO: THREE_DAYS, behaviors.LOAD_MILLICORES: "4000"},
        cpu=("250m", "500m"),
    )
    env.kube.create("deployments", payments, NS)
    service = {
        "metadata": {"name": "payments-api"},
        "spec": {"selector": {"app": "payments-api"}, "ports": [{"port": 80}]},
    }
    env.kube.create("services", service, NS)
    hpa = {
        "metadata": {"name": "payments-api"},
        "spec": {
            "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "payments-api"},
            "minReplicas": 3,
            "maxReplicas": 4,
            "metrics": [
                {
                    "type": "Resource",
                    "resource": {"name": "cpu", "target": {"type": "Utilization", "averageUtilization": 70}},
                }
            ],
        },
    }
    env.kube.create("horizontalpodautoscalers", hpa, NS)
    await env.until(lambda: crashing(env) and hpa_pinned_over(env, "payments-api", 4, 150)(), 120)

    async with Client(env.server("full")) as client:
        first = await call(client, "assess_namespace", namespace=NS)
        assert [p["components"] for p in first["problems"]] == [["payments-api"], ["ledger-batch"]], first["problems"]
        assert "older than this incident" in first["problems"][1]["detail"], first["problems"][1]
        arguments = first["decision"]["next_arguments"]
        evaluated = await call(client, "evaluate_decision", namespace=NS)
        assert ".. Next:" not in evaluated["summary"] and ". Next: override_hpa(" in evaluated["summary"], evaluated
        assert first["decision"]["next_tool"] == "override_hpa" and arguments["max_replicas"] < 23, first["decision"]
        await plan_and_confirm(client, env, "override_hpa", **arguments)
        await env.until(hpa_pinned_over(env, "payments-api", arguments["max_replicas"], 100), 120)

        verified = await call(client, "verify_recovery", namespace=NS, deployment="payments-api")
        assert verified["verdict"] == "DEGRADED" and "assess_namespace" in verified["summary"], verified["summary"]
        again = await call(client, "assess_namespace", namespace=NS)

    decision = again["decision"]
    assert (decision["target"], decision["next_tool"]) == ("hpa/payments-api", "override_hpa"), decision
    assert decision["next_arguments"]["min_replicas"] >= 23, decision
    assert [p["components"] for p in again["problems"]] == [["payments-api"], ["ledger-batch"]], again["problems"]

"""verify_recovery cannot contradict the cluster, end to end on incidents built for it: an autoscaler raised too
little stays pinned over its target, a scale too small leaves new pods failing readiness from load, an isolated
deployment is ISOLATED (not recovered), and another deployment's rollback is not credited to a bystander."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from mcp import Client
from mcp.server import MCPServer
from support.confirm_env import Clock
from support.mitigation_env import NS, Env, Start, call, plan_and_confirm, ready, serving
from support.texts import handoff_fields

from incident_response.server.app import build_server
from incident_response.server.config import Settings
from incident_response.sim import behaviors
from incident_response.sim.scenarios.builders import deployment_body
from incident_response.tools.kube.client import ClusterSource

pytestmark = pytest.mark.anyio


def server(env: Env, clock: Clock) -> MCPServer[Any]:
    assert env.sim.kubeconfig_path is not None
    source = ClusterSource(kubeconfig=env.sim.kubeconfig_path, context=env.sim.context)
    return build_server(Settings(mode="full", state_dir=env.state, cluster=source), clock=clock)


def check(report: dict[str, Any], name: str) -> dict[str, Any]:
    return next(c for c in report["checks"] if c["name"] == name)


def add_app(env: Env, name: str, *, replicas: int, load: int, cpu: tuple[str, str], hpa_max: int | None = None) -> None:
    """A deployment carrying `load` millicores in all (shared by its pods), behind its own Service, optionally with
    an HPA (min 2, cpu target 70%)."""
    body = deployment_body(
        name,
        namespace=NS,
        replicas=replicas,
        image=f"registry.example.com/shop/{name}:2.0",
        annotations={behaviors.LOAD_MILLICORES: str(load)},
        cpu=cpu,
    )
    env.kube.create("deployments", body, NS)
    service = {
        "metadata": {"name": name},
        "spec": {"selector": {"app": name}, "ports": [{"port": 80, "targetPort": 8080}]},
    }
    env.kube.create("services", service, NS)
    if hpa_max is not None:
        hpa = {
            "apiVersion": "autoscaling/v2",
            "kind": "HorizontalPodAutoscaler",
            "metadata": {"name": name},
            "spec": {
                "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": name},
                "minReplicas": 2,
                "maxReplicas": hpa_max,
                "metrics": [
                    {
                        "type": "Resource",
                        "resource": {"name": "cpu", "target": {"type": "Utilization", "averageUtilization": 70}},
                    }
                ],
            },
        }
        env.kube.create("horizontalpodautoscalers", hpa, NS)


def hpa_status(env: Env, name: str) -> dict[str, Any]:
    return dict(env.get("horizontalpodautoscalers", name).get("status") or {})


def serving_all(env: Env, name: str, replicas: int) -> bool:
    """`replicas` pods, every one Ready, none terminating, all of them the Service's ready endpoints."""
    pods = env.pods(f"app={name}")
    if len(pods) != replicas or not all(ready(p) and not p["metadata"].get("deletionTimestamp") for p in pods):
        return False
    return serving(env, name) == (sorted(p["metadata"]["name"] for p in pods), [])


def rolled_out(env: Env, name: str) -> bool:
    """Its status has observed its spec and counts every wanted replica updated, ready and available."""
    deploy = env.get("deployments", name)
    meta, spec, status = deploy["metadata"], deploy.get("spec") or {}, deploy.get("status") or {}
    wanted = spec.get("replicas", 1)
    counts = [status.get(k) or 0 for k in ("replicas", "updatedReplicas", "readyReplicas", "availableReplicas")]
    return status.get("observedGeneration", 0) >= meta.get("generation", 0) and counts == [wanted] * 4


async def test_an_hpa_raised_too_little_and_pinned_over_its_target_is_degraded_not_recovered(start: Start) -> None:
    env = start("healthy")  # web, api, checkout... serve beside it, untouched
    # 680m over pods requesting 250m at a 70% target wants 4 pods; the HPA may add only 2.
    add_app(env, "search", replicas=2, load=680, cpu=("250m", "1"), hpa_max=2)
    await env.until(
        lambda: hpa_status(env, "search").get("currentMetrics") is not None and serving_all(env, "search", 2)
    )
    clock = Clock()
    async with Client(server(env, clock)) as client:
        # Raised, but not enough: 3 pods at about 91% of their requests, still over the 70% target.
        await plan_and_confirm(client, env, "override_hpa", namespace=NS, hpa="search", min_replicas=2, max_replicas=3)

        def pinned_at_three() -> bool:
            status = hpa_status(env, "search")
            return status.get("currentReplicas") == 3 and serving_all(env, "search", 3)

        await env.until(pinned_at_three, 30)
        clock.now = datetime.now(UTC) + timedelta(minutes=6)  # the stability window has passed: no "settling" left
        report = await call(client, "verify_recovery", namespace=NS, deployment="search")
    assert report["verdict"] == "DEGRADED", report["summary"]
    resources = check(report, "resources")
    assert resources["passed"] is False
    assert resources["detail"].startswith("HPA search is pinned at its max of 3 (3 replicas) with cpu ")
    assert "target 70%" in resources["detail"] and "its own formula asks for 4" in resources["detail"]
    assert check(report, "pods")["passed"] is True  # every pod is Ready: only the autoscaler tells
    assert "assess_namespace(shop) picks the next action" in report["summary"]
    assert report["last_mitigation"]["tool"] == "override_hpa"  # the HPA scales it: credited to it


async def test_new_pods_failing_readiness_from_load_are_failing_not_settling(start: Start) -> None:
    env = start("healthy")
    # 1600m over pods limited to 500m: 2 pods carry 800m each, 3 still 533m each, past the limit: not Ready.
    add_app(env, "render", replicas=2, load=1600, cpu=("250m", "500m"))

    def overloaded(count: int) -> bool:
        pods = env.pods("app=render")
        names = {p["metadata"]["name"] for p in pods if p["status"].get("phase") == "Running"}
        probed = {
            e["involvedObject"]["name"]
            for e in env.kube.list("events", NS, field_selector="reason=Unhealthy").items
            if e["involvedObject"].get("kind") == "Pod"
        }
        return len(pods) == count and len(names) == count and names <= probed

    await env.until(lambda: overloaded(2))
    clock = Clock()
    async with Client(server(env, clock)) as client:
        await plan_and_confirm(client, env, "scale_deployment", namespace=NS, deployment="render", replicas=3)
        await env.until(lambda: overloaded(3), 30)
        report = await call(client, "verify_recovery", namespace=NS, deployment="render")
    assert report["verdict"] == "DEGRADED", report["summary"]  # every pod is minutes old: not "starting"
    pods = check(report, "pods")
    assert pods["passed"] is False and pods["detail"].startswith("3 of 3 pods failing")
    assert len(pods["evidence"]) == 3
    assert all(
        "not Ready under load: cpu 500m of limit 500m (100%), readiness probe failing" in line
        for line in pods["evidence"]
    )
    assert "still settling" not in report["summary"] and report["recheck_at"] is None


async def test_an_isolated_deployment_is_isolated_not_recovered_and_the_victim_recovers(start: Start) -> None:
    env = start("poison")  # api-bad's version=bad pods break web through api's Service
    clock = Clock()
    async with Client(server(env, clock)) as client:
        plan, _ = await plan_and_confirm(client, env, "isolate_network", namespace=NS, selector="app=api,version=bad")
        [measure] = (await call(client, "list_temporary_measures"))["measures"]
        # Served again, and web's and api's status caught up with their pods (a tick or two behind): until then
        # their rollouts are not done and verify_recovery rightly says "still settling".
        await env.until(
            lambda: (
                serving_all(env, "web", len(env.pods("app=web"))) and rolled_out(env, "web") and rolled_out(env, "api")
            ),
            30,
        )
        clock.now = datetime.now(UTC) + timedelta(minutes=6)
        isolated = await call(client, "verify_recovery", namespace=NS, deployment="api-bad")
        victim = await call(client, "verify_recovery", namespace=NS, deployment="web")
        bystander = await call(client, "verify_recovery", namespace=NS, deployment="api")
        handoff = await handoff_fields(client, namespace=NS, deployment="api-bad")
    # Its pods run, are Ready and stay in api's endpoints (a NetworkPolicy does not change endpoints): all pass.
    assert all(c["passed"] is not False for c in isolated["checks"]), isolated["checks"]
    assert isolated["verdict"] == "ISOLATED", isolated["summary"]
    [line] = isolated["isolated_by"]
    policy = plan["target"]["name"]
    assert line.startswith(f"NetworkPolicy {policy} denies all ingress to 2 of its 2 pods (api-bad-")
    assert f"measure {measure['measure_id']} of incident" in line
    assert isolated["summary"].startswith("api-bad: ISOLATED - cut off from traffic by a temporary measure: ")
    assert "containment, not recovery" in isolated["summary"] and "restore_measure" in isolated["summary"]
    assert isolated["recheck_at"] is None and isolated["stabilized_incident"] is None
    assert victim["verdict"] == "RECOVERED" and victim["isolated_by"] == [], victim["summary"]
    assert bystander["verdict"] == "RECOVERED" and bystander["isolated_by"] == [], bystander["summary"]
    # The handoff does not call it running: contained, with the question of when the measure can go.
    assert handoff["overall_verdict"] == "ISOLATED" and handoff["current_state"]["service"] == "partial"
    assert any(q.startswith("api-bad is ISOLATED by a temporary measure: ") for q in handoff["open_questions"])


async def test_an_isolation_the_server_may_not_read_back_still_counts_as_in_place(start: Start) -> None:
    env = start("poison")
    clock = Clock()
    async with Client(server(env, clock)) as client:
        await plan_and_confirm(client, env, "isolate_network", namespace=NS, selector="app=api,version=bad")
        env.sim.authz.deny("get", "networkpolicies")  # RBAC that lets it create policies but not read one
        report = await call(client, "verify_recovery", namespace=NS, deployment="api-bad")
    assert report["verdict"] == "ISOLATED", report["summary"]
    assert report["isolated_by"][0].startswith("NetworkPolicy incident-isolate-api-bad denies all ingress to 2 of")


async def test_another_deployments_rollback_is_not_credited_to_a_bystander(start: Start) -> None:
    env = start("bad-deploy")  # checkout's new revision crash-loops; api beside it has served for days
    clock = Clock()
    async with Client(server(env, clock)) as client:
        await plan_and_confirm(client, env, "rollback_deployment", namespace=NS, deployment="checkout")
        bystander = await call(client, "verify_recovery", namespace=NS, deployment="api")
        rolled_back = await call(client, "verify_recovery", namespace=NS, deployment="checkout")
    assert bystander["last_mitigation"] is None, bystander["last_mitigation"]
    # Nothing was done to it and it has been stable for days: not "stable for 0 of 5 minutes after the rollback".
    assert bystander["verdict"] == "RECOVERED", bystander["summary"]
    assert "rollback_deployment" not in bystander["summary"]
    assert rolled_back["last_mitigation"]["tool"] == "rollback_deployment"
    assert rolled_back["last_mitigation"]["target"] == "deployment/checkout -n shop"


async def test_a_deployment_its_service_was_moved_off_is_isolated_and_the_one_it_now_selects_is_credited(
    start: Start,
) -> None:
    env = start("poison")
    clock = Clock()
    async with Client(server(env, clock)) as client:
        await plan_and_confirm(
            client, env, "patch_service_selector", namespace=NS, service="api", selector="app=api,version=stable"
        )
        await env.until(lambda: all("bad" not in n for n in serving(env, "api")[0]), 30)
        moved_off = await call(client, "verify_recovery", namespace=NS, deployment="api-bad")
        kept = await call(client, "verify_recovery", namespace=NS, deployment="api")
    assert moved_off["verdict"] == "ISOLATED", moved_off["summary"]
    [line] = moved_off["isolated_by"]
    assert line.startswith("Service api no longer selects its pods (its selector is now app=api,version=stable)")
    assert "(patch_service_selector, measure " in line
    # The stable pods the Service now sends everything to: not isolated, and the patch is credited to them.
    assert kept["isolated_by"] == [] and kept["verdict"] in ("RECOVERING", "RECOVERED"), kept["summary"]
    assert kept["last_mitigation"]["tool"] == "patch_service_selector"

"""verify_recovery end to end: an MCP client, our server, the simulated cluster before and after a mitigation."""

from __future__ import annotations

import functools
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from mcp import Client
from mcp.server import MCPServer
from support.confirm_env import Clock
from support.mitigation_env import NS, Env, Start, call, plan_and_confirm, ready, refused, serving
from support.texts import handoff_fields

from incident_response.server.app import build_server
from incident_response.server.config import Settings
from incident_response.tools.assess import recovery
from incident_response.tools.kube.client import ClusterSource, Kube, ListResult, RealKube

pytestmark = pytest.mark.anyio

WRITES = ("create", "update", "patch", "delete", "deletecollection")


def server(env: Env, *, clock: Clock | None = None, kube: Kube | None = None) -> MCPServer[Any]:
    assert env.sim.kubeconfig_path is not None
    source = ClusterSource(kubeconfig=env.sim.kubeconfig_path, context=env.sim.context)
    return build_server(Settings(mode="full", state_dir=env.state, cluster=source), kube, clock=clock)


async def verify(client: Client, deployment: str, **arguments: Any) -> dict[str, Any]:
    return await call(client, "verify_recovery", namespace=NS, deployment=deployment, **arguments)


def results(report: dict[str, Any]) -> dict[str, bool | None]:
    return {check["name"]: check["passed"] for check in report["checks"]}


def check(report: dict[str, Any], name: str) -> dict[str, Any]:
    return next(c for c in report["checks"] if c["name"] == name)


def settled(env: Env, deployment: str, service: str | None) -> bool:
    """Rolled out, every pod Ready, none terminating, and (with a Service) all of them its ready endpoints."""
    deploy = env.get("deployments", deployment)
    status, want = deploy.get("status") or {}, deploy["spec"]["replicas"]
    if status.get("observedGeneration") != deploy["metadata"]["generation"]:
        return False
    if not status.get("updatedReplicas") == status.get("availableReplicas") == status.get("replicas") == want:
        return False
    pods = env.pods(f"app={deployment}")
    if len(pods) != want or not all(ready(p) and not p["metadata"].get("deletionTimestamp") for p in pods):
        return False
    return service is None or serving(env, service) == (sorted(p["metadata"]["name"] for p in pods), [])


async def test_bad_deploy_is_degraded_then_recovering_after_the_rollback_then_recovered_after_the_window(
    start: Start,
) -> None:
    env = start("bad-deploy")
    clock = Clock()
    async with Client(server(env, clock=clock)) as client:
        before = await verify(client, "checkout")
        assert before["verdict"] == "DEGRADED", before["summary"]
        failing = {name for name, passed in results(before).items() if passed is False}
        assert {"pods", "restarts", "warnings"} <= failing
        assert before["summary"].startswith("checkout: DEGRADED - failing: pods (")
        assert before["recheck_at"] is None and before["last_mitigation"] is None
        cycling = check(before, "restarts")["evidence"]
        assert cycling and all(line.startswith("checkout-") and "restart" in line for line in cycling)

        await plan_and_confirm(client, env, "rollback_deployment", namespace=NS, deployment="checkout")
        await env.until(lambda: settled(env, "checkout", "checkout"), 40)
        after = await verify(client, "checkout")
        assert after["verdict"] == "RECOVERING", after["summary"]
        assert results(after) == dict.fromkeys(("pods", "endpoints", "warnings", "resources", "restarts"), True)
        assert after["services"] == ["checkout"] and after["ready_replicas"] == after["desired_replicas"] == 4
        mitigation = after["last_mitigation"]
        assert mitigation["tool"] == "rollback_deployment" and mitigation["target"] == "deployment/checkout -n shop"
        finished = datetime.fromisoformat(mitigation["finished_at"])
        assert abs(finished - clock.now) < timedelta(seconds=1)  # the server's clock, not the wall's
        stable_since = datetime.fromisoformat(after["stable_since"])
        assert stable_since >= finished
        assert datetime.fromisoformat(after["recheck_at"]) == stable_since + timedelta(minutes=5)
        assert "replaced (not counted)" in check(after, "warnings")["detail"]  # the crash-looping pods' BackOffs
        assert "stable for 0 of 5 minutes" in after["summary"] and "check again at" in after["summary"]

        clock.now = datetime.now(UTC) + timedelta(minutes=6)
        later = await verify(client, "checkout")
    assert later["verdict"] == "RECOVERED", later["summary"]
    assert all(results(later).values()) and later["recheck_at"] is None


async def test_healthy_is_recovered_with_every_check_passed_and_writes_nothing(start: Start) -> None:
    env = start("healthy")
    for verb in WRITES:
        env.sim.authz.deny(verb, "*")
    async with Client(server(env)) as client:
        report = await verify(client, "checkout")
        named = await verify(client, "web", service="web", window_minutes=60)
    assert report["verdict"] == "RECOVERED", report["summary"]
    assert results(report) == dict.fromkeys(("pods", "endpoints", "warnings", "resources", "restarts"), True)
    assert report["summary"].startswith(
        "checkout: RECOVERED - 4/4 pods ready, endpoints: service checkout: 4/4 of its pods"
    )
    assert report["recheck_at"] is None and report["window_minutes"] == 5
    assert named["verdict"] == "RECOVERED" and named["services"] == ["web"] and named["window_minutes"] == 60


async def test_overload_fails_the_resources_check_on_cpu_near_the_limit(shared: Start) -> None:
    env = shared("overload")
    async with Client(server(env)) as client:
        report = await verify(client, "web")
    assert report["verdict"] == "DEGRADED"
    resources = check(report, "resources")
    assert resources["passed"] is False and "at or above 90% of a limit" in resources["detail"]
    pinned, *pods = resources["evidence"]
    assert pinned.startswith("HPA web is pinned at its max of 6 (6 replicas) with cpu ") and "target 70%" in pinned
    assert pods and all(" cpu " in line and "of limit" in line for line in pods)
    assert "resources (" in report["summary"]


async def test_a_deployment_no_service_fronts_says_so_and_is_not_degraded_for_it(start: Start) -> None:
    env = start("healthy")
    labels = {"app": "worker"}
    body = {
        "metadata": {"name": "worker", "namespace": NS},
        "spec": {
            "replicas": 2,
            "selector": {"matchLabels": labels},
            "template": {
                "metadata": {"labels": labels},
                "spec": {"containers": [{"name": "worker", "image": "registry.example.com/shop/worker:1.0.0"}]},
            },
        },
    }
    env.kube.create("deployments", body, NS)
    await env.until(lambda: settled(env, "worker", None))
    async with Client(server(env)) as client:
        report = await verify(client, "worker")
    endpoints = check(report, "endpoints")
    assert endpoints["passed"] is None and "no Service selects worker's pods" in endpoints["detail"]
    assert report["services"] == [] and "no Service in front of it" in report["summary"]
    assert report["verdict"] == "RECOVERING"  # its pods became Ready moments ago: not yet stable for 5 minutes
    assert {results(report)[n] for n in ("pods", "warnings", "restarts")} == {True}


async def test_without_the_metrics_api_resources_is_unchecked_and_the_verdict_does_not_suffer(start: Start) -> None:
    env = start("healthy")
    # No metrics-server: the API server answers 404 for metrics.k8s.io (PodMetrics are "pods" of that group).
    env.sim.faults.add("status", resource="pods", group="metrics.k8s.io", status=404)
    async with Client(server(env)) as client:
        report = await verify(client, "checkout")
    resources = check(report, "resources")
    assert resources["passed"] is None and "metrics API (metrics.k8s.io) is not available" in resources["detail"]
    assert report["verdict"] == "RECOVERED", report["summary"]
    assert "resources not checked" in report["summary"]


async def test_when_the_metrics_api_is_forbidden_resources_is_unchecked(start: Start) -> None:
    env = start("healthy")
    env.sim.authz.deny("list", "pods", group="metrics.k8s.io")
    async with Client(server(env)) as client:
        report = await verify(client, "checkout")
    resources = check(report, "resources")
    assert resources["passed"] is None and "may not read the metrics API" in resources["detail"]
    assert report["verdict"] == "RECOVERED"


async def test_unknown_deployment_service_or_window_is_a_clear_error(shared: Start) -> None:
    env = shared("healthy")
    async with Client(server(env)) as client:
        missing = await refused(client, "verify_recovery", namespace=NS, deployment="nope")
        no_service = await refused(client, "verify_recovery", namespace=NS, deployment="web", service="nope")
        too_long = await refused(client, "verify_recovery", namespace=NS, deployment="web", window_minutes=61)
        too_short = await refused(client, "verify_recovery", namespace=NS, deployment="web", window_minutes=0)
    assert "no deployment 'nope' in namespace shop" in missing
    assert "no service 'nope' in namespace shop; leave service out" in no_service
    assert "window_minutes" in too_long and "window_minutes" in too_short


async def test_a_named_service_that_does_not_select_the_deployment_is_refused(shared: Start) -> None:
    env = shared("healthy")
    async with Client(server(env)) as client:
        message = await refused(client, "verify_recovery", namespace=NS, deployment="checkout", service="web")
    assert "service 'web' does not select deployment checkout's pods (its selector: app=web)" in message
    assert "leave service out" in message


async def test_scaled_to_zero_behind_its_own_service_is_degraded_because_the_service_serves_nothing(
    start: Start,
) -> None:
    env = start("healthy")
    env.kube.patch("deployments", "api", {"spec": {"replicas": 0}}, NS, patch_type="merge")
    await env.until(lambda: not env.pods("app=api") and serving(env, "api") == ([], []))
    async with Client(server(env)) as client:
        report = await verify(client, "api")
    assert report["verdict"] == "DEGRADED", report["summary"]
    assert check(report, "pods")["passed"] is True and check(report, "pods")["detail"].startswith("scaled to 0")
    endpoints = check(report, "endpoints")
    assert endpoints["passed"] is False
    assert endpoints["detail"] == "service api has no ready endpoints: it sends traffic nowhere (api is scaled to 0)"
    assert report["summary"].endswith("Scale it up (scale_deployment) if that Service should serve")


async def test_a_paused_rollout_waits_on_a_human_who_is_told_how_to_resume_it(start: Start) -> None:
    env = start("healthy")
    env.kube.patch("deployments", "api", {"spec": {"paused": True}}, NS, patch_type="merge")
    change = {"spec": {"template": {"metadata": {"annotations": {"example.com/restarted": "1"}}}}}
    env.kube.patch("deployments", "api", change, NS, patch_type="strategic")

    def observed() -> bool:
        deploy = env.get("deployments", "api")
        return bool(deploy["status"].get("observedGeneration") == deploy["metadata"]["generation"])

    await env.until(observed)
    async with Client(server(env)) as client:
        report = await verify(client, "api")
    resume = "kubectl rollout resume deployment/api -n shop --context sim"
    assert report["verdict"] == "RECOVERING" and report["recheck_at"] is None, report["summary"]
    assert check(report, "pods")["passed"] is None and resume in check(report, "pods")["detail"]
    assert (
        f"waiting on a human: the rollout is paused and will not finish until resumed: {resume}" in (report["summary"])
    )
    assert "check again" not in report["summary"]


async def test_a_metrics_api_that_drops_the_connection_leaves_resources_unchecked_not_the_whole_call(
    start: Start,
) -> None:
    env = start("healthy")
    env.sim.faults.add("drop_before", resource="pods", group="metrics.k8s.io")
    async with Client(server(env)) as client:
        report = await verify(client, "checkout")
    resources = check(report, "resources")
    assert resources["passed"] is None and resources["detail"].startswith("not checked: the metrics API did not answer")
    assert report["verdict"] == "RECOVERED", report["summary"]


class PartialEvents:
    """The real seam, except that event lists say the namespace held more than the page read."""

    def __init__(self, kube: RealKube) -> None:
        self.kube = kube
        self.context = kube.context

    def __getattr__(self, name: str) -> Any:
        return getattr(self.kube, name)

    def list(self, resource: str, namespace: str | None = None, **options: Any) -> ListResult:
        listed = self.kube.list(resource, namespace, **options)
        return replace(listed, truncated=True) if resource == "events" else listed


async def test_warnings_are_not_called_clean_when_only_part_of_the_namespace_events_were_read(shared: Start) -> None:
    env = shared("healthy")
    async with Client(server(env, kube=PartialEvents(env.kube))) as client:
        report = await verify(client, "checkout")
    warnings = check(report, "warnings")
    read = len(env.kube.list("events", NS, field_selector="type=Warning").items)
    assert warnings["passed"] is None and f"only the first {read} Warning events" in warnings["detail"]
    assert f"warnings not judged: only the first {read}" in report["summary"]


async def test_the_handoff_says_when_its_warning_read_stopped_short(shared: Start) -> None:
    env = shared("bad-deploy")
    async with Client(server(env, kube=PartialEvents(env.kube))) as client:
        await call(client, "declare_incident", title="checkout crash-looping", severity="SEV2", namespace=NS)
        handoff = await handoff_fields(client, namespace=NS)
    said = [q for q in handoff["open_questions"] if "holds more Warning events than one handoff reads" in q]
    assert said and "the first warning of the timeline may be among the rest" in said[0], handoff["open_questions"]


class PagedPods(PartialEvents):
    """The real seam, reading pods two at a time: the deployment has more pods than one read returns."""

    def list(self, resource: str, namespace: str | None = None, **options: Any) -> ListResult:
        return self.kube.list(resource, namespace, **options)

    def table(self, resource: str, namespace: str | None = None, **options: Any) -> dict[str, Any]:
        if resource == "pods":
            options["limit"] = 2
        return self.kube.table(resource, namespace, **options)


async def test_a_deployment_with_more_pods_than_one_read_is_judged_from_its_status_not_left_settling(
    start: Start, monkeypatch: pytest.MonkeyPatch
) -> None:
    env = start("healthy")
    # A read stops at its cap (100,000 pods in production; 2 here, one page of the stand-in).
    monkeypatch.setattr(recovery, "fetch_pods", functools.partial(recovery.fetch_pods, limit=2))
    async with Client(server(env, kube=PagedPods(env.kube))) as client:
        report = await verify(client, "checkout")
    pods = check(report, "pods")
    assert pods["passed"] is True and "by the deployment's status (2 of its pods read" in pods["detail"]
    assert pods["evidence"] == ["pod list truncated: only the pods read were judged"]
    assert report["verdict"] == "RECOVERED" and report["ready_replicas"] == 4, report["summary"]


async def test_a_deployment_whose_pods_take_several_pages_is_judged_on_every_pod(start: Start) -> None:
    env = start("healthy")
    async with Client(server(env, kube=PagedPods(env.kube))) as client:
        report = await verify(client, "checkout")
    pods = check(report, "pods")
    assert pods["passed"] is True and "truncated" not in " ".join(pods["evidence"]), pods
    assert report["verdict"] == "RECOVERED" and report["ready_replicas"] == 4, report["summary"]


async def test_warnings_the_mitigation_answered_do_not_keep_a_recovering_service_degraded(start: Start) -> None:
    env = start("overload")
    async with Client(server(env)) as client:
        before = await verify(client, "web")
        assert before["verdict"] == "DEGRADED" and check(before, "warnings")["passed"] is False
        # Room for the load: 3300m over pods requesting 250m at a 70% target wants 19 (12 would stay pinned).
        await plan_and_confirm(client, env, "override_hpa", namespace=NS, hpa="web", min_replicas=9, max_replicas=20)
        await env.until(
            lambda: settled(env, "web", "web") and env.get("deployments", "web")["spec"]["replicas"] == 19, 40
        )
        after = await verify(client, "web")
    warnings = check(after, "warnings")
    assert warnings["passed"] is True, after["summary"]
    assert (
        warnings["detail"].startswith("no Warning events since ")
        and "when the current state began" in (warnings["detail"])
    )
    assert "more from before then, not counted" in warnings["detail"]
    assert after["verdict"] == "RECOVERING" and after["recheck_at"] is not None, after["summary"]


async def test_a_credential_in_a_warning_message_does_not_leave_the_server(start: Start) -> None:
    env = start("healthy")
    pod = env.pods("app=checkout")[0]["metadata"]["name"]
    now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    leaky = {
        "metadata": {"name": f"{pod}.leaky", "namespace": NS},
        "type": "Warning",
        "reason": "Unhealthy",
        "message": "Readiness probe failed: dial postgres://checkout:s3cr3t@orders-db:5432 password=hunter2",
        "count": 1,
        "involvedObject": {"kind": "Pod", "name": pod, "namespace": NS},
        "firstTimestamp": now,
        "lastTimestamp": now,
    }
    env.kube.create("events", leaky, NS)
    async with Client(server(env)) as client:
        result = await client.call_tool("verify_recovery", {"namespace": NS, "deployment": "checkout"})
    assert not result.is_error and result.structured_content is not None
    assert check(result.structured_content, "warnings")["passed"] is False  # the warning itself still counts
    everything = str(result.structured_content) + " ".join(getattr(c, "text", "") for c in result.content)
    assert "s3cr3t" not in everything and "hunter2" not in everything

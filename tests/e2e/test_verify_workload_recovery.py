"""verify_recovery for a StatefulSet and a DaemonSet end to end: an MCP client, our server, the simulated cluster's
bad-statefulset and bad-daemonset before and after rollback_workload; real kubectl's rollout status and the objects'
own status fields are the oracle for the revision facts the tool reports."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import anyio.to_thread
import pytest
from mcp import Client
from mcp.server import MCPServer
from support.confirm_env import Clock
from support.kubectl_runner import Kubectl
from support.mitigation_env import NS, Env, call, make_env, plan_and_confirm, refused, serving

from incident_response.server.app import build_server
from incident_response.server.config import Settings
from incident_response.sim.serve import RunningSim
from incident_response.tools.kube.client import ClusterSource

pytestmark = pytest.mark.anyio

CHECKS = ("pods", "endpoints", "warnings", "resources", "restarts")


def server(env: Env, clock: Clock) -> MCPServer[Any]:
    assert env.sim.kubeconfig_path is not None
    source = ClusterSource(kubeconfig=env.sim.kubeconfig_path, context=env.sim.context)
    return build_server(Settings(mode="full", state_dir=env.state, cluster=source), clock=clock)


def results(report: dict[str, Any]) -> dict[str, bool | None]:
    return {check["name"]: check["passed"] for check in report["checks"]}


def check(report: dict[str, Any], name: str) -> dict[str, Any]:
    return next(c for c in report["checks"] if c["name"] == name)


async def rolled_out(k: Kubectl, target: str) -> None:
    done = await anyio.to_thread.run_sync(
        lambda: k.run("rollout", "status", target, "-n", NS, "--timeout=60s", check=False)
    )
    assert done.returncode == 0, done.stdout + done.stderr


def settled(env: Env, kind: str, name: str, want: int, service: str | None) -> bool:
    """Every pod of the workload Running and Ready and none terminating, the controller's status saying so too, and
    (with a Service) every pod its ready endpoint: what verify_recovery reads, all caught up."""
    pods = env.pods(f"app={name}")
    names = sorted(p["metadata"]["name"] for p in pods)
    if len(pods) != want or not all(
        not p["metadata"].get("deletionTimestamp")
        and any(c["type"] == "Ready" and c["status"] == "True" for c in p["status"].get("conditions") or [])
        for p in pods
    ):
        return False
    workload = env.get(f"{kind}s", name)
    status = workload["status"]
    if not observed(workload):
        return False
    if kind == "statefulset" and status.get("readyReplicas") != want:
        return False
    if kind == "daemonset" and not status.get("numberAvailable") == status.get("desiredNumberScheduled") == want:
        return False
    return service is None or serving(env, service) == (names, [])


def observed(workload: dict[str, Any]) -> bool:
    return bool(workload["status"].get("observedGeneration") == workload["metadata"]["generation"])


def jsonpath(k: Kubectl, target: str, path: str) -> str:
    return k.run("get", target, "-n", NS, "-o", f"jsonpath={path}").stdout.strip()


@pytest.mark.parametrize(
    ("scenario", "kind", "name", "service", "bad_pod"),
    [
        ("bad-statefulset", "statefulset", "sessions", ["sessions"], "sessions-2"),
        ("bad-daemonset", "daemonset", "db-proxy", [], "db-proxy-"),
    ],
)
async def test_degraded_then_recovering_after_the_rollback_then_recovered_after_the_window(
    sim_factory: Callable[..., RunningSim],
    kubectl_for: Callable[[RunningSim], Kubectl],
    tmp_path: Path,
    scenario: str,
    kind: str,
    name: str,
    service: list[str],
    bad_pod: str,
) -> None:
    sim = sim_factory(scenario)
    env, k, clock = make_env(sim, tmp_path / "state"), kubectl_for(sim), Clock()
    target = f"{kind}/{name}"
    async with Client(server(env, clock)) as client:
        before = await call(client, "verify_recovery", namespace=NS, deployment=name, kind=kind)
        assert before["verdict"] == "DEGRADED", before["summary"]
        assert before["kind"] == kind and before["summary"].startswith(f"{kind} {name}: DEGRADED - failing: pods (")
        assert results(before)["pods"] is False and results(before)["restarts"] is False
        assert any(line.startswith(bad_pod) for line in check(before, "pods")["evidence"]), check(before, "pods")
        assert before["revision"] == 2
        if kind == "statefulset":
            update = jsonpath(k, target, "{.status.updateRevision}")
            current = jsonpath(k, target, "{.status.currentRevision}")
            assert (
                f"updateRevision {update} (revision 2) on 1 pods, currentRevision {current} (revision 1)"
                in (before["rollout"])
            ), before["rollout"]
            assert before["desired_replicas"] == int(jsonpath(k, target, "{.spec.replicas}"))
        else:
            desired = int(jsonpath(k, target, "{.status.desiredNumberScheduled}"))
            assert before["desired_replicas"] == desired and before["rollout"].startswith(
                f"daemon set: {desired} nodes should run it, {desired} do, 1 at revision 2"
            ), before["rollout"]
        assert before["ready_replicas"] == before["desired_replicas"] - 1

        await plan_and_confirm(client, env, "rollback_workload", namespace=NS, kind=kind, workload=name)
        await rolled_out(k, target)
        await env.until(
            lambda: settled(env, kind, name, before["desired_replicas"], service[0] if service else None), 40
        )
        after = await call(client, "verify_recovery", namespace=NS, deployment=name, kind=kind)
        assert after["verdict"] == "RECOVERING", after["summary"]
        assert results(after) == {**dict.fromkeys(CHECKS, True), **({} if service else {"endpoints": None})}
        assert after["services"] == service
        assert after["revision"] == 3  # kubectl rollout undo makes revision 1's template revision 3
        assert after["last_mitigation"]["tool"] == "rollback_workload"
        assert after["last_mitigation"]["target"] == f"{kind}/{name} -n {NS}"
        if kind == "statefulset":
            assert jsonpath(k, target, "{.status.updateRevision}") == jsonpath(k, target, "{.status.currentRevision}")
        assert "stable for 0 of 5 minutes" in after["summary"]

        clock.now = datetime.now(UTC) + timedelta(minutes=6)
        later = await call(client, "verify_recovery", namespace=NS, deployment=name, kind=kind)
    assert later["verdict"] == "RECOVERED", later["summary"]
    assert later["summary"].startswith(f"{kind} {name}: RECOVERED - {later['desired_replicas']}/")


async def test_a_wrong_kind_or_name_is_refused_with_what_to_do(
    sim_factory: Callable[..., RunningSim], tmp_path: Path
) -> None:
    env, clock = make_env(sim_factory("bad-daemonset"), tmp_path / "state"), Clock()
    async with Client(server(env, clock)) as client:
        wrong = await refused(client, "verify_recovery", namespace=NS, deployment="db-proxy", kind="statefulset")
        assert "no statefulset 'db-proxy' in namespace shop; check the name and kind" in wrong
        as_deployment = await refused(client, "verify_recovery", namespace=NS, deployment="db-proxy")
        assert "no deployment 'db-proxy'" in as_deployment
        other = await refused(
            client, "verify_recovery", namespace=NS, deployment="db-proxy", kind="daemonset", service="checkout"
        )
        assert "service 'checkout' does not select daemonset db-proxy's pods" in other


async def test_an_ondelete_statefulset_recovers_only_as_pods_are_deleted(
    sim_factory: Callable[..., RunningSim], kubectl_for: Callable[[RunningSim], Kubectl], tmp_path: Path
) -> None:
    sim = sim_factory("bad-statefulset")
    env, k, clock = make_env(sim, tmp_path / "state"), kubectl_for(sim), Clock()
    patch = '{"spec": {"updateStrategy": {"type": "OnDelete", "rollingUpdate": null}}}'
    await anyio.to_thread.run_sync(lambda: k.run("patch", "statefulset", "sessions", "-n", NS, "-p", patch))
    # The human rolls back by hand: under OnDelete the template changes, the crash-looping sessions-2 does not.
    await anyio.to_thread.run_sync(lambda: k.run("rollout", "undo", "statefulset/sessions", "-n", NS))
    async with Client(server(env, clock)) as client:
        # Judged once the controller has observed the undo (before that its revisions are the old template's).
        await env.until(lambda: observed(env.get("statefulsets", "sessions")), 20)
        stuck = await call(client, "verify_recovery", namespace=NS, deployment="sessions", kind="statefulset")
        assert stuck["verdict"] == "DEGRADED", stuck["summary"]
        pods = check(stuck, "pods")
        assert "OnDelete: 1 pods keep their old revision until deleted" in pods["detail"], pods
        assert any(line.startswith("sessions-2") for line in pods["evidence"])

        await anyio.to_thread.run_sync(lambda: k.run("delete", "pod", "sessions-2", "-n", NS))
        await env.until(lambda: settled(env, "statefulset", "sessions", 3, "sessions"), 40)
        after = await call(client, "verify_recovery", namespace=NS, deployment="sessions", kind="statefulset")
        assert results(after)["pods"] is True, after["summary"]

        # A new template under OnDelete: every pod Ready, none updated; time alone changes nothing.
        image = "sessions=registry.example.com/shop/sessions:7.2.6"
        await anyio.to_thread.run_sync(lambda: k.run("set", "image", "statefulset/sessions", image, "-n", NS))
        await env.until(lambda: observed(env.get("statefulsets", "sessions")), 20)
        waiting = await call(client, "verify_recovery", namespace=NS, deployment="sessions", kind="statefulset")
    assert waiting["verdict"] == "RECOVERING", waiting["summary"]
    assert waiting["recheck_at"] is None and "waiting on a human" in waiting["summary"], waiting["summary"]
    assert (
        "3 pods keep their old revision until deleted; delete them one at a time, highest ordinal first"
        in (waiting["summary"])
    )


async def test_a_rolled_back_daemonset_that_breaks_again_is_ranked_as_mitigated_and_degraded(
    sim_factory: Callable[..., RunningSim], kubectl_for: Callable[[RunningSim], Kubectl], tmp_path: Path
) -> None:
    sim = sim_factory("bad-daemonset")
    env, k, clock = make_env(sim, tmp_path / "state"), kubectl_for(sim), Clock()
    async with Client(server(env, clock)) as client:
        await plan_and_confirm(client, env, "rollback_workload", namespace=NS, kind="daemonset", workload="db-proxy")
        await rolled_out(k, "daemonset/db-proxy")
        # Someone rolls the bad revision out again by hand.
        await anyio.to_thread.run_sync(lambda: k.run("rollout", "undo", "daemonset/db-proxy", "-n", NS))
        await env.until(lambda: any(crash_looping(p) for p in env.pods("app=db-proxy")), 40)
        assessment = await call(client, "assess_namespace", namespace=NS)
        report = await call(client, "verify_recovery", namespace=NS, deployment="db-proxy", kind="daemonset")
    [problem] = [p for p in assessment["problems"] if "db-proxy" in p["components"]]
    assert problem["mitigated"] is True, problem
    assert report["verdict"] == "DEGRADED" and report["last_mitigation"]["tool"] == "rollback_workload", report


def crash_looping(pod: dict[str, Any]) -> bool:
    return any(
        (c.get("state") or {}).get("waiting", {}).get("reason") == "CrashLoopBackOff"
        for c in (pod.get("status") or {}).get("containerStatuses") or []
    )

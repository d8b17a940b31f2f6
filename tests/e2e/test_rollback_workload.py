"""rollback_workload end to end: an MCP client plans and confirms the rollback of a StatefulSet and of a DaemonSet
whose new revision crash-loops, on the simulated cluster; real kubectl running the rendered command on a second
copy leaves the same objects; bad arguments and stale plans are refused."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import anyio
import pytest
from mcp import Client
from support.equivalence import assert_equivalent, snapshot
from support.kubectl_runner import Kubectl
from support.mitigation_env import call, refused
from support.plan_warnings import proses
from support.polling import eventually

from incident_response.server.app import build_server
from incident_response.server.config import Settings
from incident_response.sim.behaviors import BEHAVIOR, CRASHLOOP
from incident_response.sim.cluster import Timing
from incident_response.sim.serve import RunningSim
from incident_response.tools.kube.client import ClusterSource, RealKube

pytestmark = pytest.mark.anyio

NS = "shop"
GOOD, BAD = "registry.example.com/shop/sessions:7.2", "registry.example.com/shop/sessions:7.4"
# Ordered rollouts wait for each pod in real time: pods start, turn ready and terminate in 0.1 s (default 0.3); what
# these tests check (commands, order, claims, equivalence) does not depend on it.
QUICK = Timing(pod_start=0.1, ready_delay=0.1, termination=0.1)


def statefulset() -> str:
    return json.dumps(
        {
            "apiVersion": "apps/v1",
            "kind": "StatefulSet",
            "metadata": {"name": "sessions", "namespace": NS},
            "spec": {
                "serviceName": "sessions",
                "replicas": 3,
                "selector": {"matchLabels": {"app": "sessions"}},
                "template": {
                    "metadata": {"labels": {"app": "sessions"}},
                    "spec": {"containers": [{"name": "sessions", "image": GOOD}]},
                },
                "volumeClaimTemplates": [
                    {
                        "metadata": {"name": "data"},
                        "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}}},
                    }
                ],
            },
        }
    )


def daemonset() -> str:
    return json.dumps(
        {
            "apiVersion": "apps/v1",
            "kind": "DaemonSet",
            "metadata": {"name": "db-proxy", "namespace": NS},
            "spec": {
                "selector": {"matchLabels": {"app": "db-proxy"}},
                "template": {
                    "metadata": {"labels": {"app": "db-proxy"}},
                    "spec": {"containers": [{"name": "proxy", "image": "registry.example.com/shop/db-proxy:1.0"}]},
                },
            },
        }
    )


def bad_release(kind: str, name: str, container: str) -> str:
    patch = {
        "spec": {
            "template": {
                "metadata": {"annotations": {BEHAVIOR: CRASHLOOP}},
                "spec": {"containers": [{"name": container, "image": BAD}]},
            }
        }
    }
    return json.dumps(patch)


def broken(k: Kubectl, kind: str, name: str, container: str, manifest: str) -> None:
    """The workload rolled out healthy, then a bad revision that crash-loops (its rollout stuck)."""
    k.run("apply", "-f", "-", stdin=manifest)
    k.run("rollout", "status", f"{kind}/{name}", "-n", NS, "--timeout=60s")
    k.run("patch", kind, name, "-n", NS, "-p", bad_release(kind, name, container))

    def crashing() -> bool:
        return any(r["STATUS"] == "CrashLoopBackOff" for r in k.table("pods", "-n", NS, "-l", f"app={name}"))

    eventually(crashing, 30, what="the bad revision crash-looping")


def server(sim: RunningSim, state: Path) -> Any:
    assert sim.kubeconfig_path is not None
    source = ClusterSource(kubeconfig=sim.kubeconfig_path, context=sim.context)
    return build_server(Settings(mode="full", state_dir=state, cluster=source))


async def rolled_out(k: Kubectl, target: str) -> str:
    done = await anyio.to_thread.run_sync(
        lambda: k.run("rollout", "status", target, "-n", NS, "--timeout=60s", check=False)
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout.strip().splitlines()[-1]


def kube_of(sim: RunningSim) -> RealKube:
    assert sim.kubeconfig_path is not None
    return RealKube.connect(ClusterSource(kubeconfig=sim.kubeconfig_path, context=sim.context))


async def test_statefulset_rollback_deletes_the_stuck_pod_and_keeps_the_claims(
    sim_factory: Callable[..., RunningSim], kubectl_for: Callable[[RunningSim], Kubectl], tmp_path: Path
) -> None:
    sim = sim_factory("healthy", timing=QUICK)
    k = kubectl_for(sim)
    await anyio.to_thread.run_sync(broken, k, "statefulset", "sessions", "sessions", statefulset())
    volumes = {c["NAME"]: c["VOLUME"] for c in k.table("pvc", "-n", NS) if c["NAME"].startswith("data-sessions-")}
    async with Client(server(sim, tmp_path / "state")) as client:
        history = await call(client, "rollout_history", namespace=NS, deployment="sessions", kind="statefulset")
        assert [(r["revision"], r["current"]) for r in history["revisions"]] == [(2, True), (1, False)]
        stuck = await call(
            client, "rollout_status", namespace=NS, deployment="sessions", kind="statefulset", timeout_seconds=1
        )
        assert (stuck["state"], stuck["message"]) == ("timed_out", "Waiting for 1 pods to be ready...")
        assert [p["name"] for p in stuck["failing_pods"]] == ["sessions-2"]
        p = await call(client, "rollback_workload", namespace=NS, kind="statefulset", workload="sessions")
        assert p["command"] == (
            f"kubectl rollout undo statefulset/sessions -n {NS} --to-revision=1 --context sim && "
            f"kubectl delete pod sessions-2 -n {NS} --context sim"
        ), p["command"]
        assert p["undo_command"] == f"kubectl rollout undo statefulset/sessions -n {NS} --to-revision=2 --context sim"
        warnings = " ".join(proses(p["warnings"]))
        assert "one pod at a time from the highest ordinal (sessions-2 first)" in warnings
        assert "sessions-2 never got Ready" in warnings
        assert "claims data-sessions-{0..2} are not rolled back" in warnings
        assert any(BAD in str(c.get("before")) and GOOD in str(c.get("after")) for c in p["diff"]), p["diff"]
        done = await call(client, "confirm_command", token=p["token"])
        assert done["status"] == "succeeded", done
        watched = await call(
            client, "rollout_status", namespace=NS, deployment="sessions", kind="statefulset", timeout_seconds=60
        )
        assert (watched["state"], watched["ready"]) == ("complete", 3), watched
    assert (
        await rolled_out(k, "statefulset/sessions") == "partitioned roll out complete: 3 new pods have been updated..."
    )
    pods = k.table("pods", "-n", NS, "-l", "app=sessions")
    assert [(r["NAME"], r["STATUS"]) for r in pods] == [(f"sessions-{i}", "Running") for i in range(3)]
    images = k.run("get", "pods", "-n", NS, "-l", "app=sessions", "-o", "jsonpath={.items[*].spec.containers[0].image}")
    assert set(images.stdout.split()) == {GOOD}
    after = {c["NAME"]: c["VOLUME"] for c in k.table("pvc", "-n", NS) if c["NAME"].startswith("data-sessions-")}
    assert after == volumes  # the data stayed


async def test_daemonset_rollback_rolls_every_node_back(
    sim_factory: Callable[..., RunningSim], kubectl_for: Callable[[RunningSim], Kubectl], tmp_path: Path
) -> None:
    sim = sim_factory("healthy", timing=QUICK)
    k = kubectl_for(sim)
    await anyio.to_thread.run_sync(broken, k, "daemonset", "db-proxy", "proxy", daemonset())
    async with Client(server(sim, tmp_path / "state")) as client:
        p = await call(client, "rollback_workload", namespace=NS, kind="daemonset", workload="db-proxy")
        assert p["command"] == f"kubectl rollout undo daemonset/db-proxy -n {NS} --to-revision=1 --context sim"
        assert "rolls back node by node (maxUnavailable 1, maxSurge 0)" in " ".join(proses(p["warnings"]))
        done = await call(client, "confirm_command", token=p["token"])
        assert done["status"] == "succeeded", done
    assert await rolled_out(k, "daemonset/db-proxy") == 'daemon set "db-proxy" successfully rolled out'
    assert {r["STATUS"] for r in k.table("pods", "-n", NS, "-l", "app=db-proxy")} == {"Running"}
    history = k.run("rollout", "history", "daemonset/db-proxy", "-n", NS).stdout.splitlines()[2:]
    assert [line.split()[0] for line in history if line.strip()] == ["2", "3"]


async def test_rendered_command_and_confirm_leave_the_same_statefulset(
    sim_factory: Callable[..., RunningSim], kubectl_for: Callable[[RunningSim], Kubectl], tmp_path: Path
) -> None:
    by_kubectl, by_us = sim_factory("healthy", timing=QUICK), sim_factory("healthy", timing=QUICK)
    k_them, k_us = kubectl_for(by_kubectl), kubectl_for(by_us)
    for k in (k_them, k_us):
        await anyio.to_thread.run_sync(broken, k, "statefulset", "sessions", "sessions", statefulset())
    async with Client(server(by_us, tmp_path / "state")) as client:
        p = await call(client, "rollback_workload", namespace=NS, kind="statefulset", workload="sessions")
        for part in p["command"].split(" && "):
            await anyio.to_thread.run_sync(k_them.shell, part)
        done = await call(client, "confirm_command", token=p["token"])
        assert done["status"] == "succeeded", done
    for k in (k_them, k_us):
        await rolled_out(k, "statefulset/sessions")
    ignore = ("status", "metadata.annotations.kubectl.kubernetes.io/last-applied-configuration")
    resources = ("statefulsets", "controllerrevisions", "persistentvolumeclaims")
    them = snapshot(kube_of(by_kubectl), NS, resources, ignore=ignore)
    us = snapshot(kube_of(by_us), NS, resources, ignore=ignore)
    # Bound volumes get names from their claims' uids, which differ between any two clusters.
    for snap in (them, us):
        for key, obj in snap.items():
            if key.startswith("persistentvolumeclaims/"):
                obj.get("spec", {}).pop("volumeName", None)
    assert_equivalent(them, us)


async def test_bad_arguments_and_a_stale_plan_are_refused(
    sim_factory: Callable[..., RunningSim], kubectl_for: Callable[[RunningSim], Kubectl], tmp_path: Path
) -> None:
    sim = sim_factory("healthy", timing=QUICK)
    k = kubectl_for(sim)
    await anyio.to_thread.run_sync(lambda: k.run("apply", "-f", "-", stdin=daemonset()))
    await rolled_out(k, "daemonset/db-proxy")
    async with Client(server(sim, tmp_path / "state")) as client:
        only_one = await refused(client, "rollback_workload", namespace=NS, kind="daemonset", workload="db-proxy")
        assert "has no previous revision to roll back to (revisions kept: 1)" in only_one
        await anyio.to_thread.run_sync(broken, k, "daemonset", "db-proxy", "proxy", daemonset())
        missing = await refused(
            client, "rollback_workload", namespace=NS, kind="daemonset", workload="db-proxy", to_revision=7
        )
        assert "has no revision 7 (revisions kept: 1, 2)" in missing
        same = await refused(
            client, "rollback_workload", namespace=NS, kind="daemonset", workload="db-proxy", to_revision=2
        )
        assert "already runs the template of revision 2" in same
        wrong_kind = await client.call_tool(
            "rollback_workload", {"namespace": NS, "kind": "deployment", "workload": "checkout"}
        )
        assert wrong_kind.is_error
        gone = await refused(client, "rollback_workload", namespace=NS, kind="statefulset", workload="db-proxy")
        assert "not found" in gone.lower()
        p = await call(client, "rollback_workload", namespace=NS, kind="daemonset", workload="db-proxy")
        await anyio.to_thread.run_sync(
            lambda: k.run(
                "set", "image", "daemonset/db-proxy", "proxy=registry.example.com/shop/db-proxy:1.1", "-n", NS
            )
        )
        stale = await call(client, "confirm_command", token=p["token"])
        assert stale["status"] == "stale", stale
        assert any(ch["path"] == "/metadata/generation" for ch in stale["changes"]), stale["changes"]


@pytest.mark.parametrize(
    ("scenario", "kind", "name", "answers", "steps"),
    [
        ("bad-statefulset", "statefulset", "sessions", {"migrations_forward_only": False}, 2),
        ("bad-daemonset", "daemonset", "db-proxy", {}, 1),
    ],
)
async def test_the_playbook_finds_the_bad_revision_and_rolls_it_back(
    sim_factory: Callable[..., RunningSim],
    kubectl_for: Callable[[RunningSim], Kubectl],
    tmp_path: Path,
    scenario: str,
    kind: str,
    name: str,
    answers: dict[str, Any],
    steps: int,
) -> None:
    sim = sim_factory(scenario)
    k = kubectl_for(sim)
    async with Client(server(sim, tmp_path / "state")) as client:
        assessment = await call(client, "assess_namespace", namespace=NS)
        decision = assessment["decision"]
        assert (decision["primary_action"], decision["target"]) == ("ROLLBACK", f"{kind}/{name}"), decision
        assert decision["next_tool"] == "rollback_workload"
        [rollout] = [r for r in assessment["recent_rollouts"] if r["deployment"] == name]
        assert (rollout["kind"], rollout["revision"]) == (kind, 2)
        walk = await call(client, "evaluate_decision", namespace=NS)
        if kind == "statefulset":  # its claims keep the new revision's data: only the human can say it is readable
            assert (walk["verdict"], walk["answer_with"]) == ("NEEDS_ANSWER", "migrations_forward_only"), walk
            walk = await call(client, "evaluate_decision", namespace=NS, **answers)
        assert walk["verdict"] == "PROCEED", walk
        assert walk["next_tool"] == "rollback_workload"
        assert walk["next_arguments"] == {"namespace": NS, "kind": kind, "workload": name, "to_revision": 1}
        p = await call(client, walk["next_tool"], **walk["next_arguments"])
        assert len(p["command"].split(" && ")) == steps
        done = await call(client, "confirm_command", token=p["token"])
        assert done["status"] == "succeeded", done
        watched = await call(client, "rollout_status", namespace=NS, deployment=name, kind=kind, timeout_seconds=60)
        assert watched["state"] == "complete", watched
        after = await call(client, "assess_namespace", namespace=NS)
        assert after["decision"]["primary_action"] == "NONE", after["decision"]
    assert {r["STATUS"] for r in k.table("pods", "-n", NS, "-l", f"app={name}")} == {"Running"}

"""OOMKilled and CPU-bound StatefulSet and DaemonSet pods end to end: assess_namespace no longer points them at the
Deployment tools; set_memory_limit with their kind plans the patch and the deletion of the pods an ordered
StatefulSet would wait on; real kubectl running the rendered commands on a second copy leaves the same StatefulSet,
and the measure restores."""

from __future__ import annotations

import json
import shlex
from collections.abc import Callable
from pathlib import Path
from typing import Any

import anyio.to_thread
import pytest
from mcp import Client
from support.equivalence import assert_equivalent, snapshot
from support.kubectl_runner import Kubectl
from support.mitigation_env import NS, call, make_env, plan_and_confirm, refused
from support.plan_warnings import proses
from support.polling import eventually

from incident_response.sim.behaviors import BEHAVIOR, MEMORY_NEED, OOM
from incident_response.sim.serve import RunningSim
from incident_response.tools.kube.client import ClusterSource, RealKube

pytestmark = pytest.mark.anyio


def oom_statefulset() -> str:
    """sessions needs 384Mi under a 256Mi limit: sessions-0 is OOMKilled over and over, so the ordered StatefulSet
    never creates sessions-1 and sessions-2."""
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
                    "metadata": {"labels": {"app": "sessions"}, "annotations": {BEHAVIOR: OOM, MEMORY_NEED: "384Mi"}},
                    "spec": {
                        "containers": [
                            {
                                "name": "redis",
                                "image": "registry.example.com/shop/sessions:7.2.5",
                                "resources": {"limits": {"memory": "256Mi"}, "requests": {"memory": "128Mi"}},
                            }
                        ]
                    },
                },
            },
        }
    )


def oom_killed(k: Kubectl) -> bool:
    pods = json.loads(k.run("get", "pods", "-n", NS, "-l", "app=sessions", "-o", "json").stdout)["items"]
    return any(
        (c.get("lastState") or {}).get("terminated", {}).get("reason") == "OOMKilled"
        for p in pods
        for c in p["status"].get("containerStatuses") or []
    )


def broken(k: Kubectl) -> None:
    k.run("apply", "-f", "-", stdin=oom_statefulset())
    eventually(lambda: oom_killed(k), 30, what="sessions-0 OOMKilled")


async def test_an_oomkilled_statefulset_is_planned_and_the_rendered_commands_leave_the_same_cluster(
    sim_factory: Callable[..., RunningSim], kubectl_for: Callable[[RunningSim], Kubectl], tmp_path: Path
) -> None:
    by_kubectl, by_us = sim_factory("healthy"), sim_factory("healthy")
    k_them, k_us = kubectl_for(by_kubectl), kubectl_for(by_us)
    for k in (k_them, k_us):
        await anyio.to_thread.run_sync(broken, k)
    env = make_env(by_us, tmp_path / "state")
    async with Client(env.server("full")) as client:
        assessment = await call(client, "assess_namespace", namespace=NS)
        decision = assessment["decision"]
        assert (decision["primary_action"], decision["target"]) == ("SCALE", "statefulset/sessions"), decision
        assert decision["next_tool"] == "set_memory_limit"
        arguments = decision["next_arguments"]
        assert arguments == {
            "namespace": NS,
            "deployment": "sessions",
            "kind": "statefulset",
            "container": "redis",
            "limit": "512Mi",
        }
        walk = await call(client, "evaluate_decision", namespace=NS)
        assert (walk["verdict"], walk["next_tool"]) == ("PROCEED", "set_memory_limit"), walk
        assert walk["next_arguments"]["kind"] == "statefulset"
        wrong = await refused(client, "set_memory_limit", **{**arguments, "container": "web"})
        assert "statefulset sessions has no container 'web' (containers: redis)" in wrong
        huge = await refused(client, "set_memory_limit", **{**arguments, "limit": "4Ti"})
        assert "memory limit 4Ti is more than any schedulable node has" in huge

        plan, done = await plan_and_confirm(client, env, "set_memory_limit", **arguments)
        patch, delete = plan["command"].split(" && ")
        assert shlex.split(patch)[:4] == ["kubectl", "patch", "statefulset", "sessions"]
        assert delete == f"kubectl delete pod sessions-0 -n {NS} --context sim"
        assert "sessions-0 never got Ready" in " ".join(proses(plan["warnings"]))
        assert "256Mi" in plan["undo_command"] and plan["target"]["kind"] == "StatefulSet"
        for part in (patch, delete):
            await anyio.to_thread.run_sync(k_them.shell, part)
        for k in (k_them, k_us):
            await rolled_out(k)
        for k in (k_them, k_us):
            assert await anyio.to_thread.run_sync(limits, k) == ["512Mi"] * 3
        ignore = ("status", "metadata.annotations.kubectl.kubernetes.io/last-applied-configuration")
        them = snapshot(kube_of(by_kubectl), NS, ("statefulsets",), ignore=ignore)
        us = snapshot(kube_of(by_us), NS, ("statefulsets",), ignore=ignore)
        assert_equivalent(them, us)

        measures = (await call(client, "list_temporary_measures"))["measures"]
        assert [(m["tool"], m["restore_command"]) for m in measures] == [("set_memory_limit", plan["undo_command"])]
        restore, _ = await plan_and_confirm(
            client, env, "restore_measure", measure_id=measures[0]["measure_id"], restore_despite_condition=True
        )
        assert restore["command"].startswith("kubectl patch statefulset sessions")
    template = env.get("statefulsets", "sessions")["spec"]["template"]["spec"]["containers"][0]
    assert template["resources"]["limits"] == {"memory": "256Mi"}


def limits(k: Kubectl) -> list[str]:
    jsonpath = "jsonpath={.items[*].spec.containers[0].resources.limits.memory}"
    return k.run("get", "pods", "-n", NS, "-l", "app=sessions", "-o", jsonpath).stdout.split()


async def rolled_out(k: Kubectl) -> None:
    done = await anyio.to_thread.run_sync(
        lambda: k.run("rollout", "status", "statefulset/sessions", "-n", NS, "--timeout=60s", check=False)
    )
    assert done.returncode == 0, done.stdout + done.stderr


def kube_of(sim: RunningSim) -> RealKube:
    assert sim.kubeconfig_path is not None
    return RealKube.connect(ClusterSource(kubeconfig=sim.kubeconfig_path, context=sim.context))


async def test_a_cpu_bound_daemonset_is_not_sent_to_scale_deployment(
    sim_factory: Callable[..., RunningSim], kubectl_for: Callable[[RunningSim], Kubectl], tmp_path: Path
) -> None:
    sim = sim_factory("bad-daemonset")
    env, k = make_env(sim, tmp_path / "state"), kubectl_for(sim)
    # Roll the bad revision back by hand, then make db-proxy busy at its CPU limit on every node.
    await anyio.to_thread.run_sync(lambda: k.run("rollout", "undo", "daemonset/db-proxy", "-n", NS))
    busy = json.dumps(
        {"spec": {"template": {"metadata": {"annotations": {"sim.incident-response.dev/cpu-millicores": "495"}}}}}
    )
    await anyio.to_thread.run_sync(lambda: k.run("patch", "daemonset", "db-proxy", "-n", NS, "-p", busy))
    done = await anyio.to_thread.run_sync(
        lambda: k.run("rollout", "status", "daemonset/db-proxy", "-n", NS, "--timeout=60s", check=False)
    )
    assert done.returncode == 0, done.stdout + done.stderr
    async with Client(env.server("safe")) as client:
        with anyio.fail_after(30):
            while True:
                decision = (await call(client, "assess_namespace", namespace=NS))["decision"]
                if decision["target"] == "daemonset/db-proxy":
                    break
                await anyio.to_thread.run_sync(sim.wait_ticks, 2)
        walk = await call(client, "evaluate_decision", namespace=NS)
    # evaluate_decision agrees with the assessment: go ahead, by hand (the reason's kubectl; no tool plans it).
    assert (walk["verdict"], walk["next_tool"]) == ("PROCEED", None), walk
    assert walk["reason"] == decision["reason"], walk
    assert decision["primary_action"] == "SCALE" and decision["next_tool"] is None, decision
    assert "A DaemonSet runs one pod per node" in decision["reason"]
    assert "scale_deployment" not in json.dumps(decision)


def oom_daemonset() -> str:
    template = json.loads(oom_statefulset())["spec"]["template"]
    template["metadata"]["labels"] = {"app": "db-proxy"}
    return json.dumps(
        {
            "apiVersion": "apps/v1",
            "kind": "DaemonSet",
            "metadata": {"name": "db-proxy", "namespace": NS},
            "spec": {"selector": {"matchLabels": {"app": "db-proxy"}}, "template": template},
        }
    )


async def test_an_oomkilled_daemonset_is_planned_node_by_node_and_recovers(
    sim_factory: Callable[..., RunningSim], kubectl_for: Callable[[RunningSim], Kubectl], tmp_path: Path
) -> None:
    sim = sim_factory("healthy")
    env, k = make_env(sim, tmp_path / "state"), kubectl_for(sim)
    await anyio.to_thread.run_sync(lambda: k.run("apply", "-f", "-", stdin=oom_daemonset()))
    await env.until(lambda: any(oom(p) for p in env.pods("app=db-proxy")), 30)
    async with Client(env.server("full")) as client:
        decision = (await call(client, "assess_namespace", namespace=NS))["decision"]
        assert (decision["target"], decision["next_tool"]) == ("daemonset/db-proxy", "set_memory_limit"), decision
        plan, _ = await plan_and_confirm(client, env, "set_memory_limit", **decision["next_arguments"])
    assert plan["command"].startswith("kubectl patch daemonset db-proxy -n shop --context sim -p ")
    assert " && " not in plan["command"]  # a DaemonSet replaces failing pods itself
    assert "replaces its pods node by node (maxUnavailable 1)" in " ".join(proses(plan["warnings"]))
    done = await anyio.to_thread.run_sync(
        lambda: k.run("rollout", "status", "daemonset/db-proxy", "-n", NS, "--timeout=60s", check=False)
    )
    assert done.returncode == 0, done.stdout + done.stderr
    jsonpath = "jsonpath={.items[*].spec.containers[0].resources.limits.memory}"
    found = k.run("get", "pods", "-n", NS, "-l", "app=db-proxy", "-o", jsonpath).stdout.split()
    assert found and set(found) == {"512Mi"}


def oom(pod: dict[str, Any]) -> bool:
    return any(
        (c.get("lastState") or {}).get("terminated", {}).get("reason") == "OOMKilled"
        for c in (pod.get("status") or {}).get("containerStatuses") or []
    )

"""OOMKilled and CPU-bound StatefulSet and DaemonSet pods end to end: assess_namespace no longer points them at the
Deployment tools; set_memory_limit with their kind returns the exact commands as advice (blocked, no token), and
real kubectl running those commands on the simulated cluster brings the StatefulSet up."""

from __future__ import annotations

import json
import shlex
import time
from collections.abc import Callable
from pathlib import Path

import anyio.to_thread
import pytest
from mcp import Client
from support.kubectl_runner import Kubectl
from support.mitigation_env import NS, call, make_env, refused

from incident_response.sim.behaviors import BEHAVIOR, MEMORY_NEED, OOM
from incident_response.sim.serve import RunningSim

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
    deadline = time.monotonic() + 30
    while not oom_killed(k):
        assert time.monotonic() < deadline, "sessions-0 was never OOMKilled"
        time.sleep(0.3)


async def test_an_oomkilled_statefulset_gets_the_commands_a_human_runs_and_they_work(
    sim_factory: Callable[..., RunningSim], kubectl_for: Callable[[RunningSim], Kubectl], tmp_path: Path
) -> None:
    sim = sim_factory("healthy")
    env, k = make_env(sim, tmp_path / "state"), kubectl_for(sim)
    await anyio.to_thread.run_sync(broken, k)
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
        advice = await call(client, "set_memory_limit", **arguments)
        assert advice["status"] == "blocked" and not advice.get("token"), advice
        assert "a human runs the command with their own credentials" in advice["next_step"]
        assert (
            "then delete sessions-0" in advice["next_step"]
            and "waits on a pod that is not Ready" in (advice["next_step"])
        )
        patch, delete = advice["command"].split(" && ")
        assert shlex.split(patch)[:4] == ["kubectl", "patch", "statefulset", "sessions"]
        assert delete == f"kubectl delete pod sessions-0 -n {NS} --context sim"
        assert "256Mi" in advice["undo_command"]
        assert env.get("statefulsets", "sessions")["spec"]["template"]["spec"]["containers"][0]["resources"][
            "limits"
        ] == {"memory": "256Mi"}, "advice changed the cluster"
        walk = await call(client, "evaluate_decision", namespace=NS)
        assert (walk["verdict"], walk["next_tool"]) == ("PROCEED", "set_memory_limit"), walk
        assert walk["next_arguments"]["kind"] == "statefulset"
        wrong = await refused(client, "set_memory_limit", **{**arguments, "container": "web"})
        assert "statefulset sessions has no container 'web' (containers: redis)" in wrong
        huge = await refused(client, "set_memory_limit", **{**arguments, "limit": "4Ti"})
        assert "memory limit 4Ti is more than any schedulable node has" in huge
    for part in (patch, delete):
        await anyio.to_thread.run_sync(k.shell, part)
    done = await anyio.to_thread.run_sync(
        lambda: k.run("rollout", "status", "statefulset/sessions", "-n", NS, "--timeout=60s", check=False)
    )
    assert done.returncode == 0, done.stdout + done.stderr
    limits = k.run(
        "get",
        "pods",
        "-n",
        NS,
        "-l",
        "app=sessions",
        "-o",
        "jsonpath={.items[*].spec.containers[0].resources.limits.memory}",
    )
    assert limits.stdout.split() == ["512Mi"] * 3


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
    assert (walk["verdict"], walk["next_tool"]) == ("DO_NOT", None), walk
    assert decision["primary_action"] == "SCALE" and decision["next_tool"] is None, decision
    assert "A DaemonSet runs one pod per node" in decision["reason"]
    assert "scale_deployment" not in json.dumps(decision)

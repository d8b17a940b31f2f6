"""A pod stuck on a crash-looping init container: the read that says why is its init container's log
(review-assist6 G9).

orders' wait-for-db init container loops (Init:CrashLoopBackOff, 4 restarts) on two replaced pods, no deploy.
assess_namespace sent the assistant to get_logs(pod, previous=true), which reads the app container (never started:
"previous terminated container orders ... not found"), and get_logs refused container='wait-for-db' ("pod has no
container") although `kubectl logs POD -c wait-for-db --previous` is the SRE's first read. Now the next call names
the init container, get_logs accepts init containers, and reading a stuck pod by default reads the init container it
is stuck on. The sim runs no init containers: the pods' status is written as a kubelet writes it, and an init
container's log reads as empty.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
import yaml
from mcp import Client
from support.kubectl_runner import Kubectl
from support.mitigation_env import Env, call, ready

from incident_response.sim import behaviors

pytestmark = pytest.mark.anyio
NS = "init"
LABELS = {"app": "orders"}
DEPLOYMENT: dict[str, Any] = {
    "apiVersion": "apps/v1",
    "kind": "Deployment",
    "metadata": {"name": "orders", "namespace": NS, "annotations": {behaviors.ROLLED_OUT_MINUTES_AGO: "7200"}},
    "spec": {
        "replicas": 2,
        "selector": {"matchLabels": LABELS},
        "template": {
            "metadata": {"labels": LABELS},
            "spec": {
                "initContainers": [{"name": "wait-for-db", "image": "postgres:16.4", "command": ["pg_isready"]}],
                "containers": [{"name": "orders", "image": "registry.example.com/init/orders:4.2.0"}],
            },
        },
    },
}
STUCK = {
    "status": {
        "phase": "Pending",
        "conditions": [{"type": "Initialized", "status": "False"}, {"type": "Ready", "status": "False"}],
        "initContainerStatuses": [
            {
                "name": "wait-for-db",
                "image": "postgres:16.4",
                "ready": False,
                "restartCount": 4,
                "state": {"waiting": {"reason": "CrashLoopBackOff"}},
                "lastState": {"terminated": {"exitCode": 2, "reason": "Error"}},
            }
        ],
        "containerStatuses": [
            {
                "name": "orders",
                "image": "registry.example.com/init/orders:4.2.0",
                "ready": False,
                "restartCount": 0,
                "state": {"waiting": {"reason": "PodInitializing"}},
            }
        ],
    }
}


async def text(client: Client, tool: str, **arguments: Any) -> str:
    result = await client.call_tool(tool, arguments)
    assert not result.is_error, result.content
    return " ".join(getattr(c, "text", "") for c in result.content)


async def test_a_pod_stuck_on_its_init_container_is_read_through_that_container(built: tuple[Env, Kubectl]) -> None:
    env, kubectl = built
    namespace = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": NS}}
    kubectl.run("apply", "-f", "-", stdin=yaml.safe_dump_all([namespace, DEPLOYMENT]))
    await env.until(lambda: sum(ready(p) for p in env.pods("app=orders", NS)) == 2)
    await env.until(lambda: env.rolled_out("orders", 2, NS))
    stuck = env.pods("app=orders", NS)[0]["metadata"]["name"]
    kubectl.run("patch", "pod", stuck, "-n", NS, "--subresource=status", "--type=merge", "-p", json.dumps(STUCK))
    await env.until(lambda: sum(ready(p) for p in env.pods("app=orders", NS)) == 1)

    async with Client(env.server("safe")) as client:
        assessed = await call(client, "assess_namespace", namespace=NS)
        by_default = await text(client, "get_logs", namespace=NS, pod_or_deployment=stuck)
        named = await text(client, "get_logs", namespace=NS, pod_or_deployment=stuck, container="wait-for-db")

    decision = assessed["decision"]
    assert decision["next_tool"] == "get_logs", assessed["summary"]
    assert decision["next_arguments"] == {
        "namespace": NS,
        "pod_or_deployment": stuck,
        "container": "wait-for-db",
        "previous": True,
    }, decision
    assert "init container wait-for-db" in decision["reason"], decision["reason"]
    # get_logs is text only: its summary names the container read.
    assert f"from {stuck}/wait-for-db" in by_default and f"from {stuck}/wait-for-db" in named, (by_default, named)

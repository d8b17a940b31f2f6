"""A DaemonSet whose pods fail on a ConfigMap key every revision reads: evaluate_decision agrees with
check_rollback_safety, end to end (real kubectl builds it).

agent reads key URL of ConfigMap agent-config in both revisions; 1.0.1 rolled out a minute ago, then someone removed
URL. An agent pod replaced since cannot start (CreateContainerConfigError, as the kubelet writes it).
check_rollback_safety said CHECK FIRST (restore it instead of rolling back) while the
workload ROLLBACK walk PROCEEDed to rollback_workload: it read no config check. It now ends in FIX_FIRST with the
same reason, and assess_namespace (which said ROLLBACK) INVESTIGATEs with those words.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from mcp import Client
from support.kubectl_runner import Kubectl
from support.mitigation_env import Env, ready
from support.result_rule import budgeted

pytestmark = pytest.mark.anyio

NS = "agents"
MESSAGE = f"couldn't find key URL in ConfigMap {NS}/agent-config"


def manifest(tag: str) -> str:
    labels = {"app": "agent"}
    env = [{"name": "URL", "valueFrom": {"configMapKeyRef": {"name": "agent-config", "key": "URL"}}}]
    container = {"name": "agent", "image": f"registry.example.com/agent:{tag}", "env": env}
    daemonset = {
        "apiVersion": "apps/v1",
        "kind": "DaemonSet",
        "metadata": {"name": "agent", "namespace": NS},
        "spec": {
            "selector": {"matchLabels": labels},
            "template": {"metadata": {"labels": labels}, "spec": {"containers": [container]}},
        },
    }
    config = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "agent-config", "namespace": NS}}
    namespace = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": NS}}
    items = [namespace, {**config, "data": {"URL": "http://collector:4317"}}, daemonset]
    return json.dumps({"apiVersion": "v1", "kind": "List", "items": items})


def live(env: Env) -> list[dict[str, Any]]:
    return [p for p in env.pods("app=agent", namespace=NS) if not p["metadata"].get("deletionTimestamp")]


def on(env: Env, tag: str) -> Callable[[], bool]:
    def check() -> bool:
        pods = live(env)
        image = f"registry.example.com/agent:{tag}"
        return len(pods) == 3 and all(p["spec"]["containers"][0]["image"] == image and ready(p) for p in pods)

    return check


def stuck(env: Env) -> list[str]:
    """The messages of agent containers the kubelet could not create."""
    return [
        str(w.get("message"))
        for p in live(env)
        for c in (p.get("status") or {}).get("containerStatuses") or []
        if (w := (c.get("state") or {}).get("waiting") or {}).get("reason") == "CreateContainerConfigError"
    ]


async def test_the_workload_walk_says_restore_the_key_every_revision_reads(built: tuple[Env, Kubectl]) -> None:
    env, kubectl = built
    kubectl.run("apply", "-f", "-", stdin=manifest("1.0"))
    await env.until(on(env, "1.0"), 40)
    kubectl.run("apply", "-f", "-", stdin=manifest("1.0.1"))
    await env.until(on(env, "1.0.1"), 60)
    kubectl.run(
        "patch", "configmap/agent-config", "-n", NS, "--type=json", "-p", '[{"op":"remove","path":"/data/URL"}]'
    )
    first = live(env)[0]
    kubectl.run("delete", "pod", first["metadata"]["name"], "-n", NS, "--wait=false")
    # The replacement cannot start (the kubelet's CreateContainerConfigError); the other two serve.
    await env.until(lambda: stuck(env) == [MESSAGE] and sum(ready(p) for p in live(env)) == 2)

    arguments = {"namespace": NS, "deployment": "agent"}
    async with Client(env.server("safe", namespaces=(NS,))) as client:
        safety = await budgeted(client, "check_rollback_safety", kind="daemonset", **arguments)
        # (revision 1 served a minute: the walk first asks whether it worked; the human says it did)
        walked = await budgeted(client, "evaluate_decision", action="ROLLBACK", revision_known_good=True, **arguments)
        assessed = await budgeted(client, "assess_namespace", namespace=NS)

    target = safety["target_revision"]
    said = f"revision {target}'s pods read key URL of ConfigMap agent-config too, which pods fail on now"
    (item,) = [i for i in safety["items"] if i["check"] == "config"]
    assert safety["verdict"] == "CHECK_FIRST" and item["detail"].startswith(said), safety["summary"]
    assert walked["verdict"] == "FIX_FIRST", walked["summary"]
    assert f"{said}: restore it (from source control) instead of rolling back" in walked["reason"], walked["reason"]
    assert walked["next_tool"] != "rollback_workload", walked
    decision = assessed["decision"]
    assert decision["primary_action"] == "INVESTIGATE", assessed["summary"]
    assert "R" + f"{said}: restore it (from source control) instead of rolling back"[1:] in decision["reason"]

"""A node whose kubelet is down: what a drain and a delete really do to its pods, end to end.

A graceful delete (an eviction is one) ends when the node's kubelet confirms it. On an unreachable node it never
does: the pod stays Terminating until it is force-deleted or its Node object is deleted. A ReplicaSet replaces a
Terminating pod at once; a StatefulSet never makes a second pod with the same identity, so its member stays missing.
The incident is built with real kubectl (a 3-member StatefulSet and its node turned NotReady); the tools run through
an MCP client; the force delete's rendered command is run by real kubectl too.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from mcp import Client
from support.kubectl_runner import Kubectl
from support.mitigation_env import NS, Env, call, plan_and_confirm, ready, refused
from support.plan_warnings import proses

from incident_response.sim import behaviors

pytestmark = pytest.mark.anyio

KV = {
    "apiVersion": "apps/v1",
    "kind": "StatefulSet",
    "metadata": {"name": "kv", "namespace": NS},
    "spec": {
        "serviceName": "kv",
        "replicas": 3,
        "podManagementPolicy": "Parallel",
        "selector": {"matchLabels": {"app": "kv"}},
        "template": {
            "metadata": {"labels": {"app": "kv"}},
            "spec": {
                "containers": [
                    {
                        "name": "kv",
                        "image": "registry.example.com/kv/etcdish:3.5",
                        "resources": {"requests": {"cpu": "100m", "memory": "128Mi"}},
                    }
                ]
            },
        },
    },
}


def kv_pods(env: Env) -> dict[str, dict[str, Any]]:
    return {p["metadata"]["name"]: p for p in env.pods("app=kv")}


def terminating(pod: dict[str, Any]) -> bool:
    return bool(pod["metadata"].get("deletionTimestamp"))


async def node_down(env: Env, kubectl: Kubectl) -> tuple[str, str, str]:
    """kv's three members Running and Ready, then kv-0's node NotReady: (that node, another kv pod's, kv-0)."""
    kubectl.run("apply", "-f", "-", stdin=json.dumps(KV))
    await env.until(lambda: len(kv_pods(env)) == 3 and all(ready(p) for p in kv_pods(env).values()), 60)
    node = kv_pods(env)["kv-0"]["spec"]["nodeName"]
    kubectl.run("annotate", "node", node, f"{behaviors.NODE_CONDITION}=NotReady")

    def unknown() -> bool:
        conditions = env.get("nodes", node, None)["status"]["conditions"]
        return any(c["type"] == "Ready" and c["status"] == "Unknown" for c in conditions)

    await env.until(unknown)
    elsewhere = next(p for p in kv_pods(env).values() if p["spec"]["nodeName"] != node)
    return node, elsewhere["metadata"]["name"], "kv-0"


async def test_a_drained_statefulset_member_stays_terminating_until_force_deleted(built: Any) -> None:
    env, kubectl = built
    node, healthy_member, member = await node_down(env, kubectl)
    deployment_pods = [
        p for p in env.pods() if p["spec"].get("nodeName") == node and "pod-template-hash" in p["metadata"]["labels"]
    ]
    async with Client(env.server("full")) as client:
        drain, _ = await plan_and_confirm(client, env, "drain_node", node=node)
        said = " ".join(proses(drain["warnings"]))
        assert f"StatefulSet pods {NS}/{member}" in said and "stay Terminating after their eviction" in said, said
        assert "delete_pod(namespace, pod, force=true)" in said and "fenced" in said
        assert f"{NS}/{member}: stays Terminating on {node} until force-deleted" in drain["summary"]

        # The kubelet is down: the eviction only marked it. Ten minutes on, kv-0 is still there, Terminating, and
        # the StatefulSet made no second kv-0; the Deployments' pods on that node were replaced elsewhere at once.
        await env.until(lambda: terminating(kv_pods(env)[member]))
        env.sim.advance(600)
        await env.until(lambda: all(ready(p) for p in env.pods() if p["spec"].get("nodeName") != node), 60)
        stuck = kv_pods(env)[member]
        assert terminating(stuck) and stuck["spec"]["nodeName"] == node
        for gone in deployment_pods:
            owner = gone["metadata"]["labels"]["pod-template-hash"]
            live = [
                p
                for p in env.pods(f"pod-template-hash={owner}")
                if not terminating(p) and p["spec"].get("nodeName") != node
            ]
            assert live, f"{gone['metadata']['name']} was not replaced"

        # verify_recovery says what blocks it and what ends it, not "still settling" for ever (F19b).
        verified = await call(client, "verify_recovery", namespace=NS, deployment="kv", kind="statefulset")
        held = ", ".join(sorted(n for n, p in kv_pods(env).items() if terminating(p)))
        blocked = f"waiting on a human: pod(s) {held} stay Terminating on node {node}, whose kubelet is down"
        assert blocked in verified["summary"] and "still settling" not in verified["summary"], verified["summary"]
        assert f"delete_pod(namespace={NS}, pod={member}, force=true)" in verified["summary"], verified["summary"]
        assert f"Once the human confirms {node} is fenced or powered off" in verified["summary"]

        # The assessment names the way out too (not "read the events for why it does not start").
        after = await call(client, "assess_namespace", namespace=NS)
        decision = after["decision"]
        assert (decision["primary_action"], decision["target"]) == ("ISOLATE", f"node/{node}"), after["summary"]
        assert decision["next_tool"] == "delete_pod", after["summary"]
        assert decision["next_arguments"] == {"namespace": NS, "pod": member, "force": True}, decision
        assert "fenced or powered off" in decision["reason"] and "stuck Terminating" in decision["reason"]
        evaluated = await call(client, "evaluate_decision", namespace=NS)
        assert evaluated["verdict"] != "DO_NOT" and evaluated["next_tool"] == "delete_pod", evaluated["summary"]
        again = await refused(client, "delete_pod", namespace=NS, pod=member)
        assert "already terminating" in again and "force=true" in again and f"node {node} is not ready" in again
        healthy = await refused(client, "delete_pod", namespace=NS, pod=healthy_member, force=True)
        assert "is Ready" in healthy and "without force" in healthy

        plan = await call(client, "delete_pod", namespace=NS, pod=member, force=True)
        assert plan["command"] == f"kubectl delete pod {member} -n {NS} --grace-period=0 --force --context sim"
        warned = " ".join(proses(plan["warnings"]))
        assert f"Node {node} is not ready" in warned and "Fence the node first" in warned
        # Real kubectl takes the rendered command (server-side dry run: nothing changes)...
        dry = kubectl.shell(plan["command"] + " --dry-run=server")
        assert "deleted" in dry.stdout + dry.stderr
        assert terminating(kv_pods(env)[member])
        # ...and confirming it removes the stuck member: the StatefulSet recreates kv-0 on a node that answers.
        done = await call(client, "confirm_command", token=plan["token"])
        assert done["status"] == "succeeded", done

    def recreated() -> bool:
        pod = kv_pods(env).get(member)
        placed = pod is not None and pod["spec"].get("nodeName") not in (None, node)
        return placed and pod is not None and not terminating(pod) and ready(pod)

    await env.until(recreated, 60)


async def test_deleting_the_node_object_releases_its_terminating_pods(built: Any) -> None:
    """The other documented way out (the pod garbage collector removes pods bound to a Node that no longer exists),
    and a delete_pod without force says the member will stay Terminating."""
    env, kubectl = built
    node, _, member = await node_down(env, kubectl)
    async with Client(env.server("full")) as client:
        plan = await call(client, "delete_pod", namespace=NS, pod=member)
        # kubectl delete waits for the pod to be gone, which it never is here: the rendered command does not wait.
        assert plan["command"] == f"kubectl delete pod {member} -n {NS} --wait=false --context sim"
        assert any(f"Node {node} is not ready" in w and "force=true" in w for w in proses(plan["warnings"])), plan
        done = await call(client, "confirm_command", token=plan["token"])
        assert done["status"] == "succeeded", done
    await env.until(lambda: terminating(kv_pods(env)[member]))
    env.sim.advance(600)
    await env.until(lambda: env.sim.wait_ticks(4) is None)
    assert terminating(kv_pods(env)[member])
    kubectl.run("delete", "node", node)
    await env.until(lambda: (kv_pods(env).get(member) or {}).get("spec", {}).get("nodeName") not in (None, node), 60)

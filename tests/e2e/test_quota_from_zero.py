"""A scale up from 0 under a ResourceQuota, in a namespace whose LimitRange gives containers their defaults,
through an MCP client against the simulated cluster (real kubectl applies the objects and runs the printed patch).

With no pod alive, scale_deployment's quota check read the template alone: a template that sets no resources (the
LimitRange's defaults are written into each pod at admission, never into the template) looked 'unset (the quota
needs it)', so every scale up from 0 was refused though the quota could hold it. The check now charges each new pod
what the LimitRange gives it, against every resource the quota limits (pods, requests.*, limits.*): a scale the
quota cannot hold is refused naming the quota, the resource and the numbers; one it holds is planned and runs.
"""

from __future__ import annotations

import pytest
from mcp import Client
from support.kubectl_runner import Kubectl
from support.mitigation_env import Env, plan_and_confirm, ready, refused
from support.plan_warnings import proses

from incident_response.tools.k8s.quantity import parse_quantity

pytestmark = pytest.mark.anyio
NS = "shop"
# The template sets no resources; the LimitRange gives each container 100m/128Mi requested, 200m/256Mi limits.
WORKER = f"""
apiVersion: apps/v1
kind: Deployment
metadata: {{name: worker, namespace: {NS}}}
spec:
  replicas: 0
  selector: {{matchLabels: {{app: worker}}}}
  template:
    metadata: {{labels: {{app: worker}}}}
    spec:
      containers: [{{name: worker, image: registry.example.com/app:1.0}}]
---
apiVersion: v1
kind: LimitRange
metadata: {{name: defaults, namespace: {NS}}}
spec:
  limits:
  - type: Container
    default: {{cpu: 200m, memory: 256Mi}}
    defaultRequest: {{cpu: 100m, memory: 128Mi}}
"""


def quota(limits_memory: str) -> str:
    return f"""
apiVersion: v1
kind: ResourceQuota
metadata: {{name: compute, namespace: {NS}}}
spec:
  hard: {{pods: "40", requests.cpu: "20", requests.memory: 64Gi, limits.cpu: "40", limits.memory: {limits_memory}}}
"""


async def test_a_scale_up_from_zero_is_charged_the_limit_range_defaults(built: tuple[Env, Kubectl]) -> None:
    env, kubectl = built
    kubectl.run("apply", "-f", "-", stdin=WORKER + "---" + quota("1Ti"))

    def used_memory_limits() -> str | None:
        return ((env.get("resourcequotas", "compute").get("status") or {}).get("used") or {}).get("limits.memory")

    await env.until(lambda: used_memory_limits() is not None)
    used_text = used_memory_limits()
    used = parse_quantity(used_text)
    assert used is not None
    mebi = int(used // 2**20)
    # room for 100Mi more of limits.memory: not one worker pod (256Mi each, from the LimitRange)
    kubectl.run("apply", "-f", "-", stdin=quota(f"{mebi + 100}Mi"))
    await env.until(
        lambda: (
            (env.get("resourcequotas", "compute").get("status") or {}).get("hard", {}).get("limits.memory")
            == f"{mebi + 100}Mi"
        )
    )

    async with Client(env.server("full")) as client:
        none = await refused(client, "scale_deployment", namespace=NS, deployment="worker", replicas=3)
        assert none.startswith(
            f"ResourceQuota compute (limits.memory: {used_text} used of {mebi + 100}Mi, each pod 256Mi) holds no more "
            "pods of deployment worker: the 3 new pods would only be refused"
        ), none
        # the patch it prints holds the 3 pods: used + 3 x 256Mi; the human runs it with real kubectl
        patch = (
            f"kubectl patch resourcequota compute -n {NS} --type=merge "
            f"""-p '{{"spec":{{"hard":{{"limits.memory":"{mebi + 768}Mi"}}}}}}'"""
        )
        assert patch in none, none
        kubectl.shell(patch)
        await env.until(
            lambda: (
                (env.get("resourcequotas", "compute").get("status") or {}).get("hard", {}).get("limits.memory")
                == f"{mebi + 768}Mi"
            )
        )

        plan, _ = await plan_and_confirm(client, env, "scale_deployment", namespace=NS, deployment="worker", replicas=3)
        assert not any("ResourceQuota" in w for w in proses(plan["warnings"])), proses(plan["warnings"])
        # the sim's admission agrees: the 3 pods are created with the LimitRange's defaults and run
        await env.until(
            lambda: len([p for p in env.pods("app=worker") if ready(p)]) == 3 and env.rolled_out("worker", 3)
        )
        await env.until(lambda: used_memory_limits() == f"{mebi + 768}Mi")
        # the quota is now full: one more is refused, naming the quota and the numbers
        over = await refused(client, "scale_deployment", namespace=NS, deployment="worker", replicas=4)
        assert over.startswith(
            f"ResourceQuota compute (limits.memory: {mebi + 768}Mi used of {mebi + 768}Mi, each pod 256Mi) holds no "
            "more pods of deployment worker: the 1 new pod would only be refused"
        ), over

    pod = env.pods("app=worker")[0]
    assert pod["spec"]["containers"][0]["resources"] == {
        "limits": {"cpu": "200m", "memory": "256Mi"},
        "requests": {"cpu": "100m", "memory": "128Mi"},
    }

"""Pods no node can take say why (review-assist6 G2): a new deployment whose pods request 4500m CPU on nodes of
3920m allocatable is Pending everywhere ("0/3 nodes are available: 3 Insufficient cpu"). assess_namespace said its
pods "fail without a clear cause" and sent the assistant to read their events; the scheduler's message is on the
pods already. Now it is the cause, with what helps (lower the request, or nodes that fit) and what does not (more
replicas), and the next read is the nodes' allocatable."""

from __future__ import annotations

from typing import Any

import pytest
import yaml
from mcp import Client
from support.kubectl_runner import Kubectl
from support.mitigation_env import Env, call

pytestmark = pytest.mark.anyio
NS = "shop"
LABELS = {"app": "reports"}
REPORTS: dict[str, Any] = {
    "apiVersion": "apps/v1",
    "kind": "Deployment",
    "metadata": {"name": "reports", "namespace": NS},
    "spec": {
        "replicas": 2,
        "selector": {"matchLabels": LABELS},
        "template": {
            "metadata": {"labels": LABELS},
            "spec": {
                "containers": [
                    {
                        "name": "reports",
                        "image": "registry.example.com/shop/reports:1.0.0",
                        "resources": {"requests": {"cpu": "4500m"}, "limits": {"cpu": "4500m"}},
                    }
                ]
            },
        },
    },
}


def unschedulable(pod: dict[str, Any]) -> bool:
    conditions = (pod.get("status") or {}).get("conditions") or []
    return any(c.get("type") == "PodScheduled" and c.get("reason") == "Unschedulable" for c in conditions)


async def test_pods_no_node_can_take_are_told_by_the_schedulers_reason(built: tuple[Env, Kubectl]) -> None:
    env, kubectl = built
    kubectl.run("apply", "-f", "-", stdin=yaml.safe_dump(REPORTS))
    await env.until(lambda: len([p for p in env.pods("app=reports") if unschedulable(p)]) == 2)

    async with Client(env.server("safe")) as client:
        assessed = await call(client, "assess_namespace", namespace=NS)
        evaluated = await call(client, "evaluate_decision", namespace=NS)

    decision = assessed["decision"]
    # Each pod asks more than any node has: the SRE's word (no scale, no wait helps), no read left to make.
    assert decision["reason"].startswith(
        "2 pods of reports are Pending: each requests 4500m CPU, more than any node's 3920m allocatable, so they "
        "cannot run on these nodes at any scale (0/3 nodes are available: 3 Insufficient cpu)"
    ), decision["reason"]
    assert "without a clear cause" not in decision["reason"], decision["reason"]
    assert (decision["next_tool"], decision["next_arguments"]) == (None, {}), decision
    assert evaluated["reason"] == decision["reason"], evaluated["summary"]

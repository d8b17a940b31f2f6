"""A deployment scaled to zero by hand is scaled back to the count its reason names (review-assist6 G4).

The dark-service rule says "scale it back to the 2 replicas it had" (the count the scale took away), but the
assessment re-sized every scale_deployment with the SCALE tree's sizing (the largest count any evidence shows):
with one more ScalingReplicaSet event claiming "from 60 to 0" (events are not authenticated: any account that may
create events can write one), assess and evaluate proposed replicas=10 under a reason that says 2.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import yaml
from mcp import Client
from support.kubectl_runner import Kubectl
from support.mitigation_env import Env, call

pytestmark = pytest.mark.anyio
NS = "shop"


async def test_the_scale_back_plans_the_count_its_reason_names(built: tuple[Env, Kubectl]) -> None:
    env, kubectl = built
    [replicaset] = [
        rs["metadata"]["name"]
        for rs in env.kube.list("replicasets", NS, label_selector="app=cart").items
        if rs["spec"].get("replicas")
    ]
    kubectl.run("scale", "deployment/cart", "-n", NS, "--replicas=0")
    await env.until(lambda: not env.pods("app=cart"))
    now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    claimed = {
        "apiVersion": "v1",
        "kind": "Event",
        "metadata": {"name": "cart.claimed", "namespace": NS},
        "involvedObject": {"kind": "Deployment", "name": "cart", "namespace": NS, "apiVersion": "apps/v1"},
        "reason": "ScalingReplicaSet",
        "type": "Normal",
        "message": f"Scaled down replica set {replicaset} from 60 to 0",
        "source": {"component": "deployment-controller"},
        "firstTimestamp": now,
        "lastTimestamp": now,
        "count": 1,
    }
    kubectl.run("apply", "-f", "-", stdin=yaml.safe_dump(claimed))

    async with Client(env.server("safe")) as client:
        assessed = await call(client, "assess_namespace", namespace=NS)
        decided = await call(client, "evaluate_decision", namespace=NS)
        first = assessed["problems"][0]
        plan = await call(client, first["next_tool"], **first["next_arguments"])

    assert (first["action"], first["next_tool"]) == ("SCALE", "scale_deployment"), first
    assert "scale it back to the 2 replicas it had" in assessed["decision"]["reason"], assessed["summary"]
    assert first["next_arguments"] == {"namespace": NS, "deployment": "cart", "replicas": 2}, first
    assert assessed["decision"]["next_arguments"] == first["next_arguments"], assessed["summary"]
    assert decided["next_arguments"] == first["next_arguments"], decided["summary"]
    assert "--replicas=2" in plan["command"], plan["command"]

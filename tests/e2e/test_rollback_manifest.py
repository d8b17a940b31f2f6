"""After an in-cluster rollback, the handoff says what the next apply of the manifest puts back, end to end.

Built incident with plain kubectl: cart 5.4 applied with 4 replicas; CI applies cart 5.5, whose new pods
crash-loop; the team scales cart to 8 by hand while it looks. The assistant rolls back: the service recovers. The
manifest kubectl last applied still asks for image 5.5 and 4 replicas: the next `kubectl apply` (or CI run) brings the
failure back and drops the hand scale. The handoff used to be silent about it; an engineer taking over must know.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from mcp import Client
from support.kubectl_runner import Kubectl
from support.mitigation_env import NS, Env, call, make_env, plan_and_confirm, ready
from support.texts import handoff_fields

from incident_response.sim import behaviors
from incident_response.sim.serve import RunningSim

pytestmark = pytest.mark.anyio
GOOD, BAD = "registry.example.com/shop/cart:5.4", "registry.example.com/shop/cart:5.5"


@pytest.fixture
def env(sim_factory: Callable[..., RunningSim], tmp_path: Path) -> Env:
    return make_env(sim_factory("healthy"), tmp_path / "state")


def manifest(image: str) -> dict[str, Any]:
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "cart", "namespace": NS},
        "spec": {
            "replicas": 4,
            "selector": {"matchLabels": {"app": "cart"}},
            "template": {
                "metadata": {"labels": {"app": "cart"}},
                "spec": {"containers": [{"name": "cart", "image": image}]},
            },
        },
    }


async def test_the_handoff_says_the_manifest_still_asks_for_the_rolled_back_image_and_count(
    env: Env, kubectl_for: Callable[[RunningSim], Kubectl]
) -> None:
    kubectl = kubectl_for(env.sim)
    kubectl.run("apply", "-f", "-", stdin=json.dumps(manifest(GOOD)))
    await env.until(lambda: len([p for p in env.pods("app=cart") if ready(p)]) == 4)
    await env.until(lambda: env.rolled_out("cart", 4))
    env.sim.cluster.images[BAD] = {behaviors.BEHAVIOR: behaviors.CRASHLOOP}  # the release crashes through its image
    kubectl.run("apply", "-f", "-", stdin=json.dumps(manifest(BAD)))
    kubectl.run("scale", "deployment/cart", "--replicas=8", "-n", NS)

    def crashing() -> bool:
        return any((p["status"].get("containerStatuses") or [{}])[0].get("restartCount") for p in env.pods("app=cart"))

    await env.until(crashing)
    async with Client(env.server("full")) as client:
        assessed = await call(client, "assess_namespace", namespace=NS)
        assert assessed["decision"]["next_tool"] == "rollback_deployment", assessed["decision"]
        await plan_and_confirm(client, env, "rollback_deployment", **assessed["decision"]["next_arguments"])

        def recovered() -> bool:
            pods = env.pods("app=cart")
            return len(pods) == 8 and all(ready(p) and p["spec"]["containers"][0]["image"] == GOOD for p in pods)

        await env.until(recovered, 60)
        await env.until(lambda: env.rolled_out("cart", 8))
        await call(client, "verify_recovery", namespace=NS, deployment="cart")
        handoff = await handoff_fields(client, namespace=NS, deployment="cart")

    # The oracle: what kubectl itself says the next apply starts from.
    last = json.loads(kubectl.run("apply", "view-last-applied", "deployment/cart", "-n", NS, "-o", "json").stdout)
    assert last["spec"]["template"]["spec"]["containers"][0]["image"] == BAD and last["spec"]["replicas"] == 4
    (question,) = [q for q in handoff["open_questions"] if "rolled back in the cluster only" in q]
    assert f"image {BAD} (running now: {GOOD})" in question, question
    assert "4 replicas (running now: 8)" in question and "source control" in question, question
    assert question in handoff["document"]

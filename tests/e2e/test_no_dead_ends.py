"""evaluate_decision leaves no dead end on a revision that ran only minutes before the bad deploy: pods of it still
serving (a stuck rollout) show it works; without them the human can vouch for it (revision_known_good), after which
the ROLLBACK tree proceeds."""

from __future__ import annotations

from typing import Any

import pytest
from mcp import Client
from support.mitigation_env import NS, Env, Start, call, ready

from incident_response.sim import behaviors
from incident_response.sim.scenarios.builders import deployment_body

pytestmark = pytest.mark.anyio


async def deploy_twice(env: Env, name: str, strategy: dict[str, Any] | None) -> None:
    """Revision 1 created 15 minutes ago, revision 2 (crash-looping) 10 minutes ago: 1 ran only 5 minutes."""
    body = deployment_body(
        name,
        namespace=NS,
        replicas=2,
        image=f"registry.example.com/shop/{name}:1.0",
        annotations={behaviors.ROLLED_OUT_MINUTES_AGO: "15"},
        strategy=strategy,
    )
    env.kube.create("deployments", body, NS)

    def serving() -> bool:  # revision 1 rolled out before revision 2 replaces it
        pods = env.pods(f"app={name}")
        return len(pods) == 2 and all(ready(p) for p in pods)

    await env.until(serving)
    await env.until(lambda: env.rolled_out(name, 2))
    # 1.1 crashes through its image (the sim's catalogue): revision 2 differs from 1.0 in the image alone.
    env.sim.cluster.images[f"registry.example.com/shop/{name}:1.1"] = {behaviors.BEHAVIOR: behaviors.CRASHLOOP}
    patch = {
        "metadata": {"annotations": {behaviors.ROLLED_OUT_MINUTES_AGO: "10"}},
        "spec": {
            "template": {"spec": {"containers": [{"name": name, "image": f"registry.example.com/shop/{name}:1.1"}]}}
        },
    }
    env.kube.patch("deployments", name, patch, NS, patch_type="strategic")


async def evaluate(client: Client, name: str, **answers: Any) -> dict[str, Any]:
    return await call(client, "evaluate_decision", namespace=NS, action="ROLLBACK", deployment=name, **answers)


async def test_a_stuck_rollouts_serving_pods_show_the_brief_revision_works(start: Start) -> None:
    env = start("healthy")
    await deploy_twice(env, "ledger", None)  # rolling update: the new pod crash-loops, both old ones keep serving

    def stuck() -> bool:
        pods = env.pods("app=ledger")
        crashing = [p for p in pods if (p["status"].get("containerStatuses") or [{}])[0].get("restartCount")]
        return len(pods) == 3 and len(crashing) == 1

    await env.until(stuck)
    async with Client(env.server("safe")) as client:
        result = await evaluate(client, "ledger")
    assert (result["verdict"], result["next_tool"]) == ("PROCEED", "rollback_deployment"), result


async def test_the_human_vouches_for_a_brief_revision_no_longer_running(start: Start) -> None:
    env = start("healthy")
    await deploy_twice(env, "ledger", {"type": "Recreate"})  # the old pods are gone before the new ones start

    def replaced() -> bool:
        pods = env.pods("app=ledger")
        return len(pods) == 2 and all(
            (p["status"].get("containerStatuses") or [{}])[0].get("restartCount") for p in pods
        )

    await env.until(replaced)
    async with Client(env.server("safe")) as client:
        doubtful = await evaluate(client, "ledger")
        assert doubtful["verdict"] == "CHECK_OLDER", doubtful
        assert "revision_known_good=true" in doubtful["reason"]
        vouched = await evaluate(client, "ledger", revision_known_good=True)
    assert (vouched["verdict"], vouched["next_tool"]) == ("PROCEED", "rollback_deployment"), vouched

"""The sizing sentence a human reads before approving a scale says what the pods use, against what, how many
replicas that load needs and why the count proposed is that (review-assist F9: it read "its pods use 130m CPU in
total, none pinned at its limit: 1 run each at 80% of its 1000m limit; at least one more than the 3 now").

End to end through an MCP client on deployments built in the simulated cluster (its load model: a Deployment's
`load-millicores` is shared by its running pods; `memory-bytes` is what each pod uses).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from mcp import Client
from support.mitigation_env import NS, Env, call, make_env, ready

from incident_response.sim import behaviors
from incident_response.sim.scenarios.builders import deployment_body
from incident_response.sim.serve import RunningSim

pytestmark = pytest.mark.anyio

DAYS_AGO = str(3 * 24 * 60)  # no recent rollout: nothing to roll back


@pytest.fixture
def env(sim_factory: Callable[..., RunningSim], tmp_path: Path) -> Env:
    return make_env(sim_factory("healthy"), tmp_path / "state")


def loaded(name: str, load: int, memory_used: str | None = None) -> dict[str, Any]:
    return deployment_body(
        name,
        namespace=NS,
        replicas=3,
        image=f"registry.example.com/shop/{name}:2.0",
        annotations={behaviors.LOAD_MILLICORES: str(load), behaviors.ROLLED_OUT_MINUTES_AGO: DAYS_AGO},
        pod_annotations={behaviors.MEMORY_BYTES: memory_used} if memory_used else None,
        cpu=("100m", "1000m"),
        memory=("256Mi", "512Mi"),
    )


async def measured(env: Env, app: str) -> None:
    def check() -> bool:
        pods = [p for p in env.pods(f"app={app}") if not p["metadata"].get("deletionTimestamp")]
        metrics = env.kube.list("pods.metrics.k8s.io", NS, label_selector=f"app={app}").items
        return len(pods) == len(metrics) == 3 and all(ready(p) for p in pods)

    await env.until(check, 60)
    await env.until(lambda: env.rolled_out(app, 3))


async def test_a_scale_the_load_does_not_call_for_says_so_and_why_one_more(env: Env) -> None:
    # recommender: memory at 92% of its limit (a sign of load for the SCALE walk), CPU 150m for the three pods.
    env.kube.create("deployments", loaded("recommender", 150, "470Mi"), NS)
    await measured(env, "recommender")
    async with Client(env.server("full")) as client:
        walked = await call(client, "evaluate_decision", namespace=NS, action="SCALE", deployment="recommender")
    assert (walked["verdict"], walked["next_tool"]) == ("PROCEED", "scale_deployment"), walked["summary"]
    assert walked["next_arguments"]["replicas"] == 4, walked
    assert walked["reason"] == (
        "scale deployment recommender from 3 to 4 replicas: 4 replicas: its 3 measured pods use 150m CPU together, "
        "none at its 1000m limit; that load needs 1 replica at 80% of the limit (the HPA's default target): no more "
        "than the 3 it has, so 4, the smallest step up."
    ), walked["reason"]


async def test_a_scale_sized_from_the_load_says_how_many_that_load_needs(env: Env) -> None:
    # search: 2760m of load over 3 pods, 920m each of a 1000m limit (near it, not pinned): 2760 / 800 -> 4.
    env.kube.create("deployments", loaded("search", 2760), NS)
    await measured(env, "search")
    async with Client(env.server("full")) as client:
        assessed = await call(client, "assess_namespace", namespace=NS)
    decision = assessed["decision"]
    assert (decision["next_tool"], decision["next_arguments"].get("replicas")) == ("scale_deployment", 4), decision
    assert decision["evidence"][-1] == (
        "Sized from what is known: 4 replicas: its 3 measured pods use 2760m CPU together, none at its 1000m limit; "
        "that load needs 4 replicas at 80% of the limit (the HPA's default target)."
    ), decision["evidence"]

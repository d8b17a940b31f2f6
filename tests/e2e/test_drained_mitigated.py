"""A drain is a mitigation of the apps it moved, end to end: right after it, their replacements starting elsewhere
are verify_recovery's to follow, and the assessment leads to the next problem (issue 11: "lead to the next problem,
not back to one already handled").

Built incident: the node-failure shop (node-2 NotReady) and pdf-render, a deployment created minutes ago that
crash-loops. node-2 is cordoned and drained (both confirmed). The drain's target is the Node, so the ranking did not
count it as a mitigation of anything in the namespace: the drained apps' replacements, not Ready yet, read as new
failures (INVESTIGATE their events) and could outrank pdf-render.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from mcp import Client
from support.mitigation_env import NS, Env, call, make_env, plan_and_confirm

from incident_response.sim import behaviors
from incident_response.sim.scenarios.builders import deployment_body
from incident_response.sim.serve import RunningSim

pytestmark = pytest.mark.anyio


@pytest.fixture
def env(sim_factory: Callable[..., RunningSim], tmp_path: Path) -> Env:
    return make_env(sim_factory("node-failure"), tmp_path / "state")


async def test_the_apps_a_drain_moved_rank_as_mitigated(env: Env) -> None:
    moved = sorted({p["metadata"]["labels"]["app"] for p in env.pods() if p["spec"].get("nodeName") == "node-2"})
    body = deployment_body(
        "pdf-render",
        namespace=NS,
        replicas=1,
        image="registry.example.com/docs/pdf-render:0.9",
        pod_annotations={behaviors.BEHAVIOR: behaviors.CRASHLOOP},
    )
    env.kube.create("deployments", body, NS)
    async with Client(env.server("full")) as client:
        await plan_and_confirm(client, env, "cordon_node", node="node-2")
        await plan_and_confirm(client, env, "drain_node", node="node-2")
        after = await call(client, "assess_namespace", namespace=NS)
    flagged = {c: p["mitigated"] for p in after["problems"] for c in p["components"]}
    # Those still starting are listed as mitigated (verify_recovery follows them); those Ready already are not listed.
    assert all(flagged.get(app, True) for app in moved), after["summary"]
    assert after["decision"]["target"] == "deployment/pdf-render", after["summary"]

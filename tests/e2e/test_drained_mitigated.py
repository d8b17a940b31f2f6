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
from support.texts import read_text, section

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
        handoff = await read_text(client, "incident_handoff", namespace=NS)
    # A drain of a NotReady node is a mitigation: the handoff keeps it, and the hypothesis it tested.
    assert "Other actions taken during the incident" not in handoff, handoff
    assert "Node node-2 is unhealthy" in "\n".join(section(handoff, "Hypotheses")), handoff
    flagged = {c: p["mitigated"] for p in after["problems"] for c in p["components"]}
    # Those still starting are listed as mitigated (verify_recovery follows them); those Ready already are not listed.
    assert all(flagged.get(app, True) for app in moved), after["summary"]
    assert after["decision"]["target"] == "deployment/pdf-render", after["summary"]


async def test_a_drain_does_not_mitigate_an_app_that_crashes_on_its_own_elsewhere(
    sim_factory: Callable[..., RunningSim], tmp_path: Path
) -> None:
    """review-assist8 I8: the human drains a Ready node for maintenance (disk errors) while payments crash-loops after a
    bad deploy, one of its pods on that node. The drain moved a payments pod, so payments' problem read "mitigated
    already" and would rank after any other, though its replacement crash-loops the same way elsewhere."""
    env = make_env(sim_factory("healthy"), tmp_path / "state")
    env.sim.cluster.images["registry.example.com/shop/payments:5.1.0"] = {behaviors.BEHAVIOR: behaviors.CRASHLOOP}
    patch = {
        "spec": {
            "template": {
                "spec": {"containers": [{"name": "payments", "image": "registry.example.com/shop/payments:5.1.0"}]}
            }
        }
    }
    env.kube.patch("deployments", "payments", patch, NS, patch_type="strategic")

    def crashing_payments_pod() -> str | None:
        return next(
            (
                str(p["spec"].get("nodeName"))
                for p in env.pods("app=payments")
                if p["spec"]["containers"][0]["image"].endswith(":5.1.0")
                and p["spec"].get("nodeName")
                and any(s.get("restartCount", 0) >= 1 for s in (p.get("status") or {}).get("containerStatuses") or [])
            ),
            None,
        )

    await env.until(lambda: crashing_payments_pod() is not None, 40)
    node = crashing_payments_pod()
    async with Client(env.server("full")) as client:
        await plan_and_confirm(client, env, "drain_node", node=node)
        await env.until(lambda: crashing_payments_pod() not in (None, node), 40)
        after = await call(client, "assess_namespace", namespace=NS)
        await call(client, "verify_recovery", namespace=NS, deployment="payments")
        handoff = await read_text(client, "incident_handoff", namespace=NS)
    # The drain was maintenance (the node reported Ready, no assessment named it): the handoff files it under other
    # actions, with no "did not fix the service" and no hypothesis "the node is unhealthy" nobody had.
    actions = "\n".join(section(handoff, "Actions Taken"))
    assert "Other actions taken during the incident" in actions, handoff
    assert f"drain_node on node/{node}" in actions.partition("Other actions")[2], handoff
    assert "did not fix" not in handoff, handoff
    assert f"Node {node} is unhealthy" not in handoff, handoff
    assert "Mitigation: none applied" in handoff, handoff
    [payments] = [p for p in after["problems"] if "payments" in p["components"]]
    assert payments["mitigated"] is False, after["summary"]
    assert "mitigated already" not in after["summary"], after["summary"]

"""A lone forged ScalingReplicaSet event does not become a scale's target silently.

Events are not authenticated: a workload allowed to create events writes "Scaled down replica set api2-<hash> from
40 to 2". When the controller's own events have expired (1 h; deleted here) and nothing recorded shows a count (no
kubectl manifest, no revision before), that one event is all that claims a count. It was taken as the count to scale
back to (capped at 20). Now a count only one event shows is taken no further than the step demand-unknown scaling
takes anyway; the decision and the plan say that only an event claims it, and ask the human to confirm the number.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path

import anyio
import pytest
from mcp import Client
from support.kubectl_runner import Kubectl
from support.mitigation_env import NS, Env, call, make_env
from support.plan_warnings import proses
from support.result_rule import budgeted
from support.scale_events import api2_cut_by_hand, cut_to_zero_with_a_lone_event, forged_event

from incident_response.sim import behaviors
from incident_response.sim.scenarios.builders import deployment_body
from incident_response.sim.serve import RunningSim

pytestmark = pytest.mark.anyio
SETTLE = 120  # bound on the sim's controllers (pods start, probes)


async def test_a_lone_scale_event_is_a_claim_the_human_confirms(built: tuple[Env, Kubectl]) -> None:
    env, kubectl = built
    real = await api2_cut_by_hand(env, kubectl)
    events = env.kube.list("events", NS, field_selector="reason=ScalingReplicaSet").items
    replicaset = str(real["message"]).split()[4]
    # The controller's events about api2 have expired (1 h): the forged one is the only one left.
    for event in events:
        if str(event.get("message", "")).split()[4:5] == [replicaset] or "api2" in str(event.get("message")):
            kubectl.run("delete", "event", event["metadata"]["name"], "-n", NS)
    env.kube.create("events", forged_event(env, replicaset, dt.datetime.now(dt.UTC)), NS)

    async with Client(env.server("full")) as client:
        assessed = await budgeted(client, "assess_namespace", namespace=NS)
        decision = assessed["decision"]
        assert (decision["target"], decision["next_tool"]) == ("deployment/api2", "scale_deployment"), decision
        # not 20 (40 capped): the step demand-unknown scaling takes (the larger of +100% and +4 pods)
        assert decision["next_arguments"]["replicas"] == 6, (decision["next_arguments"], decision["evidence"])
        sized = next(e for e in decision["evidence"] if e.startswith("Sized from what is known"))
        assert "only events claim it had 40" in sized.lower() and "confirm with the human" in sized, sized
        evaluated = await budgeted(client, "evaluate_decision", namespace=NS, action="SCALE", deployment="api2")
        assert evaluated["next_arguments"] == decision["next_arguments"], evaluated

        # The human who takes the event's word is told, in the plan, that only an event claims it.
        plan = await budgeted(client, "scale_deployment", namespace=NS, deployment="api2", replicas=20)
        warned = " ".join(proses(plan["warnings"]))
        assert "only events claim it had 40" in warned.lower() and "confirm with the human" in warned, warned
        await call(client, "cancel_command", token=plan["token"])


async def test_a_lone_scale_event_does_not_size_a_dark_service(
    sim_factory: Callable[..., RunningSim], kubectl_for: Callable[[RunningSim], Kubectl], tmp_path: Path
) -> None:
    """orders2 (2 replicas, behind Service orders2, created with no manifest and no revision before) was scaled to
    0; its real event expired, a forged "from 60 to 0" is left: it said 'scale it back to the 60 replicas it had'."""
    env = make_env(sim_factory("healthy"), tmp_path / "state")
    kubectl = kubectl_for(env.sim)
    dated = {behaviors.ROLLED_OUT_MINUTES_AGO: "4320"}  # running for 3 days: not a new rollout
    body = deployment_body(
        "orders2", namespace=NS, replicas=2, image="registry.example.com/shop/orders2:1.0", annotations=dated
    )
    env.kube.create("deployments", {"apiVersion": "apps/v1", "kind": "Deployment", **body}, NS)
    service = {"metadata": {"name": "orders2"}, "spec": {"selector": {"app": "orders2"}, "ports": [{"port": 80}]}}
    env.kube.create("services", {"apiVersion": "v1", "kind": "Service", **service}, NS)

    await env.until(lambda: env.observed("orders2") and env.rolled_out("orders2", 2), SETTLE)
    # The controller dates what happens to a rollout 3 days back until its next pass sees it complete; the scale
    # to 0 must come after that (its event dated now; one dated 3 days back has expired and is never written).
    await anyio.to_thread.run_sync(env.sim.wait_ticks, 2)
    await cut_to_zero_with_a_lone_event(env, kubectl, "orders2", 2)

    async with Client(env.server("full")) as client:
        assessed = await call(client, "assess_namespace", namespace=NS)
        decision = assessed["decision"]
        assert (decision["target"], decision["next_tool"]) == ("deployment/orders2", "scale_deployment"), decision
        # back up by the step demand-unknown scaling takes (the larger of +100% and +4 pods), not to 60
        assert decision["next_arguments"]["replicas"] == 4, decision
        reason = decision["reason"]
        assert "scale it back to 4 replicas: only events claim it had 60" in reason, reason
        assert "confirm with the human" in reason, reason
        plan = await budgeted(client, "scale_deployment", **decision["next_arguments"])
        warned = " ".join(proses(plan["warnings"]))
        assert "only events claim it had 60" in warned.lower(), warned
        await call(client, "cancel_command", token=plan["token"])


async def test_a_recorded_count_outweighs_a_lone_scale_event(
    sim_factory: Callable[..., RunningSim], kubectl_for: Callable[[RunningSim], Kubectl], tmp_path: Path
) -> None:
    """cart's revision before ran with 2 replicas (its ReplicaSet's desired-replicas): that record is the count to
    go back to, and the lone event's 60 is named beside it."""
    env = make_env(sim_factory("healthy"), tmp_path / "state")
    await cut_to_zero_with_a_lone_event(env, kubectl_for(env.sim), "cart", 2)
    async with Client(env.server("full")) as client:
        decision = (await call(client, "assess_namespace", namespace=NS))["decision"]
    assert (decision["target"], decision["next_arguments"]["replicas"]) == ("deployment/cart", 2), decision
    assert "scale it back to the 2 replicas it had (revision " in decision["reason"], decision["reason"]
    assert "the events say 60" in decision["reason"], decision["reason"]

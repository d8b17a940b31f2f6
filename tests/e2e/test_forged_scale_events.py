"""A forged ScalingReplicaSet event does not steer a scale (review-assist6 G3).

Events are not authenticated: a workload allowed to create events writes "Scaled down replica set api-<hash> from 40
to 2" beside the deployment controller's real "to 2 from 3" (source.component is free text). api2 (2.4 cores of load
over a 400m limit, no manifest, no revision before: its events alone show its history) was cut 3 -> 2 by hand: its
two pods are pinned and fail readiness. Scaling back to what it had is 3 replicas, not the forged 40 (capped at 20).
The ReplicaSet's events are read as a chain: the two cuts disagree about what it had, whichever is dated first, so
the smaller stands, and the decision says the events disagree.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from mcp import Client
from support.kubectl_runner import Kubectl
from support.mitigation_env import NS, Env, call, make_env
from support.plan_warnings import proses
from support.scale_events import api2_cut_by_hand, forged_event

from incident_response.sim.serve import RunningSim

pytestmark = pytest.mark.anyio

SETTLE = 120  # bound on the sim's controllers (pods start, probes)


@pytest.mark.parametrize("dated", ["after", "before"], ids=["forged-after-the-cut", "forged-before-the-cut"])
async def test_a_forged_scale_down_event_does_not_size_the_scale(built: tuple[Env, Kubectl], dated: str) -> None:
    env, kubectl = built
    real = await api2_cut_by_hand(env, kubectl)
    replicaset = str(real["message"]).split()[4]
    when = dt.datetime.strptime(real["lastTimestamp"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=dt.UTC)
    env.kube.create(
        "events", forged_event(env, replicaset, when + dt.timedelta(seconds=5 if dated == "after" else -5)), NS
    )

    async with Client(env.server("full")) as client:
        assessed = await call(client, "assess_namespace", namespace=NS)
        decision = assessed["decision"]
        assert (decision["target"], decision["next_tool"]) == ("deployment/api2", "scale_deployment"), decision
        assert decision["next_arguments"]["replicas"] == 3, decision
        sized = next(e for e in decision["evidence"] if e.startswith("Sized from what is known"))
        assert "3 replicas: the count it had before" in sized, sized
        assert "events disagree" in sized and "from 40 to 2" in sized, sized
        evaluated = await call(client, "evaluate_decision", namespace=NS, action="SCALE", deployment="api2")
        assert evaluated["next_arguments"] == decision["next_arguments"], evaluated
        assert "events disagree" in evaluated["reason"], evaluated["reason"]
        plan = await call(client, "scale_deployment", namespace=NS, deployment="api2", replicas=3)
        assert plan["command"].startswith("kubectl scale deployment/api2 --replicas=3"), plan
        assert not any("below what is known to be needed" in w for w in proses(plan["warnings"])), proses(
            plan["warnings"]
        )
        await call(client, "cancel_command", token=plan["token"])


async def test_a_backdated_forged_event_does_not_set_the_count_a_dark_service_goes_back_to(
    sim_factory: Callable[..., RunningSim], kubectl_for: Callable[[RunningSim], Kubectl], tmp_path: Path
) -> None:
    """cart (2 replicas, behind Service cart) is scaled to 0 by hand; a forged "from 60 to 0", dated before the real
    "to 0 from 2", was the first count the events showed: 'scale it back to the 60 replicas it had'."""
    env = make_env(sim_factory("healthy"), tmp_path / "state")
    assert env.get("deployments", "cart")["spec"]["replicas"] == 2
    kubectl_for(env.sim).run("scale", "deployment/cart", "--replicas=0", "-n", NS)

    def cut() -> dict[str, Any] | None:
        events = env.kube.list("events", NS, field_selector="reason=ScalingReplicaSet").items
        return next((e for e in events if "to 0 from 2" in str(e.get("message"))), None)

    await env.until(lambda: cut() is not None and not env.pods("app=cart"), SETTLE)
    real = cut()
    assert real is not None
    replicaset = str(real["message"]).split()[4]
    when = dt.datetime.strptime(real["lastTimestamp"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=dt.UTC)
    forged = forged_event(env, replicaset, when - dt.timedelta(seconds=5), deployment="cart")
    forged["message"] = f"Scaled down replica set {replicaset} from 60 to 0"
    env.kube.create("events", forged, NS)

    async with Client(env.server("full")) as client:
        assessed = await call(client, "assess_namespace", namespace=NS)
        decision = assessed["decision"]
        assert (decision["target"], decision["next_tool"]) == ("deployment/cart", "scale_deployment"), decision
        assert decision["next_arguments"]["replicas"] == 2, decision
        assert "scaled 2 -> 0" in decision["reason"] and "60" not in decision["reason"], decision["reason"]

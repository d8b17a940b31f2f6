"""A plan gone stale because someone made the same change by hand says so, instead of "plan again" (review-assist8 I4).

payments 5.1.0 crash-loops; the assistant plans the rollback to revision 1 and, before it confirms, a colleague runs
`kubectl rollout undo deployment/payments` (real kubectl). The confirm was answered "stale ... nothing ran. Plan
again.", and a second rollback_deployment(payments) then planned revision 2 (5.1.0, the release that had just
crashed: kubectl's default target after the hand rollback). Now the stale answer says the deployment already has
what the plan writes and that nothing is to be planned again. A change that is not the plan's own (a new release by
CI) says to assess again before planning again (a re-plan without arguments went to kubectl's default revision), and
so does a hand scale to another count; a hand scale to the planned count is in place.
"""

from __future__ import annotations

from typing import Any

import pytest
from mcp import Client
from support.kubectl_runner import Kubectl
from support.mitigation_env import Env, call

from incident_response.sim.serve import RunningSim

pytestmark = pytest.mark.anyio
NS = "shop"
IMAGE = "registry.example.com/shop/payments"
DONE = "already has what this plan writes"


async def crashing_payments(sim: RunningSim, env: Env, kubectl: Kubectl) -> None:
    sim.cluster.images[f"{IMAGE}:5.1.0"] = {"sim.incident-response.dev/behavior": "crashloop"}
    kubectl.run("set", "image", "deployment/payments", "-n", NS, f"payments={IMAGE}:5.1.0")
    await env.until(lambda: env.observed("payments") and len(env.pods("app=payments")) == 3, 40)


async def stale(client: Client, plan: dict[str, Any]) -> str:
    answer = await call(client, "confirm_command", token=plan["token"])
    assert answer["status"] == "stale" and answer["steps"] == [], answer
    return str(answer["message"])


async def test_a_rollback_already_done_by_hand_is_not_planned_again(built: tuple[Env, Kubectl]) -> None:
    env, kubectl = built
    sim = env.sim
    await crashing_payments(sim, env, kubectl)
    async with Client(env.server("full")) as client:
        plan = await call(client, "rollback_deployment", namespace=NS, deployment="payments", to_revision=1)
        kubectl.run("rollout", "undo", "deployment/payments", "-n", NS)
        await env.until(lambda: env.observed("payments"))
        message = await stale(client, plan)
    assert DONE in message and "nothing to plan again" in message and "Assess again" not in message, message
    assert env.get("deployments", "payments")["spec"]["template"]["spec"]["containers"][0]["image"].endswith(":5.0.2")


async def test_a_new_release_between_plan_and_confirm_still_asks_for_a_new_plan(built: tuple[Env, Kubectl]) -> None:
    env, kubectl = built
    sim = env.sim
    await crashing_payments(sim, env, kubectl)
    async with Client(env.server("full")) as client:
        plan = await call(client, "rollback_deployment", namespace=NS, deployment="payments", to_revision=1)
        kubectl.run("set", "image", "deployment/payments", "-n", NS, f"payments={IMAGE}:5.1.1")
        await env.until(lambda: env.observed("payments"))
        message = await stale(client, plan)
    assert "Assess again (assess_namespace) before planning again" in message and DONE not in message, message


@pytest.mark.parametrize(("by_hand", "in_place"), [(5, True), (4, False)])
async def test_a_hand_scale_is_in_place_only_at_the_planned_count(
    built: tuple[Env, Kubectl], by_hand: int, in_place: bool
) -> None:
    env, kubectl = built
    async with Client(env.server("full")) as client:
        plan = await call(client, "scale_deployment", namespace=NS, deployment="api", replicas=5)
        kubectl.run("scale", "deployment/api", "-n", NS, f"--replicas={by_hand}")
        message = await stale(client, plan)
    assert (DONE in message, "Assess again" in message) == (in_place, not in_place), message
    assert env.get("deployments", "api")["spec"]["replicas"] == by_hand

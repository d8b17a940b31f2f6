"""After the human rules the rollback out, no decision tree sends the assistant back to it, end to end
(review-assist F31).

Built incident: the bad-deploy shop (checkout's revision 3 crash-loops while its old pods serve). The human answers
that revision 3 ran a forward-only migration: the ROLLBACK tree says DO_NOT. Walked with the same answer, the SCALE
tree ("no load pressure") and the ISOLATE tree ("no failing pod names another component") used to answer
TRY_INSTEAD ROLLBACK: a loop back to what the human just ruled out. Now they end at what fits (the crashed
container's log for pods that fail on their own), and the DO_NOT says to fix forward.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from mcp import Client
from support.kube_stores import install_crds, store_namespace
from support.kubectl_runner import Kubectl
from support.mitigation_env import NS, Env, call, make_env, refused
from support.plan_warnings import proses
from support.texts import handoff_fields

from incident_response.server.app import build_server
from incident_response.server.config import Settings
from incident_response.sim import behaviors
from incident_response.sim.serve import RunningSim
from incident_response.tools.engine.deps import Mode
from incident_response.tools.kube.client import ClusterSource

pytestmark = pytest.mark.anyio
STORE_NS = "ir-store"  # not deploy/'s namespace, which INCIDENT_RESPONSE_E2E_IDENTITY=deploy creates
FIX = "registry.example.com/shop/checkout:2.5.1"


@pytest.fixture
def env(sim_factory: Callable[..., RunningSim], tmp_path: Path) -> Env:
    return make_env(sim_factory("bad-deploy"), tmp_path / "state")


async def test_no_tree_leads_back_to_a_rollback_the_human_ruled_out(env: Env) -> None:
    async with Client(env.server("safe")) as client:
        rollback = await call(client, "evaluate_decision", namespace=NS, migrations_forward_only=True)
        walks = {
            tree: await call(
                client,
                "evaluate_decision",
                namespace=NS,
                action=tree,
                deployment="checkout",
                migrations_forward_only=True,
            )
            for tree in ("SCALE", "ISOLATE")
        }
    assert (rollback["action"], rollback["verdict"]) == ("ROLLBACK", "DO_NOT"), rollback["summary"]
    assert "Fix forward" in rollback["reason"], rollback["reason"]
    for tree, walk in walks.items():
        assert walk["alternative"] != "ROLLBACK", (tree, walk["summary"])
        assert walk["next_arguments"].get("action") != "ROLLBACK", (tree, walk["summary"])
        assert walk["verdict"] != "PROCEED" or walk["next_tool"] != "rollback_deployment", (tree, walk["summary"])
        # checkout's new pods crash on their own: the crashed container's log is what is left to read.
        assert walk["next_tool"] == "get_logs" and walk["next_arguments"]["previous"] is True, (tree, walk["summary"])


# --- the answer is remembered (F31 remainder) ---------------------------------------------------------------------

TAKE_BACK = "evaluate_decision(namespace=shop, action=ROLLBACK, deployment=checkout, migrations_forward_only=false)"


def settings(env: Env, store: str, tmp_path: Path, mode: Mode = "safe") -> Settings:
    """A server on the env's sim, its journal in SQLite (the state dir) or in the team store's objects."""
    assert env.sim.kubeconfig_path is not None
    if store == "sqlite":  # as every e2e server: deploy/'s identity under INCIDENT_RESPONSE_E2E_IDENTITY=deploy
        own = ClusterSource(kubeconfig=env.server_kubeconfig or env.sim.kubeconfig_path, context=env.sim.context)
        return Settings(mode=mode, state_dir=env.state, cluster=own)
    source = ClusterSource(kubeconfig=env.sim.kubeconfig_path, context=env.sim.context)
    return Settings(
        mode=mode, state_dir=tmp_path / "unused", cluster=source, store="kubernetes", store_namespace=STORE_NS
    )


@pytest.fixture(params=["sqlite", "kubernetes"])
def stored(
    request: pytest.FixtureRequest, env: Env, kubectl_for: Callable[[RunningSim], Kubectl], tmp_path: Path
) -> Callable[..., Settings]:
    if request.param == "kubernetes":
        kubectl = kubectl_for(env.sim)
        install_crds(kubectl)
        store_namespace(kubectl, STORE_NS)
    return lambda mode="safe": settings(env, str(request.param), tmp_path, mode)


async def test_the_rollback_planners_and_the_assessment_remember_the_answer(stored: Callable[..., Settings]) -> None:
    async with Client(build_server(stored())) as client:
        answered = await call(client, "evaluate_decision", namespace=NS, migrations_forward_only=True)
    assert answered["verdict"] == "DO_NOT", answered["summary"]
    # Another server on the same store (a restart, another replica): the answer is on the incident's timeline.
    async with Client(build_server(stored())) as client:
        refusals = [
            await refused(client, "rollback_deployment", namespace=NS, deployment="checkout", **extra)
            for extra in ({}, {"to_revision": 1})
        ]
        assessed = await call(client, "assess_namespace", namespace=NS)
        checked = await call(client, "check_rollback_safety", namespace=NS, deployment="checkout")
        # Said again (the model passes it on): the timeline keeps the first time.
        default = await call(client, "evaluate_decision", namespace=NS, migrations_forward_only=True)
        walked = await call(client, "evaluate_decision", namespace=NS, action="ROLLBACK", deployment="checkout")
        handoff = await handoff_fields(client, namespace=NS)
    said = [e["text"] for e in handoff["timeline"] if e["kind"] == "answered"]
    assert said == [
        "the human answered migrations_forward_only=true about deployment checkout revision 3: a rollback past it is "
        "ruled out"
    ], handoff["timeline"]
    statements = [h["statement"] for h in handoff["hypotheses"]]
    assert any("the human ruled out rolling it back: it is fixed forward" in h for h in statements), statements
    assert not any(h.startswith("The cause is not known yet") for h in statements), statements
    for message, target in zip(refusals, ("revision 2", "revision 1"), strict=True):
        assert f"will not plan rolling deployment checkout back to {target}" in message, message
        assert re.search(
            r"at \d{4}-\d\d-\d\d \d\d:\d\d UTC the human answered \(migrations_forward_only=true\) that revision 3",
            message,
        )
        assert "fix forward" in message and "action=SCALE or ISOLATE" in message, message
        assert TAKE_BACK in message, message
    assert checked["verdict"] == "BLOCKED" and TAKE_BACK in checked["next_step"], checked["summary"]
    migrations = next(i for i in checked["items"] if i["check"] == "migrations")
    assert migrations["status"] == "blocking" and "migrations_forward_only=true" in migrations["detail"], migrations
    assert not any("migration" in q for q in checked["questions_for_human"]), checked["questions_for_human"]
    decision = assessed["decision"]
    assert assessed["primary_action"] == "INVESTIGATE", assessed["summary"]
    assert decision["rule"] == "recent deployment, rollback ruled out by the human", decision
    assert "Fix forward" in decision["reason"] and TAKE_BACK in decision["reason"], decision["reason"]
    assert decision["next_tool"] == "get_logs" and decision["next_arguments"]["previous"] is True, decision
    assert all(p["next_tool"] != "rollback_deployment" for p in assessed["problems"]), assessed["problems"]
    assert (default["action"], default["verdict"], default["next_tool"]) == ("INVESTIGATE", "PROCEED", "get_logs")
    assert walked["verdict"] == "DO_NOT" and walked["next_tool"] == "get_logs", walked["summary"]
    assert any(c.startswith("Remembered: at ") and TAKE_BACK in c for c in walked["cautions"]), walked["cautions"]


async def test_the_human_takes_the_answer_back(stored: Callable[..., Settings]) -> None:
    async with Client(build_server(stored())) as client:
        await call(client, "evaluate_decision", namespace=NS, migrations_forward_only=True)
        await refused(client, "rollback_deployment", namespace=NS, deployment="checkout")
        await call(
            client, "evaluate_decision", namespace=NS, action="ROLLBACK", deployment="checkout",
            migrations_forward_only=False,
        )  # fmt: skip
        plan = await call(client, "rollback_deployment", namespace=NS, deployment="checkout")
        assessed = await call(client, "assess_namespace", namespace=NS)
    assert plan["status"] == "blocked" and "--to-revision=2" in plan["command"], plan["summary"]
    back = [w for w in proses(plan["warnings"]) if "took it back (migrations_forward_only=false)" in w]
    assert back and "answered migrations_forward_only=true about revision 3 of deployment checkout" in back[0], back
    assert assessed["decision"]["next_tool"] == "rollback_deployment", assessed["summary"]


async def test_a_rollback_forward_of_the_answered_revision_is_not_refused(env: Env, tmp_path: Path) -> None:
    """The answer is about revision 3: once a fix rolled out as revision 4, going back to 3 is allowed; to 2 is not."""
    async with Client(build_server(settings(env, "sqlite", tmp_path))) as client:
        await call(client, "evaluate_decision", namespace=NS, migrations_forward_only=True)
        env.kube.patch(
            "deployments", "checkout",
            {"spec": {"template": {"spec": {"containers": [{"name": "checkout", "image": FIX}]}}}},
            NS, patch_type="strategic",
        )  # fmt: skip
        await env.until(lambda: env.observed("checkout"))
        back_to_3 = await call(client, "rollback_deployment", namespace=NS, deployment="checkout")
        message = await refused(client, "rollback_deployment", namespace=NS, deployment="checkout", to_revision=2)
    assert "--to-revision=3" in back_to_3["command"], back_to_3["summary"]
    assert "back to revision 2" in message and "that revision 3" in message, message


async def test_a_statefulset_rollback_the_human_ruled_out_is_refused(
    sim_factory: Callable[..., RunningSim], tmp_path: Path
) -> None:
    """bad-statefulset: sessions' revision 2 is stuck on sessions-2; its claims keep what revision 2 wrote, and the
    human says revision 1 cannot read it."""
    env = make_env(sim_factory("bad-statefulset"), tmp_path / "state")
    async with Client(env.server("safe")) as client:
        answered = await call(
            client, "evaluate_decision", namespace=NS, action="ROLLBACK", deployment="sessions",
            migrations_forward_only=True,
        )  # fmt: skip
        message = await refused(client, "rollback_workload", namespace=NS, kind="statefulset", workload="sessions")
        assessed = await call(client, "assess_namespace", namespace=NS)
    assert answered["verdict"] == "DO_NOT", answered["summary"]
    assert "will not plan rolling statefulset sessions back to revision 1" in message, message
    assert "that revision 2 of statefulset sessions ran database migrations" in message, message
    assert all(p["next_tool"] != "rollback_workload" for p in assessed["problems"]), assessed["summary"]


async def test_a_helm_rollback_to_older_code_than_the_answered_revision_is_refused(
    sim_factory: Callable[..., RunningSim], tmp_path: Path
) -> None:
    """cart (helm release cart, deployed revision 3 = cart 2.4.0): the human says 2.4.0 ran forward-only migrations.
    helm rollback cart 2 would put 2.3.1 back on deployment cart, older than that: refused."""
    env = make_env(sim_factory("healthy"), tmp_path / "state")
    async with Client(env.server("safe")) as client:
        await call(
            client, "evaluate_decision", namespace=NS, action="ROLLBACK", deployment="cart",
            migrations_forward_only=True,
        )  # fmt: skip
        message = await refused(client, "rollback_helm_release", namespace=NS, release="cart")
    assert "will not plan rolling deployment cart back to helm release cart revision 2" in message, message
    assert "cart:2.3.1" in message and "that revision 3 of deployment cart" in message, message


async def test_a_fix_that_fails_too_is_fixed_forward_not_rolled_back_past_the_answer(env: Env, tmp_path: Path) -> None:
    """Revision 4 (the fix) crash-loops too. The known-good revision is 2 (3 served minutes): the assessment used to
    propose rolling back to 2, which the planner refuses; now it proposes fixing forward, as evaluate_decision."""
    env.sim.cluster.images[FIX] = {behaviors.BEHAVIOR: behaviors.CRASHLOOP}
    async with Client(build_server(settings(env, "sqlite", tmp_path))) as client:
        await call(client, "evaluate_decision", namespace=NS, migrations_forward_only=True)
        env.kube.patch(
            "deployments", "checkout",
            {"spec": {"template": {"spec": {"containers": [{"name": "checkout", "image": FIX}]}}}},
            NS, patch_type="strategic",
        )  # fmt: skip
        await env.until(lambda: any(restarted(p) for p in env.pods("app=checkout") if image_of(p) == FIX), 40)
        assessed = await call(client, "assess_namespace", namespace=NS)
        default = await call(client, "evaluate_decision", namespace=NS)
        to_2 = await call(
            client, "evaluate_decision", namespace=NS, action="ROLLBACK", deployment="checkout", to_revision=2
        )
    decision = assessed["decision"]
    assert decision["rule"] == "recent deployment, rollback ruled out by the human", assessed["summary"]
    assert "revision 4" in decision["reason"] and "that revision 3 of deployment checkout" in decision["reason"]
    assert (default["verdict"], default["next_tool"]) == ("PROCEED", decision["next_tool"]), default["summary"]
    assert to_2["verdict"] == "DO_NOT", to_2["summary"]


def image_of(pod: dict[str, Any]) -> str:
    return str(pod["spec"]["containers"][0]["image"])


def restarted(pod: dict[str, Any]) -> bool:
    return bool((pod["status"].get("containerStatuses") or [{}])[0].get("restartCount"))

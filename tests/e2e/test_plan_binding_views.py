"""Everything a server shows or touches respects its cluster and its allow-list (issue 9), with a second server
sharing the first one's state directory: on another cluster, or on the same cluster with another allow-list."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from mcp import Client
from mcp.server import MCPServer
from support.mitigation_env import NS, Env, call, make_env, plan_and_confirm
from support.plan_warnings import proses
from support.texts import everything, handoff_fields

from incident_response.sim.serve import RunningSim

pytestmark = pytest.mark.anyio

# What server A did, which a server that may not see it must not show in any form.
A_TRACES = ("override_hpa", "scale_deployment", "minReplicas", "hpa web", "hpa/web", "deployment/api", "list_pods")


@pytest.fixture
def env(sim_factory: Callable[..., RunningSim], tmp_path: Path) -> Env:
    return make_env(sim_factory("overload"), tmp_path / "state")


@pytest.fixture(params=["another cluster", "outside the allow-list"])
def elsewhere(
    request: pytest.FixtureRequest, sim_factory: Callable[..., RunningSim], env: Env
) -> tuple[MCPServer[Any], str]:
    """(a second server sharing env's state directory, the namespace it hands off)."""
    if request.param == "another cluster":
        return make_env(sim_factory("overload"), env.state).server("full"), NS
    return env.server("full", namespaces=("payments",)), "payments"


async def test_a_server_lists_restores_declares_and_hands_off_only_what_it_could_confirm(
    env: Env, elsewhere: tuple[MCPServer[Any], str]
) -> None:
    server, namespace = elsewhere
    async with Client(env.server("full")) as here:
        declared = await call(here, "declare_incident", title="web slow under load", severity="SEV3", namespace=NS)
        incident = declared["incident"]["incident_id"]
        await call(here, "list_pods", namespace=NS, selector="app=web")
        await plan_and_confirm(here, env, "override_hpa", namespace=NS, hpa="web", min_replicas=9, max_replicas=12)
        left = await call(here, "scale_deployment", namespace=NS, deployment="api", replicas=4)
        [measure] = (await call(here, "list_temporary_measures"))["measures"]
    async with Client(server) as there:
        measures, text = await everything(there, "list_temporary_measures")
        assert measures is not None and measures["measures"] == [], text
        restored, text = await everything(there, "restore_measure", measure_id=measure["measure_id"])
        assert restored is None and "no temporary measure" in text, text
        listed, text = await everything(there, "list_pending_commands")
        assert listed is not None and listed["commands"] == [] and "1 more belong" in text
        handoff, text = await everything(there, "incident_handoff", namespace=namespace, format="json")
        assert handoff is not None, text
        assert handoff["actions"] == [] and handoff["current_state"]["temporary_measures"] == []
        assert not [e for e in handoff["timeline"] if e["kind"] in ("planned", "confirmed", "succeeded")]
        called = {t["tool"] for t in handoff["evidence"]["tools_called"]}
        assert not called & {"override_hpa", "scale_deployment", "list_pods"}, called
        # A's incident is not this server's (tests/e2e/test_incident_scope.py): it cannot be named here.
        stabilized, text = await everything(there, "declare_incident", incident_id=incident, status="stabilized")
        assert stabilized is None and f"no incident {incident!r}" in text
        text = text.replace(repr(incident), "")
        # Every answer above, whole: nothing of what server A planned, ran or read.
        for trace in A_TRACES:
            assert trace not in text
    async with Client(env.server("full")) as here:
        assert [m["measure_id"] for m in (await call(here, "list_temporary_measures"))["measures"]] == [
            measure["measure_id"]
        ]
        handoff = await handoff_fields(here, namespace=NS)
        assert [a["tool"] for a in handoff["actions"]] == ["override_hpa", "scale_deployment"]
        restored = await call(here, "restore_measure", measure_id=measure["measure_id"], restore_despite_condition=True)
        assert restored["status"] == "pending"
        assert (await call(here, "cancel_command", token=left["token"]))["status"] == "cancelled"


# --- cluster-scoped mitigations on a server with an allow-list ------------------------------------------------------


def on_node(env: Env, node: str, namespace: str) -> list[str]:
    return sorted(
        p["metadata"]["name"]
        for p in env.pods(namespace=namespace)
        if p["spec"].get("nodeName") == node and not p["metadata"].get("deletionTimestamp")
    )


async def test_cordon_and_drain_on_an_allow_listed_server_say_what_they_do_outside_it(
    sim_factory: Callable[..., RunningSim], tmp_path: Path
) -> None:
    env = make_env(sim_factory("node-failure"), tmp_path / "state")
    [outside] = on_node(env, "node-2", "kube-system")
    async with Client(env.server("standard", namespaces=(NS,))) as client:
        cordon, text = await everything(client, "cordon_node", node="node-2")
        assert cordon is not None and any(
            "1 of them in namespaces outside this server's allow-list" in w for w in proses(cordon["warnings"])
        ), proses(cordon["warnings"])
        assert "kube-system" not in text and outside not in text
        assert (await call(client, "cancel_command", token=cordon["token"]))["status"] == "cancelled"

        refusal, text = await everything(client, "drain_node", node="node-2")
        assert refusal is None and "include_outside_allow_list=True" in text, text
        assert "1 pod(s) in namespaces outside this server's allow-list" in text
        assert "kube-system" not in text and outside not in text
        assert not env.get("nodes", "node-2", None)["spec"].get("unschedulable")

        plan, done = await plan_and_confirm(
            client, env, "drain_node", standard=True, node="node-2", include_outside_allow_list=True
        )
        assert any(
            f"kube-system/{outside}" in w and "outside this server's allow-list" in w for w in proses(plan["warnings"])
        )
        assert any(c["path"] == f"pod/kube-system/{outside}" for c in plan["diff"])
    await env.until(lambda: not on_node(env, "node-2", "kube-system") and not on_node(env, "node-2", NS))


async def test_a_drain_planned_without_an_allow_list_is_outside_a_narrower_one(
    sim_factory: Callable[..., RunningSim], tmp_path: Path
) -> None:
    env = make_env(sim_factory("node-failure"), tmp_path / "state")
    async with Client(env.server("full")) as wide, Client(env.server("full", namespaces=(NS,))) as narrow:
        plan = await call(wide, "drain_node", node="node-2")
        refused = await call(narrow, "confirm_command", token=plan["token"])
    assert refused["status"] == "outside_allow_list"
    assert not env.get("nodes", "node-2", None)["spec"].get("unschedulable")


async def test_an_uncordon_on_a_narrower_server_ends_the_wider_servers_drain_measure(
    sim_factory: Callable[..., RunningSim], tmp_path: Path
) -> None:
    env = make_env(sim_factory("node-failure"), tmp_path / "state")
    async with Client(env.server("full")) as wide:
        await plan_and_confirm(wide, env, "drain_node", node="node-2")
        assert [m["tool"] for m in (await call(wide, "list_temporary_measures"))["measures"]] == ["drain_node"]
    async with Client(env.server("full", namespaces=(NS,))) as narrow:
        # The narrow server may not see the drain (it evicted pods outside its allow-list), but it may uncordon.
        assert (await call(narrow, "list_temporary_measures"))["measures"] == []
        await plan_and_confirm(narrow, env, "uncordon_node", node="node-2")
    assert not env.get("nodes", "node-2", None)["spec"].get("unschedulable")
    async with Client(env.server("full")) as wide:
        listed = await call(wide, "list_temporary_measures")
        handoff = await handoff_fields(wide, namespace=NS)
    assert listed["measures"] == [], listed  # the node is uncordoned: the drain's cordon is no longer in place
    assert handoff["current_state"]["temporary_measures"] == [] and [a["tool"] for a in handoff["actions"]] == [
        "drain_node"
    ]


async def test_a_narrower_servers_restore_of_its_cordon_ends_the_wider_servers_drain_too(
    sim_factory: Callable[..., RunningSim], tmp_path: Path
) -> None:
    env = make_env(sim_factory("node-failure"), tmp_path / "state")
    async with Client(env.server("full", namespaces=(NS,))) as narrow:
        await plan_and_confirm(narrow, env, "cordon_node", node="node-2")
    async with Client(env.server("full")) as wide:
        await plan_and_confirm(wide, env, "drain_node", node="node-2")
        assert len((await call(wide, "list_temporary_measures"))["measures"]) == 2
    async with Client(env.server("full", namespaces=(NS,))) as narrow:
        [cordon] = (await call(narrow, "list_temporary_measures"))["measures"]
        plan = await call(narrow, "restore_measure", measure_id=cordon["measure_id"], restore_despite_condition=True)
        assert (await call(narrow, "confirm_command", token=plan["token"]))["status"] == "succeeded"
    async with Client(env.server("full")) as wide:
        assert (await call(wide, "list_temporary_measures"))["measures"] == []

"""Draining a NotReady node whose own not-Ready pods a PodDisruptionBudget protects, end to end.

gateway runs 4 pods under a PDB minAvailable 3; the node holding 2 of them goes NotReady. Under the default
unhealthyPodEvictionPolicy (IfHealthyBudget) the API server refuses to evict a not-Ready pod while the budget is
below its minimum (2 healthy of 3), and the replacements start only once those pods are gone: re-planning the drain
never helps. The plan must name the way out (delete them: a deletion is not subject to budgets; or scale up first),
and following it must work. The cordon and the drains are measures restored by one uncordon: the handoff and
list_temporary_measures count them alike, and restoring one ends them all. Built with real kubectl; the rendered
eviction runs through real kubectl too (the oracle of the 429 the plan predicts).
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from mcp import Client
from support.mitigation_env import Env, call, plan_and_confirm, ready
from support.plan_warnings import proses
from support.texts import handoff_fields

from incident_response.sim import behaviors
from incident_response.tools.mitigate.isolation import split_heredoc

pytestmark = pytest.mark.anyio

EDGE = "edge"
BUILD = [
    {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": EDGE}},
    {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "gateway", "namespace": EDGE},
        "spec": {
            "replicas": 4,
            "selector": {"matchLabels": {"app": "gateway"}},
            "template": {
                "metadata": {"labels": {"app": "gateway"}},
                "spec": {
                    "containers": [
                        {
                            "name": "gateway",
                            "image": "registry.example.com/edge/gateway:2.3",
                            "resources": {"requests": {"cpu": "100m", "memory": "64Mi"}},
                        }
                    ]
                },
            },
        },
    },
    {
        "apiVersion": "policy/v1",
        "kind": "PodDisruptionBudget",
        "metadata": {"name": "gateway", "namespace": EDGE},
        "spec": {"minAvailable": 3, "selector": {"matchLabels": {"app": "gateway"}}},
    },
]


def gateway(env: Env) -> list[dict[str, Any]]:
    return [p for p in env.pods("app=gateway", EDGE) if not p["metadata"].get("deletionTimestamp")]


def budget(env: Env) -> dict[str, Any]:
    return dict(env.get("poddisruptionbudgets", "gateway", EDGE).get("status") or {})


async def test_the_drain_names_the_way_out_of_a_budget_its_own_pods_hold_below_minimum(built: Any) -> None:
    env, kubectl = built
    kubectl.run("apply", "-f", "-", stdin=json.dumps({"apiVersion": "v1", "kind": "List", "items": BUILD}))
    await env.until(
        lambda: len(gateway(env)) == 4 and all(ready(p) for p in gateway(env)) and env.rolled_out("gateway", 4, EDGE),
        60,
    )
    per_node: dict[str, list[str]] = {}
    for pod in gateway(env):
        per_node.setdefault(pod["spec"]["nodeName"], []).append(pod["metadata"]["name"])
    node, here = max(per_node.items(), key=lambda item: len(item[1]))
    # 4 pods on 3 nodes: one node holds at least two, so losing it leaves fewer than 3 healthy.
    healthy = 4 - len(here)
    short = 3 - healthy
    assert short >= 1, per_node
    kubectl.run("annotate", "node", node, f"{behaviors.NODE_CONDITION}=NotReady")
    await env.until(lambda: budget(env).get("currentHealthy") == healthy)

    async with Client(env.server("full")) as client:
        await call(client, "declare_incident", title="gateway half down", severity="SEV2", namespace=EDGE)
        await plan_and_confirm(client, env, "cordon_node", node=node)
        drain = await call(client, "drain_node", node=node)
        warned = next(w for w in proses(drain["warnings"]) if w.startswith(f"PodDisruptionBudget {EDGE}/gateway"))
        assert all(name in warned for name in here), warned
        assert "planning the drain again will not help" in warned and "Plan the drain again" not in warned
        assert "delete_pod" in warned and "not subject to PodDisruptionBudgets" in warned
        assert f"scale deployment gateway up by {short} or more" in warned
        assert f"({healthy} healthy, needs 3)" in warned

        # The oracle: the plan's own eviction of a blocked pod, run by real kubectl, is refused as predicted.
        blocked = next(s for s in drain["steps"] if f"/pods/{here[0]}/eviction" in s)
        line, body = split_heredoc(blocked)
        assert body is not None
        refused = kubectl.run(*line.split()[1:], stdin=body, check=False)
        assert refused.returncode != 0 and "violate the pod's disruption budget" in refused.stderr

        stopped = await call(client, "confirm_command", token=drain["token"])
        assert stopped["status"] != "succeeded", stopped
        assert {p["metadata"]["name"] for p in env.pods("app=gateway", EDGE)} >= set(here)

        # The way out: delete stuck pods (deletion ignores budgets); their ReplicaSet replaces them at once even
        # though they stay Terminating on the dead node; the budget heals, and the drain goes through.
        for name in here[:short]:
            deleted, _ = await plan_and_confirm(client, env, "delete_pod", namespace=EDGE, pod=name)
            assert any("stays Terminating" in w for w in proses(deleted["warnings"])), proses(deleted["warnings"])
        await env.until(lambda: budget(env).get("currentHealthy") == 3, 60)
        again, _ = await plan_and_confirm(client, env, "drain_node", node=node)
        assert not any("PodDisruptionBudget" in w for w in proses(again["warnings"])), proses(again["warnings"])

        # Three measures (the cordon and two drains), one restore: counted alike, and ended together.
        listed = await call(client, "list_temporary_measures")
        handoff = await handoff_fields(client, namespace=EDGE)
        assert len(listed["measures"]) == 3, listed["summary"]
        assert "3 temporary measure(s) in place" in handoff["summary"], handoff["summary"]
        cordon = next(m for m in listed["measures"] if m["tool"] == "cordon_node")
        await plan_and_confirm(
            client, env, "restore_measure", measure_id=cordon["measure_id"], restore_despite_condition=True
        )
        assert (await call(client, "list_temporary_measures"))["measures"] == []
        handoff = await handoff_fields(client, namespace=EDGE)
        assert "0 temporary measure(s) in place" in handoff["summary"], handoff["summary"]
    assert not env.get("nodes", node, None)["spec"].get("unschedulable")

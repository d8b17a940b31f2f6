"""restore_measure checks that what a temporary measure answered is gone before planning the restore, end to end on
built incidents: an HPA override while the load still needs the raised max, an isolation while the isolated pods
still run, a cordon while the node is still NotReady, a raised memory limit while the pods use more than the old
one. Each is refused with what was seen, planned anyway only on restore_despite_condition (the plan carries the
warning), and planned cleanly once the condition is gone."""

from __future__ import annotations

from typing import Any

import pytest
from mcp import Client
from support.mitigation_env import NS, Env, Start, call, plan_and_confirm, ready, refused, serving
from support.plan_warnings import proses
from support.result_rule import budgeted

from incident_response.sim import behaviors
from incident_response.sim.scenarios.builders import deployment_body
from incident_response.tools.k8s.quantity import parse_quantity

pytestmark = pytest.mark.anyio

STILL_THERE = "Restored while still there: "


def add_search(env: Env, load: int) -> None:
    """search: `load` millicores shared by pods requesting 250m, an HPA of min 2, max 2, cpu target 70%."""
    body = deployment_body(
        "search",
        namespace=NS,
        replicas=2,
        annotations={behaviors.LOAD_MILLICORES: str(load)},
        cpu=("250m", "1"),
    )
    env.kube.create("deployments", body, NS)
    metric = {
        "type": "Resource",
        "resource": {"name": "cpu", "target": {"type": "Utilization", "averageUtilization": 70}},
    }
    hpa = {
        "apiVersion": "autoscaling/v2",
        "kind": "HorizontalPodAutoscaler",
        "metadata": {"name": "search"},
        "spec": {
            "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "search"},
            "minReplicas": 2,
            "maxReplicas": 2,
            "metrics": [metric],
        },
    }
    env.kube.create("horizontalpodautoscalers", hpa, NS)


def running_ready(env: Env, selector: str, count: int) -> bool:
    pods = [p for p in env.pods(selector) if not p["metadata"].get("deletionTimestamp")]
    return len(pods) == count and all(ready(p) for p in pods)


async def measure_id(client: Client, tool: str) -> str:
    [measure] = [m for m in (await call(client, "list_temporary_measures"))["measures"] if m["tool"] == tool]
    return str(measure["measure_id"])


async def refused_then_anyway(client: Client, measure: str) -> tuple[str, dict[str, Any]]:
    """(the refusal, the plan made anyway), after checking the refusal changed nothing."""
    message = await refused(client, "restore_measure", measure_id=measure)
    assert message.startswith("not planned: what this ") and "restore_despite_condition=true" in message
    assert (await call(client, "list_pending_commands"))["commands"] == []
    # Within issue 13's result rule: the still-there lines are long (the plan carries each as a warning).
    anyway = await budgeted(client, "restore_measure", measure_id=measure, restore_despite_condition=True)
    assert anyway["status"] == "pending"
    await call(client, "cancel_command", token=anyway["token"])
    return message, anyway


async def test_an_hpa_override_is_not_restored_while_the_load_still_needs_the_raised_max(start: Start) -> None:
    env = start("healthy")
    add_search(env, load=600)  # 600m over pods of 175m at the target: 4 pods; the HPA may add none
    await env.until(lambda: running_ready(env, "app=search", 2))
    async with Client(env.server("full")) as client:
        await plan_and_confirm(client, env, "override_hpa", namespace=NS, hpa="search", min_replicas=2, max_replicas=4)

        def at(replicas: int) -> bool:
            status = env.get("horizontalpodautoscalers", "search").get("status") or {}
            metrics = status.get("currentMetrics") or []
            return (
                status.get("currentReplicas") == replicas
                and bool(metrics)
                and running_ready(env, "app=search", replicas)
            )

        await env.until(lambda: at(4), 30)  # the outage is over: 4 pods at 60% of their requests
        measure = await measure_id(client, "override_hpa")
        message, anyway = await refused_then_anyway(client, measure)
        assert "HPA search runs 4 replicas (min 2, max 4), cpu 60% of requests (target 70%)" in message
        assert "its own formula asks for 4 replicas, and restoring max 2 caps it at 2" in message
        assert "about 120% of requests (target 70%) on each" in message
        assert [w for w in proses(anyway["warnings"]) if w.startswith(STILL_THERE)] == [
            STILL_THERE + message.split("still there: ", 1)[1].split(". Restore it once", 1)[0]
        ]
        assert env.get("horizontalpodautoscalers", "search")["spec"]["maxReplicas"] == 4  # nothing changed

        # The traffic drops: the autoscaler comes down to its minimum on its own, and the override can go.
        env.kube.patch(
            "deployments",
            "search",
            {"metadata": {"annotations": {behaviors.LOAD_MILLICORES: "200"}}},
            NS,
            patch_type="merge",
        )
        await env.until(lambda: at(2), 30)
        restore, _ = await plan_and_confirm(client, env, "restore_measure", measure_id=measure)
    assert not [w for w in proses(restore["warnings"]) if w.startswith(STILL_THERE)], proses(restore["warnings"])
    spec = env.get("horizontalpodautoscalers", "search")["spec"]
    assert (spec["minReplicas"], spec["maxReplicas"]) == (2, 2)


async def test_an_isolation_is_not_ended_while_the_isolated_pods_still_run(start: Start) -> None:
    env = start("poison")  # api-bad's version=bad pods break web through api's Service
    bad = sorted(p["metadata"]["name"] for p in env.pods("app=api,version=bad"))
    async with Client(env.server("full")) as client:
        await plan_and_confirm(client, env, "isolate_network", namespace=NS, selector="app=api,version=bad")
        measure = await measure_id(client, "isolate_network")
        message, anyway = await refused_then_anyway(client, measure)
        seen = f"still selects pods: 2 of the pods it cut off still run ({', '.join(bad)})"
        assert f"NetworkPolicy incident-isolate-api-bad {seen}" in message
        assert "deleting it sends them traffic again" in message
        assert any(
            w.startswith(STILL_THERE + "NetworkPolicy incident-isolate-api-bad") for w in proses(anyway["warnings"])
        )

        # The bad release is taken away (as a human would after the beta is withdrawn): the isolation can end.
        env.kube.patch("deployments", "api-bad", {"spec": {"replicas": 0}}, NS, patch_type="merge")
        await env.until(lambda: not env.pods("app=api,version=bad"), 30)
        restore, _ = await plan_and_confirm(client, env, "restore_measure", measure_id=measure)
    assert not [w for w in proses(restore["warnings"]) if w.startswith(STILL_THERE)], proses(restore["warnings"])
    assert env.kube.list("networkpolicies", NS).items == []


async def test_pods_taken_out_of_their_service_are_not_put_back_while_they_still_run(start: Start) -> None:
    env = start("poison")
    async with Client(env.server("full")) as client:
        await plan_and_confirm(
            client, env, "remove_pods_from_service", namespace=NS, service="api", selector="app=api,version=bad"
        )
        measure = await measure_id(client, "remove_pods_from_service")
        # Its pods run and are Ready, only out of their Service: verify_recovery says so rather than RECOVERED.
        isolated = await call(client, "verify_recovery", namespace=NS, deployment="api-bad")
        assert isolated["verdict"] == "ISOLATED", isolated["summary"]
        assert isolated["isolated_by"][0].startswith("2 of its pods are out of Service api (label app removed: ")
        message, _ = await refused_then_anyway(client, measure)
    assert "pods taken out of Service api: 2 of the pods it cut off still run (api-bad-" in message
    assert "putting the label back sends them traffic again" in message
    assert all("app" not in p["metadata"]["labels"] for p in env.pods("version=bad"))  # nothing changed


def node_ready(env: Env, node: str) -> bool:
    conditions = (env.get("nodes", node, None).get("status") or {}).get("conditions") or []
    return any(c.get("type") == "Ready" and c.get("status") == "True" for c in conditions)


async def test_a_cordon_is_not_lifted_while_the_node_is_still_not_ready(start: Start) -> None:
    env = start("node-failure")  # node-2 is NotReady
    async with Client(env.server("full")) as client:
        await plan_and_confirm(client, env, "cordon_node", node="node-2")
        measure = await measure_id(client, "cordon_node")
        message, anyway = await refused_then_anyway(client, measure)
        assert "node node-2 is still NotReady (" in message and "pods scheduled there would fail" in message
        assert any(w.startswith(STILL_THERE + "node node-2 is still NotReady") for w in proses(anyway["warnings"]))

        # The node comes back: the cordon can go.
        env.kube.patch(
            "nodes", "node-2", {"metadata": {"annotations": {behaviors.NODE_CONDITION: None}}}, None, patch_type="merge"
        )
        await env.until(lambda: node_ready(env, "node-2"), 30)
        restore, _ = await plan_and_confirm(client, env, "restore_measure", measure_id=measure)
    assert not [w for w in proses(restore["warnings"]) if w.startswith(STILL_THERE)], proses(restore["warnings"])
    assert not env.get("nodes", "node-2", None)["spec"].get("unschedulable")


async def test_a_raised_memory_limit_is_not_lowered_while_the_pods_use_more_than_the_old_one(start: Start) -> None:
    env = start("healthy")
    # ledger needs 400Mi and uses 380Mi: under its 256Mi limit it is OOMKilled, under 512Mi it runs.
    body = deployment_body(
        "ledger",
        namespace=NS,
        replicas=2,
        memory=("128Mi", "256Mi"),
        pod_annotations={
            behaviors.BEHAVIOR: behaviors.OOM,
            behaviors.MEMORY_NEED: "400Mi",
            behaviors.MEMORY_BYTES: str(380 * 2**20),
        },
    )
    env.kube.create("deployments", body, NS)
    await env.until(lambda: env.observed("ledger"))  # its pods crash-loop by design: no readiness to wait for
    async with Client(env.server("full")) as client:
        await plan_and_confirm(
            client, env, "set_memory_limit", namespace=NS, deployment="ledger", container="ledger", limit="512Mi"
        )
        await env.until(lambda: running_ready(env, "app=ledger", 2), 30)
        measure = await measure_id(client, "set_memory_limit")
        message, _ = await refused_then_anyway(client, measure)
    assert "container ledger uses up to 380Mi in 2 of 2 pods" in message
    assert "at or above 90% of the old limit 256Mi: they would be OOMKilled again" in message
    limits = env.get("deployments", "ledger")["spec"]["template"]["spec"]["containers"][0]["resources"]["limits"]
    assert limits["memory"] == "512Mi"  # nothing changed


async def test_a_manual_scale_is_not_undone_while_the_old_count_could_not_carry_the_load(start: Start) -> None:
    env = start("healthy")
    # render: 1600m over pods limited to 500m; 2 pods would carry 800m each (past the limit), 4 carry 400m.
    body = deployment_body(
        "render", namespace=NS, replicas=2, annotations={behaviors.LOAD_MILLICORES: "1600"}, cpu=("250m", "500m")
    )
    env.kube.create("deployments", body, NS)
    await env.until(lambda: env.observed("render"))  # 800m against a 500m limit: throttled, never Ready at 2
    async with Client(env.server("full")) as client:
        await plan_and_confirm(client, env, "scale_deployment", namespace=NS, deployment="render", replicas=4)
        await env.until(lambda: running_ready(env, "app=render", 4), 30)
        measure = await measure_id(client, "scale_deployment")
        message, anyway = await refused_then_anyway(client, measure)
        assert "deployment render's 4 pods use 1600m CPU in all: spread over 2 replicas that is 800m each" in message
        assert "at or above 90% of the 500m limit" in message
        assert any(w.startswith(STILL_THERE + "deployment render's 4 pods") for w in proses(anyway["warnings"]))

        # The traffic drops to a quarter: two pods carry it again.
        load = {"metadata": {"annotations": {behaviors.LOAD_MILLICORES: "400"}}}
        env.kube.patch("deployments", "render", load, NS, patch_type="merge")

        def light() -> bool:
            used = env.kube.list("pods.metrics.k8s.io", NS, label_selector="app=render").items
            return len(used) == 4 and all(
                parse_quantity(c["usage"]["cpu"]) == 0.1 for m in used for c in m["containers"]
            )

        await env.until(light, 30)
        restore, _ = await plan_and_confirm(client, env, "restore_measure", measure_id=measure)
    assert not [w for w in proses(restore["warnings"]) if w.startswith(STILL_THERE)], proses(restore["warnings"])
    assert env.get("deployments", "render")["spec"]["replicas"] == 2


async def test_a_service_is_not_sent_back_to_the_pods_it_was_routed_away_from_while_they_run(start: Start) -> None:
    env = start("poison")
    bad = sorted(p["metadata"]["name"] for p in env.pods("app=api,version=bad"))
    async with Client(env.server("full")) as client:
        await plan_and_confirm(
            client, env, "patch_service_selector", namespace=NS, service="api", selector="app=api,version=stable"
        )
        measure = await measure_id(client, "patch_service_selector")
        message, _ = await refused_then_anyway(client, measure)
        assert f"Service api's old selector: 2 of the pods it cut off still run ({', '.join(bad)})" in message
        assert "restoring it sends them traffic again" in message
        assert env.get("services", "api")["spec"]["selector"] == {"app": "api", "version": "stable"}

        env.kube.patch("deployments", "api-bad", {"spec": {"replicas": 0}}, NS, patch_type="merge")
        await env.until(lambda: not env.pods("app=api,version=bad"), 30)
        restore, _ = await plan_and_confirm(client, env, "restore_measure", measure_id=measure)
    assert not [w for w in proses(restore["warnings"]) if w.startswith(STILL_THERE)], proses(restore["warnings"])
    assert env.get("services", "api")["spec"]["selector"] == {"app": "api"}


async def test_an_ingress_is_not_switched_back_to_a_service_whose_bad_pods_still_run(start: Start) -> None:
    env = start("poison")
    selector = {"app": "api", "version": "stable"}
    stable = {"metadata": {"name": "api-stable"}, "spec": {"selector": selector, "ports": [{"port": 8080}]}}
    env.kube.create("services", stable, NS)
    await env.until(lambda: len(serving(env, "api-stable")[0]) == 3)
    bad = sorted(p["metadata"]["name"] for p in env.pods("app=api,version=bad"))
    async with Client(env.server("full")) as client:
        await plan_and_confirm(
            client, env, "switch_ingress_backend", namespace=NS, ingress="shop", service="api-stable", path=1
        )
        measure = await measure_id(client, "switch_ingress_backend")
        message, _ = await refused_then_anyway(client, measure)
        assert f"the old backend Service api: 2 of the pods it cut off still run ({', '.join(bad)})" in message
        assert "switching back sends them traffic again" in message

        env.kube.patch("deployments", "api-bad", {"spec": {"replicas": 0}}, NS, patch_type="merge")
        await env.until(lambda: not env.pods("app=api,version=bad"), 30)
        restore, _ = await plan_and_confirm(client, env, "restore_measure", measure_id=measure)
    assert not [w for w in proses(restore["warnings"]) if w.startswith(STILL_THERE)], proses(restore["warnings"])
    backend = env.get("ingresses", "shop")["spec"]["rules"][0]["http"]["paths"][1]["backend"]["service"]
    assert backend["name"] == "api"

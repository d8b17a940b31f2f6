"""Every mitigation end to end: an MCP client, our server, the simulated cluster running the incident it is for."""

from __future__ import annotations

from typing import Any

import pytest
from mcp import Client
from support.mitigation_env import NS, Env, Start, call, plan_and_confirm, ready, refused, serving
from support.plan_warnings import proses

pytestmark = pytest.mark.anyio


def labels_of(obj: dict[str, Any]) -> dict[str, str]:
    return dict(obj["metadata"].get("labels") or {})


async def web_recovers(env: Env, timeout: float = 30) -> None:
    """The victim of `poison` and `overload`: every web pod Ready, no not-ready endpoints."""

    def healthy() -> bool:
        good, bad = serving(env, "web")
        return bool(good) and not bad

    await env.until(healthy, timeout)


# --- overload ---------------------------------------------------------------------------------------------------


async def test_overload_override_hpa_then_restore_the_measure(start: Start) -> None:
    env = start("overload")
    async with Client(env.server("standard")) as client:
        message = await refused(client, "scale_deployment", namespace=NS, deployment="web", replicas=10)
        assert "HorizontalPodAutoscaler web manages deployment web" in message and "override_hpa" in message
        plan, _ = await plan_and_confirm(
            client, env, "override_hpa", standard=True, namespace=NS, hpa="web", min_replicas=9, max_replicas=12
        )
        assert plan["command"] == (
            'kubectl patch hpa web -n shop --context sim -p \'{"spec":{"minReplicas":9,"maxReplicas":12}}\''
        )
        assert plan["undo_command"].endswith('-p \'{"spec":{"minReplicas":3,"maxReplicas":6}}\'')
        assert {c["path"]: c["after"] for c in plan["diff"]} == {"spec.minReplicas": 9, "spec.maxReplicas": 12}
        assert env.get("horizontalpodautoscalers", "web")["spec"]["minReplicas"] == 9
        await env.until(lambda: env.get("deployments", "web")["spec"]["replicas"] >= 9)
        await web_recovers(env)
        measures = await call(client, "list_temporary_measures")
        assert [m["tool"] for m in measures["measures"]] == ["override_hpa"]
        measure = measures["measures"][0]
        assert measure["restore_command"] == plan["undo_command"]
        # 3300m still needs about 19 pods: max 6 would recreate the outage, so it takes an explicit "anyway".
        held = await refused(client, "restore_measure", measure_id=measure["measure_id"])
        assert "restore_despite_condition=true" in held and "caps it at 6" in held
        restore, _ = await plan_and_confirm(
            client,
            env,
            "restore_measure",
            standard=True,
            measure_id=measure["measure_id"],
            restore_despite_condition=True,
        )
        assert restore["command"] == plan["undo_command"]
        assert any(w.startswith("Restored while still there: ") for w in proses(restore["warnings"]))
        assert (await call(client, "list_temporary_measures"))["measures"] == []
    spec = env.get("horizontalpodautoscalers", "web")["spec"]
    assert (spec["minReplicas"], spec["maxReplicas"]) == (3, 6)


async def test_overload_scale_deployment_once_the_hpa_is_out_of_the_way(start: Start) -> None:
    env = start("overload")
    env.kube.delete("horizontalpodautoscalers", "web", NS)
    async with Client(env.server("full")) as client:
        message = await refused(client, "scale_deployment", namespace=NS, deployment="web", replicas=100)
        assert "allow_large=true" in message
        plan, _ = await plan_and_confirm(client, env, "scale_deployment", namespace=NS, deployment="web", replicas=10)
    assert plan["command"] == "kubectl scale deployment/web --replicas=10 -n shop --context sim"
    assert plan["undo_command"] == "kubectl scale deployment/web --replicas=6 -n shop --context sim"
    assert plan["diff"] == [{"path": "spec.replicas", "before": 6, "after": 10}]
    assert env.get("deployments", "web")["spec"]["replicas"] == 10
    await web_recovers(env)
    assert len(serving(env, "web")[0]) == 10


# --- poison -------------------------------------------------------------------------------------------------------


async def test_poison_remove_bad_pods_from_service_then_restore(start: Start) -> None:
    env = start("poison")
    bad = sorted(p["metadata"]["name"] for p in env.pods("version=bad"))
    async with Client(env.server("standard")) as client:
        plan, done = await plan_and_confirm(
            client,
            env,
            "remove_pods_from_service",
            standard=True,
            namespace=NS,
            service="api",
            selector="app=api,version=bad",
        )
        assert plan["command"] == "kubectl label pods -l app=api,version=bad app- -n shop --context sim"
        assert plan["undo_command"] == "kubectl label pods -l 'version=bad,!app' app=api -n shop --context sim"
        assert plan["steps"] == [f"kubectl label pod {n} app- -n shop --context sim" for n in bad]
        endpoints = next(c for c in plan["diff"] if c["path"] == "service/api endpoints")
        assert set(bad) <= set(endpoints["before"]) and not set(bad) & set(endpoints["after"])
        assert plan["warnings"] == []  # api-bad's ReplicaSet does not select by app: no replacements
        assert len(done["steps"]) == len(bad)
        await env.until(lambda: not set(bad) & set(serving(env, "api")[0] + serving(env, "api")[1]))
        await web_recovers(env)
        assert sorted(p["metadata"]["name"] for p in env.pods("version=bad")) == bad  # kept for debugging
        measure = (await call(client, "list_temporary_measures"))["measures"][0]
        # The pods it took out still run: putting them back takes an explicit "anyway".
        await plan_and_confirm(
            client,
            env,
            "restore_measure",
            standard=True,
            measure_id=measure["measure_id"],
            restore_despite_condition=True,
        )
    assert all(labels_of(p).get("app") == "api" for p in env.pods("version=bad"))


async def test_poison_isolate_network_then_restore(start: Start) -> None:
    env = start("poison")
    async with Client(env.server("full")) as client:
        plan, _ = await plan_and_confirm(client, env, "isolate_network", namespace=NS, selector="app=api,version=bad")
        first, _, yaml_text = plan["command"].partition("\n")
        assert first == "kubectl apply -f - -n shop --context sim <<'POLICY'"
        assert "name: incident-isolate-api-bad" in yaml_text and "ingress: []" in yaml_text
        assert plan["command"].endswith("\nPOLICY")
        assert plan["undo_command"] == "kubectl delete networkpolicy incident-isolate-api-bad -n shop --context sim"
        assert any("network plugin" in w for w in proses(plan["warnings"]))
        policy = env.get("networkpolicies", "incident-isolate-api-bad")
        assert policy["spec"]["podSelector"] == {"matchLabels": {"app": "api", "version": "bad"}}
        await web_recovers(env)
        again = await refused(client, "isolate_network", namespace=NS, selector="app=api,version=bad")
        assert "already isolated" in again
        measure = (await call(client, "list_temporary_measures"))["measures"][0]
        await plan_and_confirm(
            client, env, "restore_measure", measure_id=measure["measure_id"], restore_despite_condition=True
        )
    assert env.kube.list("networkpolicies", NS).items == []


async def test_poison_patch_service_selector_routes_around_the_bad_pods(start: Start) -> None:
    env = start("poison")
    async with Client(env.server("full")) as client:
        none = await refused(client, "patch_service_selector", namespace=NS, service="api", selector="app=nothing")
        assert "matches no Ready pod" in none
        plan, done = await plan_and_confirm(
            client, env, "patch_service_selector", namespace=NS, service="api", selector="app=api,version=stable"
        )
        endpoints = next(c for c in plan["diff"] if c["path"] == "service/api endpoints")
        assert len(endpoints["before"]) == 5 and len(endpoints["after"]) == 3
        # The answer shows the pods the new selector matched just before the write: the ones the plan showed.
        assert done["before"]["app=api,version=stable"]["/metadata/name"] == endpoints["after"]
        await env.until(lambda: all("bad" not in n for n in serving(env, "api")[0]))
        await web_recovers(env)
        assert [m["tool"] for m in (await call(client, "list_temporary_measures"))["measures"]] == [
            "patch_service_selector"
        ]
    assert env.get("services", "api")["spec"]["selector"] == {"app": "api", "version": "stable"}


async def test_poison_switch_ingress_backend_to_a_healthy_service(start: Start) -> None:
    env = start("poison")
    stable = {
        "metadata": {"name": "api-stable", "namespace": NS},
        "spec": {"selector": {"app": "api", "version": "stable"}, "ports": [{"port": 8080}]},
    }
    env.kube.create("services", stable, NS)
    await env.until(lambda: len(serving(env, "api-stable")[0]) == 3)
    async with Client(env.server("full")) as client:
        plan, _ = await plan_and_confirm(
            client, env, "switch_ingress_backend", namespace=NS, ingress="shop", service="api-stable", path=1
        )
        assert '"op":"test"' in plan["command"] and "--type=json" in plan["command"]
        assert plan["diff"] == [{"path": "backend.name", "before": "api", "after": "api-stable"}]
    backend = env.get("ingresses", "shop")["spec"]["rules"][0]["http"]["paths"][1]["backend"]["service"]
    assert backend == {"name": "api-stable", "port": {"number": 8080}}
    good, bad = serving(env, "api-stable")
    assert len(good) == 3 and not bad and all("bad" not in n for n in good)


# --- oom ----------------------------------------------------------------------------------------------------------


async def test_oom_raise_the_memory_limit_stops_the_oomkills(start: Start) -> None:
    env = start("oom")
    async with Client(env.server("full")) as client:
        low = await refused(
            client, "set_memory_limit", namespace=NS, deployment="payments", container="payments", limit="100Mi"
        )
        assert "below the container's memory request" in low
        plan, _ = await plan_and_confirm(
            client, env, "set_memory_limit", namespace=NS, deployment="payments", container="payments", limit="768Mi"
        )
        # Its revision 2 never finished rolling out: the raise completes it over revision 1's serving pods.
        assert proses(plan["warnings"])[0].startswith(
            "NOT ONLY A RESTART: this also completes the rollout of revision 2"
        )
        assert "OOMKilled last: " in plan["summary"] and not any("OOMKill" in w for w in proses(plan["warnings"]))
        assert plan["diff"] == [{"path": "containers.payments.memory", "before": "256Mi", "after": "768Mi"}]

    def recovered() -> bool:
        pods = [p for p in env.pods("app=payments") if not p["metadata"].get("deletionTimestamp")]
        limits = {c["resources"]["limits"]["memory"] for p in pods for c in p["spec"]["containers"]}
        return limits == {"768Mi"} and len(pods) == 2 and all(ready(p) for p in pods)

    await env.until(recovered, 40)
    await env.until(lambda: env.rolled_out("payments", 2))

    def restarts() -> dict[str, int]:
        live = [p for p in env.pods("app=payments") if not p["metadata"].get("deletionTimestamp")]
        return {p["metadata"]["name"]: p["status"]["containerStatuses"][0]["restartCount"] for p in live}

    settled = restarts()
    env.sim.wait_ticks(20)
    assert restarts() == settled and set(settled.values()) == {0}  # no more OOMKills


# --- canary -------------------------------------------------------------------------------------------------------


def canary_gone(env: Env) -> bool:
    pods = [p for p in env.pods("app=web") if not p["metadata"].get("deletionTimestamp")]
    return bool(pods) and all(labels_of(p)["version"] == "stable" and ready(p) for p in pods)


async def test_canary_rollback_canary_runs_both_steps_in_order(start: Start) -> None:
    env = start("canary")
    async with Client(env.server("full")) as client:
        plan, done = await plan_and_confirm(client, env, "rollback_canary", namespace=NS, app="web")
    assert plan["steps"] == [
        "kubectl scale deployment/web-canary --replicas=0 -n shop --context sim",
        "kubectl scale deployment/web-stable --replicas=5 -n shop --context sim",
    ]
    assert plan["command"] == " && ".join(plan["steps"]) and plan["risk"] == "destructive"
    assert [s["command"] for s in done["steps"]] == plan["steps"]
    assert env.get("deployments", "web-canary")["spec"]["replicas"] == 0
    await env.until(lambda: canary_gone(env))


async def test_canary_shift_traffic_grows_stable_first(start: Start) -> None:
    env = start("canary")
    async with Client(env.server("full")) as client:
        message = await refused(
            client, "shift_traffic", namespace=NS, from_deployment="web-canary", to_deployment="web-stable", replicas=9
        )
        assert "override_hpa" in message
        plan, _ = await plan_and_confirm(
            client,
            env,
            "shift_traffic",
            namespace=NS,
            from_deployment="web-canary",
            to_deployment="web-stable",
            replicas=5,
        )
    assert plan["steps"][0].startswith("kubectl scale deployment/web-stable --replicas=5")
    assert plan["steps"][1].startswith("kubectl scale deployment/web-canary --replicas=0")
    await env.until(lambda: canary_gone(env))


# --- node-failure -------------------------------------------------------------------------------------------------


def live_on(env: Env, node: str) -> list[dict[str, Any]]:
    return [
        p
        for p in env.pods(namespace=NS)
        if p["spec"].get("nodeName") == node and not p["metadata"].get("deletionTimestamp")
    ]


async def test_node_failure_drain_moves_the_pods_off_the_bad_node(start: Start) -> None:
    env = start("node-failure")
    before = {p["metadata"]["name"] for p in live_on(env, "node-2")}
    async with Client(env.server("standard")) as client:
        plan, done = await plan_and_confirm(client, env, "drain_node", standard=True, node="node-2")
        assert plan["command"] == (
            "kubectl drain node-2 --ignore-daemonsets --delete-emptydir-data --skip-wait-for-delete-timeout=1 "
            "--context sim"
        )
        assert plan["risk"] == "destructive" and plan["undo_command"] == "kubectl uncordon node-2 --context sim"
        assert plan["steps"][0] == "kubectl cordon node-2 --context sim"
        assert all(n in plan["summary"] for n in before)
        measures = (await call(client, "list_temporary_measures"))["measures"]
        assert [m["tool"] for m in measures] == ["drain_node"]
    assert env.get("nodes", "node-2", None)["spec"]["unschedulable"] is True
    await env.until(lambda: not live_on(env, "node-2"))

    def replaced() -> bool:
        pods = [p for p in env.pods("app=api") if not p["metadata"].get("deletionTimestamp")]
        return len(pods) == 3 and all(ready(p) and p["spec"]["nodeName"] != "node-2" for p in pods)

    await env.until(replaced)


async def test_node_failure_cordon_then_uncordon_restores_the_measure(start: Start) -> None:
    env = start("node-failure")
    async with Client(env.server("full")) as client:
        plan, _ = await plan_and_confirm(client, env, "cordon_node", node="node-2")
        assert plan["command"] == "kubectl cordon node-2 --context sim"
        assert env.get("nodes", "node-2", None)["spec"]["unschedulable"] is True
        assert "already cordoned" in await refused(client, "cordon_node", node="node-2")
        assert len((await call(client, "list_temporary_measures"))["measures"]) == 1
        await plan_and_confirm(client, env, "uncordon_node", node="node-2")
        assert (await call(client, "list_temporary_measures"))["measures"] == []
    assert not env.get("nodes", "node-2", None)["spec"].get("unschedulable")


async def test_node_failure_delete_pod_gets_it_recreated_elsewhere(start: Start) -> None:
    env = start("node-failure")
    victim = next(p for p in live_on(env, "node-2") if labels_of(p).get("app") == "api")
    name = victim["metadata"]["name"]
    async with Client(env.server("full")) as client:
        plan, _ = await plan_and_confirm(client, env, "delete_pod", namespace=NS, pod=name)
    # node-2 is NotReady: the pod stays Terminating (its kubelet cannot confirm), so kubectl must not wait for it.
    assert plan["command"] == f"kubectl delete pod {name} -n shop --wait=false --context sim"
    assert plan["risk"] == "destructive"
    assert "will create a replacement" in plan["summary"]

    def replaced() -> bool:
        pods = [p for p in env.pods("app=api") if not p["metadata"].get("deletionTimestamp")]
        return (
            name not in {p["metadata"]["name"] for p in pods}
            and len(pods) == 3
            and all(ready(p) or p["spec"].get("nodeName") == "node-2" for p in pods)
        )

    await env.until(replaced)


# --- safe mode ----------------------------------------------------------------------------------------------------

SAFE_CALLS: dict[str, list[tuple[str, dict[str, Any]]]] = {
    "overload": [
        ("override_hpa", {"namespace": NS, "hpa": "web", "min_replicas": 8, "max_replicas": 10}),
        ("scale_deployment", {"namespace": NS, "deployment": "api", "replicas": 4}),
    ],
    "poison": [
        ("remove_pods_from_service", {"namespace": NS, "service": "api", "selector": "app=api,version=bad"}),
        ("isolate_network", {"namespace": NS, "selector": "app=api,version=bad"}),
        ("patch_service_selector", {"namespace": NS, "service": "api", "selector": "app=api,version=stable"}),
        ("switch_ingress_backend", {"namespace": NS, "ingress": "shop", "service": "checkout", "path": 1}),
    ],
    "oom": [("set_memory_limit", {"namespace": NS, "deployment": "payments", "container": "payments", "limit": "1Gi"})],
    "canary": [
        ("rollback_canary", {"namespace": NS, "app": "web"}),
        (
            "shift_traffic",
            {"namespace": NS, "from_deployment": "web-canary", "to_deployment": "web-stable", "replicas": 5},
        ),
    ],
    "node-failure": [
        ("cordon_node", {"node": "node-2"}),
        ("drain_node", {"node": "node-2"}),
        ("delete_pod", {"namespace": NS, "pod": "NODE2_POD"}),
    ],
}


@pytest.mark.parametrize("scenario", sorted(SAFE_CALLS))
async def test_safe_mode_blocks_every_mitigation(start: Start, scenario: str) -> None:
    env = start(scenario)
    async with Client(env.server("safe")) as client:
        for tool, arguments in SAFE_CALLS[scenario]:
            if arguments.get("pod") == "NODE2_POD":
                arguments = {**arguments, "pod": live_on(env, "node-2")[0]["metadata"]["name"]}
            plan = await call(client, tool, **arguments)
            assert plan["status"] == "blocked" and plan["token"] is None and plan["command"], (tool, plan)
        assert (await call(client, "list_temporary_measures"))["measures"] == []

"""Each named scenario loads through the store and shows its incident (the scale option: tests/sim/test_scale.py)."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest

from incident_response.sim import behaviors
from incident_response.sim.cluster import Cluster, ManualClock
from incident_response.sim.controllers.common import REVISION
from incident_response.sim.resources import (
    CONTROLLERREVISIONS,
    DAEMONSETS,
    DEPLOYMENTS,
    ENDPOINTS,
    HPAS,
    INGRESSES,
    NAMESPACES,
    NODES,
    PODS,
    PVCS,
    REPLICASETS,
    SECRETS,
    STATEFULSETS,
)
from incident_response.sim.scenarios import SCENARIOS, load_scenario
from incident_response.sim.scenarios.helm import decode_release
from incident_response.sim.store import Store


def loaded(name: str) -> Cluster:
    """A scenario on a hand-driven clock, so what it shows does not depend on how busy the machine is."""
    clock = ManualClock()
    cluster = Cluster(Store(clock=clock.wall), clock=clock, sleep=clock.sleep)
    load_scenario(name, cluster)
    return cluster


def shop_pods(cluster: Cluster, **labels: str) -> list[dict[str, Any]]:
    return [
        p
        for p in cluster.store.items(PODS, "shop")
        if all(p["metadata"].get("labels", {}).get(k) == v for k, v in labels.items())
        and "deletionTimestamp" not in p["metadata"]
    ]


def ready(pod: dict[str, Any]) -> bool:
    return any(c["type"] == "Ready" and c["status"] == "True" for c in pod.get("status", {}).get("conditions", []))


def waiting_reason(pod: dict[str, Any]) -> str:
    state = (pod.get("status", {}).get("containerStatuses") or [{}])[0].get("state", {})
    return str(state.get("waiting", {}).get("reason", ""))


TEMPLATED = (PODS, REPLICASETS, DEPLOYMENTS, STATEFULSETS, DAEMONSETS, CONTROLLERREVISIONS)


@pytest.mark.parametrize("name", list(SCENARIOS))
def test_no_scenario_puts_a_simulator_annotation_in_a_pod_template(name: str) -> None:
    """A scenario's failure is what a real cluster would show (an image, a limit): no pod, pod template or
    ControllerRevision carries a sim.incident-response.dev key. The simulator's keys stay where a real cluster has
    no field for what they model (a Deployment's load, a node's kubelet being down) and tools never quote them."""
    cluster = loaded(name)
    for res in TEMPLATED:
        for obj in cluster.store.items(res):
            where = obj if res is PODS else (obj.get("data") if res is CONTROLLERREVISIONS else obj.get("spec"))
            assert behaviors.PREFIX not in json.dumps(where), (res.kind, obj["metadata"]["name"])
    left = {
        key
        for res in (*TEMPLATED, NODES)
        for obj in cluster.store.items(res)
        for key in obj["metadata"].get("annotations") or {}
        if key.startswith(behaviors.PREFIX)
    }
    assert left <= {behaviors.LOAD_MILLICORES, behaviors.NODE_CONDITION}, left


def test_scenario_names() -> None:
    assert set(SCENARIOS) == {
        "healthy",
        "bad-deploy",
        "overload",
        "poison",
        "oom",
        "canary",
        "node-failure",
        "bad-statefulset",
        "bad-daemonset",
    }
    with pytest.raises(ValueError):
        load_scenario("nope", Cluster())


def test_healthy_shop_has_the_realistic_pieces() -> None:
    cluster = loaded("healthy")
    store = cluster.store
    assert {n["metadata"]["name"] for n in store.items(NAMESPACES)} >= {"default", "kube-system", "shop"}
    assert len(list(store.items(NODES))) == 3
    assert all(ready(p) for p in store.items(PODS))
    assert {d["metadata"]["name"] for d in store.items(DEPLOYMENTS, "shop")} >= {
        "web",
        "api",
        "checkout",
        "cart",
        "payments",
        "orders-db",
    }
    assert store.get(PVCS, "shop", "orders-db-data")["status"]["phase"] == "Bound"
    assert store.peek(INGRESSES, "shop", "shop") is not None
    assert len(list(store.items(HPAS, "shop"))) >= 2
    assert store.get(ENDPOINTS, "shop", "web")["subsets"][0]["addresses"]
    releases = sorted(
        (s for s in store.items(SECRETS, "shop") if s.get("type") == "helm.sh/release.v1"),
        key=lambda s: int(s["metadata"]["labels"]["version"]),
    )
    assert [s["metadata"]["name"] for s in releases] == [f"sh.helm.release.v1.cart.v{i}" for i in (1, 2, 3)]
    assert [s["metadata"]["labels"]["status"] for s in releases] == ["superseded", "superseded", "deployed"]
    release = decode_release(releases[-1]["data"]["release"])
    assert release["name"] == "cart" and release["version"] == 3 and release["info"]["status"] == "deployed"
    assert release["chart"]["metadata"]["version"] == "1.4.2"
    cart_revisions = [
        rs["metadata"]["annotations"][REVISION]
        for rs in store.items(REPLICASETS, "shop")
        if rs["metadata"]["name"].startswith("cart-")
    ]
    assert sorted(cart_revisions) == ["1", "2", "3"]
    for deploy in store.items(DEPLOYMENTS):
        conditions = {c["type"]: c["status"] for c in deploy["status"]["conditions"]}
        assert conditions == {"Available": "True", "Progressing": "True"}, deploy["metadata"]["name"]


def test_bad_deploy_revision_three_crash_loops_and_revision_two_was_good() -> None:
    cluster = loaded("bad-deploy")
    deploy = cluster.store.get(DEPLOYMENTS, "shop", "checkout")
    assert deploy["metadata"]["annotations"][REVISION] == "3"
    by_revision = {
        rs["metadata"]["annotations"][REVISION]: rs
        for rs in cluster.store.items(REPLICASETS, "shop")
        if rs["metadata"]["name"].startswith("checkout-")
    }
    assert set(by_revision) == {"1", "2", "3"}
    assert by_revision["3"]["metadata"]["annotations"]["kubernetes.io/change-cause"].endswith("checkout:2.5.0")
    assert by_revision["2"]["spec"]["template"]["spec"]["containers"][0]["image"].endswith("checkout:2.4.0")
    new_pods = shop_pods(cluster, **{"pod-template-hash": by_revision["3"]["metadata"]["labels"]["pod-template-hash"]})
    assert new_pods and all(waiting_reason(p) == "CrashLoopBackOff" for p in new_pods)
    old_pods = shop_pods(cluster, **{"pod-template-hash": by_revision["2"]["metadata"]["labels"]["pod-template-hash"]})
    assert old_pods and all(ready(p) for p in old_pods)
    # Rolled out minutes ago, the previous revisions days ago: "a deploy in the last 2 hours" is computable.
    ages = {
        rev: time.time() - (Cluster.parse_time(rs["metadata"]["creationTimestamp"]) or 0.0)
        for rev, rs in by_revision.items()
    }
    assert ages["3"] < 3600 < ages["2"] < ages["1"]


def test_bad_deploy_checkout_keeps_its_size_while_its_pods_crash_loop() -> None:
    # Between restarts a crash-looping pod has no metrics; the HPA counts it at its full request on a scale-down,
    # as upstream does, instead of dropping it (which resized checkout 4 -> 3 -> 4 every few seconds).
    cluster = loaded("bad-deploy")
    sizes = []
    for _ in range(20):
        cluster.run_for(1.0)
        sizes.append(cluster.store.get(DEPLOYMENTS, "shop", "checkout")["spec"]["replicas"])
    assert sizes == [4] * 20
    assert cluster.store.get(HPAS, "shop", "checkout")["status"]["desiredReplicas"] == 4


def test_overload_hpa_pinned_and_pods_over_cpu_limit() -> None:
    cluster = loaded("overload")
    web = shop_pods(cluster, app="web")
    assert web and not any(ready(p) for p in web)
    assert all((cluster.pod_usage(p) or (0, 0))[0] == 500 for p in web)
    cluster.run_for(1.2)
    hpa = cluster.store.get(HPAS, "shop", "web")["status"]
    limited = next(c for c in hpa["conditions"] if c["type"] == "ScalingLimited")
    assert limited["status"] == "True" and limited["reason"] == "TooManyReplicas"
    assert hpa["currentReplicas"] == hpa["desiredReplicas"] == 6
    newest = max(rs["metadata"]["creationTimestamp"] for rs in cluster.store.items(REPLICASETS, "shop"))
    assert time.time() - (Cluster.parse_time(newest) or 0.0) > 2 * 3600


def test_poison_bad_api_pods_break_web() -> None:
    cluster = loaded("poison")
    bad = shop_pods(cluster, app="api", version="bad")
    assert bad and all(ready(p) for p in bad)
    # The beta's image poisons (the sim's image catalogue); its pods carry no simulator annotation.
    assert {p["spec"]["containers"][0]["image"] for p in bad} == {"registry.example.com/shop/api:3.4.0-beta"}
    assert all(behaviors.pod_behavior(p, cluster.images).poisons == "app=web" for p in bad)
    assert not any(ready(p) for p in shop_pods(cluster, app="web"))


def test_oom_payments_killed_below_need() -> None:
    cluster = loaded("oom")
    cluster.run_for(0.5)
    new = [
        p
        for p in shop_pods(cluster, app="payments")
        if p["spec"]["containers"][0]["image"] == "registry.example.com/shop/payments:5.1.0"
    ]
    assert new
    # Its template keeps the 256Mi limit; the release's image needs 512Mi (the sim's image catalogue).
    assert {p["spec"]["containers"][0]["resources"]["limits"]["memory"] for p in new} == {"256Mi"}
    assert behaviors.pod_behavior(new[0], cluster.images).memory_need == 512 * 2**20
    last = (new[0]["status"]["containerStatuses"][0].get("lastState") or {}).get("terminated", {})
    assert last.get("reason") == "OOMKilled" and last.get("exitCode") == 137


def test_canary_fails_beside_stable_behind_one_service() -> None:
    cluster = loaded("canary")
    canary = shop_pods(cluster, app="web", version="canary")
    stable = shop_pods(cluster, app="web", version="stable")
    assert canary and all(waiting_reason(p) == "CrashLoopBackOff" for p in canary)
    assert stable and all(ready(p) for p in stable)
    assert {d["metadata"]["name"] for d in cluster.store.items(DEPLOYMENTS, "shop")} >= {"web-canary", "web-stable"}


def test_node_failure_one_node_not_ready() -> None:
    cluster = loaded("node-failure")
    node = cluster.store.get(NODES, None, "node-2")
    assert {c["type"]: c["status"] for c in node["status"]["conditions"]}["Ready"] == "Unknown"
    on_node = [p for p in shop_pods(cluster) if p["spec"].get("nodeName") == "node-2"]
    assert on_node and not any(ready(p) for p in on_node)
    # Each taint once, however many syncs: the controller recomputes the taints it owns instead of adding them again.
    version = cluster.store.get(NODES, None, "node-2")["metadata"]["resourceVersion"]
    for _ in range(5):
        cluster.tick()
    node = cluster.store.get(NODES, None, "node-2")
    taints = sorted((t["key"], t["effect"]) for t in node["spec"]["taints"])
    assert taints == [("node.kubernetes.io/unreachable", "NoExecute"), ("node.kubernetes.io/unreachable", "NoSchedule")]
    assert next(t for t in node["spec"]["taints"] if t["effect"] == "NoExecute")["timeAdded"]
    assert node["metadata"]["resourceVersion"] == version  # nothing changed, nothing written


def test_bad_statefulset_stopped_on_its_highest_ordinal_which_crash_loops() -> None:
    cluster = loaded("bad-statefulset")
    cluster.run_for(2.0)  # the controller takes over what was seeded and leaves it as it is
    pods = {p["metadata"]["name"]: p for p in shop_pods(cluster, app="sessions")}
    assert sorted(pods) == ["sessions-0", "sessions-1", "sessions-2"]
    assert [ready(pods[f"sessions-{i}"]) for i in range(3)] == [True, True, False]
    assert waiting_reason(pods["sessions-2"]) == "CrashLoopBackOff"
    # Fifteen minutes of kubelet back-off, not hundreds of restarts.
    assert pods["sessions-2"]["status"]["containerStatuses"][0]["restartCount"] == 7
    status = cluster.store.get(STATEFULSETS, "shop", "sessions")["status"]
    assert (status["currentReplicas"], status["updatedReplicas"], status["readyReplicas"]) == (2, 1, 2)
    assert status["currentRevision"] != status["updateRevision"]
    revisions = sorted(r["revision"] for r in cluster.store.items(CONTROLLERREVISIONS, "shop"))
    assert revisions == [1, 2]
    claims = {c["metadata"]["name"]: c["status"]["phase"] for c in cluster.store.items(PVCS, "shop")}
    assert all(claims[f"data-sessions-{i}"] == "Bound" for i in range(3))


def test_bad_daemonset_stopped_after_replacing_one_node_s_pod() -> None:
    cluster = loaded("bad-daemonset")
    cluster.run_for(2.0)
    by_node = {p["spec"]["nodeName"]: p for p in shop_pods(cluster, app="db-proxy")}
    assert sorted(by_node) == ["node-1", "node-2", "node-3"]
    assert waiting_reason(by_node["node-1"]) == "CrashLoopBackOff" and not ready(by_node["node-1"])
    assert ready(by_node["node-2"]) and ready(by_node["node-3"])
    status = cluster.store.get(DAEMONSETS, "shop", "db-proxy")["status"]
    assert (status["desiredNumberScheduled"], status["updatedNumberScheduled"], status["numberAvailable"]) == (3, 1, 2)

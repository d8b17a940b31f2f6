"""Incident behaviours (pod annotations) and the mitigations that heal them."""

from __future__ import annotations

from typing import Any

from incident_response.sim import behaviors
from incident_response.sim.cluster import Cluster, ManualClock, Timing
from incident_response.sim.resources import DEPLOYMENTS, ENDPOINTS, EVENTS, NETWORKPOLICIES, NODES, PODS, SERVICES
from incident_response.sim.scenarios.builders import deployment_body, minimal
from incident_response.sim.store import Store

FAST = Timing(pod_start=0.1, ready_delay=0.1, crash_after=0.2, backoff_base=0.2, backoff_cap=1.0, termination=0.1)


def make() -> Cluster:
    clock = ManualClock()
    cluster = Cluster(Store(clock=clock.wall), FAST, clock=clock, sleep=clock.sleep)
    minimal(cluster)
    return cluster


def pods(cluster: Cluster, app: str) -> list[dict[str, Any]]:
    return [
        p
        for p in cluster.store.items(PODS, "default")
        if p["metadata"].get("labels", {}).get("app") == app and "deletionTimestamp" not in p["metadata"]
    ]


def ready(pod: dict[str, Any]) -> bool:
    return any(c["type"] == "Ready" and c["status"] == "True" for c in pod.get("status", {}).get("conditions", []))


def container(pod: dict[str, Any]) -> dict[str, Any]:
    statuses: list[dict[str, Any]] = pod.get("status", {}).get("containerStatuses") or [{"state": {}}]
    return statuses[0]


def all_ready(cluster: Cluster, app: str, count: int) -> bool:
    found = pods(cluster, app)
    return len(found) == count and all(ready(p) for p in found)


def service(cluster: Cluster, name: str, selector: dict[str, str]) -> None:
    cluster.store.create(
        SERVICES,
        {
            "metadata": {"name": name, "namespace": "default"},
            "spec": {"selector": selector, "ports": [{"port": 80, "targetPort": "http", "protocol": "TCP"}]},
        },
    )


def test_parse_quantity_and_pod_behavior() -> None:
    assert behaviors.parse_quantity("512Mi") == 512 * 2**20
    assert behaviors.millicores("250m") == 250 and behaviors.millicores("2") == 2000
    assert behaviors.bytes_of("1Gi") == 2**30 and behaviors.parse_quantity("nonsense") is None
    pod = {
        "metadata": {
            "annotations": {behaviors.BEHAVIOR: "oom", behaviors.MEMORY_NEED: "512Mi", behaviors.CPU_MILLICORES: "300"}
        }
    }
    b = behaviors.pod_behavior(pod)
    assert (b.kind, b.memory_need, b.cpu_millicores) == ("oom", 512 * 2**20, 300)
    assert behaviors.pod_behavior({"metadata": {}}).kind == "healthy"


def test_the_image_catalogue_gives_a_release_its_behaviour_and_the_pods_own_annotations_win() -> None:
    images = {"shop/checkout:2.5.0": {behaviors.BEHAVIOR: "crashloop"}}

    def pod(image: str, **annotations: str) -> dict[str, object]:
        return {"metadata": {"annotations": annotations}, "spec": {"containers": [{"name": "c", "image": image}]}}

    assert behaviors.pod_behavior(pod("shop/checkout:2.5.0"), images).kind == "crashloop"
    assert behaviors.pod_behavior(pod("shop/checkout:2.4.0"), images).kind == "healthy"
    assert behaviors.pod_behavior(pod("shop/checkout:2.5.0")).kind == "healthy"  # no catalogue, no behaviour
    own = pod("shop/checkout:2.5.0", **{behaviors.BEHAVIOR: "oom", behaviors.MEMORY_NEED: "1Gi"})
    assert (behaviors.pod_behavior(own, images).kind, behaviors.pod_behavior(own, images).memory_need) == ("oom", 2**30)


def test_an_image_that_needs_an_env_var_crashes_where_its_container_does_not_set_it() -> None:
    """A release that drops a setting its image needs crashes through its env (a real template field), and the
    rollback that restores the variable heals it."""
    images = {"shop/inventory:4.2.0": {behaviors.NEEDS_ENV: "PAYMENTS_URL, CACHE_TTL"}}

    def pod(*names: str, **annotations: str) -> dict[str, object]:
        env = [{"name": name, "value": "x"} for name in names]
        container = {"name": "inventory", "image": "shop/inventory:4.2.0", "env": env}
        return {"metadata": {"annotations": annotations}, "spec": {"containers": [container]}}

    dropped = behaviors.pod_behavior(pod("CACHE_TTL"), images)
    assert (dropped.kind, dropped.missing_env) == ("crashloop", "PAYMENTS_URL")
    # Same catalogue values, another variable missing: not the answer cached for the pod above.
    assert behaviors.pod_behavior(pod("PAYMENTS_URL"), images).missing_env == "CACHE_TTL"
    whole = behaviors.pod_behavior(pod("CACHE_TTL", "PAYMENTS_URL"), images)
    assert (whole.kind, whole.missing_env) == ("healthy", None)
    assert behaviors.pod_behavior(pod("CACHE_TTL"), {}).kind == "healthy"  # no catalogue, no need
    own = behaviors.pod_behavior(pod("CACHE_TTL", **{behaviors.BEHAVIOR: "healthy"}), images)
    assert (own.kind, own.missing_env) == ("healthy", None)  # the pod's own annotation wins


def test_crashloop_restarts_with_backoff_events_and_logs() -> None:
    cluster = make()
    cluster.store.create(
        DEPLOYMENTS, deployment_body("api", replicas=1, pod_annotations={behaviors.BEHAVIOR: behaviors.CRASHLOOP})
    )

    def looping() -> bool:
        found = pods(cluster, "api")
        return (
            bool(found)
            and container(found[0]).get("restartCount", 0) >= 2
            and "waiting" in container(found[0])["state"]
        )

    assert cluster.run_until(looping, timeout=10)
    pod = pods(cluster, "api")[0]
    status = container(pod)
    assert status["state"]["waiting"]["reason"] == "CrashLoopBackOff"
    assert status["lastState"]["terminated"]["reason"] == "Error"
    assert status["lastState"]["terminated"]["exitCode"] == 1
    assert not ready(pod) and pod["status"]["phase"] == "Running"
    backoff = [e for e in cluster.store.items(EVENTS, "default") if e["reason"] == "BackOff"]
    name, uid = pod["metadata"]["name"], pod["metadata"]["uid"]
    assert backoff[0]["message"] == f"Back-off restarting failed container api in pod {name}_default({uid})"
    assert backoff[0]["involvedObject"]["fieldPath"] == "spec.containers{api}"
    assert backoff[0]["count"] >= 1
    logs = cluster.pod_logs(
        "default",
        name,
        container=None,
        previous=True,
        tail_lines=None,
        since_seconds=None,
        timestamps=True,
        limit_bytes=None,
    )
    assert "panic: connection refused: postgres://checkout:s3cr3t@db:5432" in logs
    assert logs.split(" ", 1)[0].endswith("Z") and "." in logs.split(" ", 1)[0]


def test_a_container_missing_a_setting_its_image_needs_crash_loops_and_logs_which() -> None:
    cluster = make()
    cluster.images["registry.example.com/app:1.0"] = {behaviors.NEEDS_ENV: "PAYMENTS_URL"}
    cluster.store.create(DEPLOYMENTS, deployment_body("api", replicas=1))

    def looping() -> bool:
        found = pods(cluster, "api")
        return (
            bool(found)
            and container(found[0]).get("restartCount", 0) >= 1
            and "waiting" in container(found[0])["state"]
        )

    assert cluster.run_until(looping, timeout=10)
    pod = pods(cluster, "api")[0]
    assert container(pod)["lastState"]["terminated"]["reason"] == "Error"
    logs = cluster.pod_logs(
        "default",
        pod["metadata"]["name"],
        container=None,
        previous=True,
        tail_lines=None,
        since_seconds=None,
        timestamps=False,
        limit_bytes=None,
    )
    assert logs.splitlines()[-1] == 'level=fatal msg="required setting is not set" env=PAYMENTS_URL', logs


def test_image_pull_error_waits_with_backoff() -> None:
    cluster = make()
    cluster.store.create(
        DEPLOYMENTS,
        deployment_body("web", replicas=1, pod_annotations={behaviors.BEHAVIOR: behaviors.IMAGE_PULL_ERROR}),
    )
    assert cluster.run_until(
        lambda: (
            bool(pods(cluster, "web"))
            and container(pods(cluster, "web")[0])["state"].get("waiting", {}).get("reason") == "ImagePullBackOff"
        ),
        timeout=5,
    )
    pod = pods(cluster, "web")[0]
    assert pod["status"]["phase"] == "Pending"
    reasons = {(e["type"], e["reason"]) for e in cluster.store.items(EVENTS, "default")}
    assert ("Warning", "Failed") in reasons and ("Normal", "BackOff") in reasons


def test_oom_until_memory_limit_is_raised() -> None:
    cluster = make()
    annotations = {behaviors.BEHAVIOR: behaviors.OOM, behaviors.MEMORY_NEED: "512Mi"}
    cluster.store.create(
        DEPLOYMENTS, deployment_body("pay", replicas=2, memory=("256Mi", "256Mi"), pod_annotations=annotations)
    )
    assert cluster.run_until(
        lambda: any(
            container(p).get("lastState", {}).get("terminated", {}).get("reason") == "OOMKilled"
            for p in pods(cluster, "pay")
            if p.get("status", {}).get("containerStatuses")
        ),
        timeout=5,
    )
    assert container(pods(cluster, "pay")[0])["lastState"]["terminated"]["exitCode"] == 137

    def raise_limit(d: dict[str, Any]) -> None:
        d["spec"]["template"]["spec"]["containers"][0]["resources"]["limits"]["memory"] = "1Gi"

    cluster.store.mutate(DEPLOYMENTS, "default", "pay", raise_limit)
    assert cluster.run_until(lambda: all_ready(cluster, "pay", 2), timeout=10)
    cluster.run_for(1.0)
    assert all(container(p)["restartCount"] == 0 and ready(p) for p in pods(cluster, "pay"))


def test_not_ready_behavior_reports_unhealthy() -> None:
    cluster = make()
    cluster.store.create(
        DEPLOYMENTS, deployment_body("web", replicas=1, pod_annotations={behaviors.BEHAVIOR: behaviors.NOT_READY})
    )
    cluster.run_for(1.5)
    pod = pods(cluster, "web")[0]
    assert pod["status"]["phase"] == "Running" and not ready(pod)
    assert container(pod)["started"] is True and container(pod)["ready"] is False
    unhealthy = [e for e in cluster.store.items(EVENTS, "default") if e["reason"] == "Unhealthy"]
    assert unhealthy and unhealthy[0]["type"] == "Warning"
    assert unhealthy[0]["message"].startswith("Readiness probe failed:")


def poison_setup(cluster: Cluster) -> None:
    cluster.store.create(DEPLOYMENTS, deployment_body("web", replicas=2))
    bad = deployment_body("api-bad", replicas=1, pod_annotations={behaviors.POISONS: "app=web"})
    # The bad pods carry app=api (the Service's selector) but their Deployment selects on version only,
    # so removing the app label takes them out of the Service without the ReplicaSet replacing them.
    bad["spec"]["selector"] = {"matchLabels": {"version": "bad"}}
    bad["spec"]["template"]["metadata"]["labels"] = {"app": "api", "version": "bad"}
    cluster.store.create(DEPLOYMENTS, bad)
    service(cluster, "api", {"app": "api"})
    service(cluster, "web", {"app": "web"})


def test_poison_breaks_neighbours_until_removed_from_service() -> None:
    cluster = make()
    poison_setup(cluster)
    assert cluster.run_until(
        lambda: (
            len(pods(cluster, "web")) == 2 and not any(ready(p) for p in pods(cluster, "web")) and cluster.busy is False
        ),
        timeout=5,
    )
    bad_pod = pods(cluster, "api")[0]["metadata"]["name"]
    messages = [e["message"] for e in cluster.store.items(EVENTS, "default") if e["reason"] == "Unhealthy"]
    assert any(bad_pod in m for m in messages)
    # kubectl label pods -l app=api,version=bad app-
    cluster.store.mutate(PODS, "default", bad_pod, lambda p: p["metadata"]["labels"].pop("app"))
    assert cluster.run_until(lambda: all_ready(cluster, "web", 2), timeout=5)
    endpoints = cluster.store.get(ENDPOINTS, "default", "api")
    assert "subsets" not in endpoints
    assert cluster.store.peek(PODS, "default", bad_pod) is not None  # not replaced, just out of the Service


def test_poison_healed_by_deny_all_network_policy() -> None:
    cluster = make()
    poison_setup(cluster)
    assert cluster.run_until(
        lambda: len(pods(cluster, "web")) == 2 and not any(ready(p) for p in pods(cluster, "web")), timeout=5
    )
    cluster.store.create(
        NETWORKPOLICIES,
        {
            "metadata": {"name": "incident-isolate", "namespace": "default"},
            "spec": {"podSelector": {"matchLabels": {"app": "api"}}, "policyTypes": ["Ingress"], "ingress": []},
        },
    )
    assert cluster.run_until(lambda: all_ready(cluster, "web", 2), timeout=5)


def test_load_is_shared_and_scaling_up_heals_overload() -> None:
    cluster = make()
    body = deployment_body("web", replicas=2, cpu=("250m", "500m"), annotations={behaviors.LOAD_MILLICORES: "1600"})
    cluster.store.create(DEPLOYMENTS, body)
    cluster.run_for(1.5)
    assert len(pods(cluster, "web")) == 2 and not any(ready(p) for p in pods(cluster, "web"))
    usage = cluster.pod_usage(pods(cluster, "web")[0])
    assert usage is not None and usage[0] == 500  # throttled at the limit
    cluster.store.mutate(DEPLOYMENTS, "default", "web", lambda d: d["spec"].__setitem__("replicas", 4))
    assert cluster.run_until(lambda: all_ready(cluster, "web", 4), timeout=5)
    assert {(cluster.pod_usage(p) or (0, 0))[0] for p in pods(cluster, "web")} == {400}


def test_not_ready_node_makes_its_pods_unready_and_cordon_drain_moves_them() -> None:
    cluster = make()
    cluster.store.create(DEPLOYMENTS, deployment_body("web", replicas=6))
    assert cluster.run_until(lambda: all_ready(cluster, "web", 6), timeout=5)
    on_node = [p for p in pods(cluster, "web") if p["spec"]["nodeName"] == "node-2"]
    assert on_node
    cluster.store.mutate(
        NODES,
        None,
        "node-2",
        lambda n: n["metadata"].setdefault("annotations", {}).__setitem__(behaviors.NODE_CONDITION, "NotReady"),
    )
    cluster.run_for(0.3)
    assert not any(ready(p) for p in pods(cluster, "web") if p["spec"]["nodeName"] == "node-2")
    node = cluster.store.get(NODES, None, "node-2")
    assert {c["type"]: c["status"] for c in node["status"]["conditions"]}["Ready"] == "Unknown"
    # kubectl cordon node-2 && kubectl drain node-2
    cluster.store.mutate(NODES, None, "node-2", lambda n: n["spec"].__setitem__("unschedulable", True))
    for pod in [p for p in pods(cluster, "web") if p["spec"]["nodeName"] == "node-2"]:
        cluster.evict("default", pod["metadata"]["name"], dry_run=False)
    assert cluster.run_until(lambda: all_ready(cluster, "web", 6), timeout=5)
    assert all(p["spec"]["nodeName"] != "node-2" for p in pods(cluster, "web"))

"""Scheduler, endpoints, HPA, garbage collection and eviction/PDBs through the Cluster API."""

from __future__ import annotations

from typing import Any

import pytest

from incident_response.sim import behaviors, errors
from incident_response.sim.cluster import Cluster, ManualClock, Timing
from incident_response.sim.resources import (
    DEPLOYMENTS,
    ENDPOINTS,
    EVENTS,
    HPAS,
    NODES,
    PDBS,
    PODS,
    REPLICASETS,
    SERVICES,
)
from incident_response.sim.scenarios.builders import deployment_body, minimal
from incident_response.sim.store import Store

FAST = Timing(
    pod_start=0.1,
    ready_delay=0.1,
    crash_after=0.2,
    backoff_base=0.2,
    backoff_cap=1.0,
    termination=0.1,
    hpa_sync=0.2,
    hpa_downscale_window=0.5,
)


def make(nodes: int = 3, cpu: str = "4") -> Cluster:
    clock = ManualClock()
    cluster = Cluster(Store(clock=clock.wall), FAST, clock=clock, sleep=clock.sleep)
    minimal(cluster, nodes, cpu=cpu)
    return cluster


def pods(cluster: Cluster, app: str) -> list[dict[str, Any]]:
    return [
        p
        for p in cluster.store.items(PODS, "default")
        if p["metadata"].get("labels", {}).get("app") == app and "deletionTimestamp" not in p["metadata"]
    ]


def ready(pod: dict[str, Any]) -> bool:
    return any(c["type"] == "Ready" and c["status"] == "True" for c in pod.get("status", {}).get("conditions", []))


def all_ready(cluster: Cluster, app: str, count: int) -> bool:
    found = pods(cluster, app)
    return len(found) == count and all(ready(p) for p in found)


def test_scheduler_leaves_pods_pending_when_nothing_fits() -> None:
    cluster = make(nodes=3, cpu="1")  # 920m allocatable each
    cluster.store.mutate(NODES, None, "node-1", lambda n: n["spec"].__setitem__("unschedulable", True))
    cluster.store.create(DEPLOYMENTS, deployment_body("big", replicas=3, cpu=("600m", "1")))
    cluster.run_for(1.0)
    found = pods(cluster, "big")
    placed = [p for p in found if p["spec"].get("nodeName")]
    pending = [p for p in found if not p["spec"].get("nodeName")]
    assert len(placed) == 2 and {p["spec"]["nodeName"] for p in placed} == {"node-2", "node-3"}
    (stuck,) = pending
    assert stuck["status"]["phase"] == "Pending"
    cond = next(c for c in stuck["status"]["conditions"] if c["type"] == "PodScheduled")
    assert cond["status"] == "False" and cond["reason"] == "Unschedulable"
    assert cond["message"].startswith("0/3 nodes are available: 1 node(s) were unschedulable, 2 Insufficient cpu.")
    failed = [e for e in cluster.store.items(EVENTS, "default") if e["reason"] == "FailedScheduling"]
    assert failed and failed[0]["type"] == "Warning" and failed[0]["message"] == cond["message"]
    assert cluster.settle(timeout=3)  # a pod that fits nowhere does not keep the cluster busy
    # Uncordoning makes room: the pending pod lands on node-1.
    cluster.store.mutate(NODES, None, "node-1", lambda n: n["spec"].__setitem__("unschedulable", None))
    assert cluster.run_until(lambda: all_ready(cluster, "big", 3), timeout=5)
    node = cluster.store.get(NODES, None, "node-1")
    assert "taints" not in node["spec"]


def test_cordon_adds_unschedulable_taint_and_keeps_new_pods_off() -> None:
    cluster = make()
    cluster.store.mutate(NODES, None, "node-3", lambda n: n["spec"].__setitem__("unschedulable", True))
    cluster.store.create(DEPLOYMENTS, deployment_body("web", replicas=6))
    assert cluster.run_until(lambda: all_ready(cluster, "web", 6), timeout=5)
    assert all(p["spec"]["nodeName"] != "node-3" for p in pods(cluster, "web"))
    taints = cluster.store.get(NODES, None, "node-3")["spec"]["taints"]
    assert {"key": "node.kubernetes.io/unschedulable", "effect": "NoSchedule"} in taints


def test_endpoints_follow_ready_pods_and_resolve_named_ports() -> None:
    cluster = make()
    cluster.store.create(DEPLOYMENTS, deployment_body("web", replicas=2))
    cluster.store.create(
        SERVICES,
        {
            "metadata": {"name": "web", "namespace": "default", "labels": {"app": "web"}},
            "spec": {
                "selector": {"app": "web"},
                "ports": [{"name": "http", "port": 80, "targetPort": "http", "protocol": "TCP"}],
            },
        },
    )
    assert cluster.run_until(lambda: all_ready(cluster, "web", 2), timeout=5)
    cluster.run_for(0.2)
    endpoints = cluster.store.get(ENDPOINTS, "default", "web")
    (subset,) = endpoints["subsets"]
    assert subset["ports"] == [{"name": "http", "port": 8080, "protocol": "TCP"}]
    addresses = subset["addresses"]
    assert {a["targetRef"]["name"] for a in addresses} == {p["metadata"]["name"] for p in pods(cluster, "web")}
    assert all(a["ip"].startswith("10.244.") and a["nodeName"] for a in addresses)
    victim = addresses[0]["targetRef"]["name"]
    cluster.store.mutate(PODS, "default", victim, lambda p: p["metadata"]["labels"].pop("app"))
    assert cluster.run_until(
        lambda: victim not in str(cluster.store.get(ENDPOINTS, "default", "web").get("subsets")), timeout=5
    )


def test_a_pod_that_defines_none_of_the_services_ports_is_no_endpoint() -> None:
    """Upstream adds a pod once per Service port it resolves: a named targetPort its containers do not define (a
    deploy renamed the port) leaves it out entirely; it was an address with `ports: []`, counted as ready."""
    cluster = make()
    cluster.store.create(DEPLOYMENTS, deployment_body("web", replicas=2))
    cluster.store.create(
        SERVICES,
        {
            "metadata": {"name": "web", "namespace": "default"},
            "spec": {"selector": {"app": "web"}, "ports": [{"name": "http", "port": 80, "targetPort": "web-http"}]},
        },
    )
    assert cluster.run_until(lambda: all_ready(cluster, "web", 2), timeout=5)
    cluster.run_for(0.2)
    assert not cluster.store.get(ENDPOINTS, "default", "web").get("subsets")


def test_hpa_scales_on_cpu_and_reports_pinned_at_max() -> None:
    cluster = make()
    body = deployment_body("web", replicas=2, cpu=("250m", "500m"), annotations={behaviors.LOAD_MILLICORES: "900"})
    cluster.store.create(DEPLOYMENTS, body)
    cluster.store.create(
        HPAS,
        {
            "metadata": {"name": "web", "namespace": "default"},
            "spec": {
                "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "web"},
                "minReplicas": 2,
                "maxReplicas": 3,
                "metrics": [
                    {
                        "type": "Resource",
                        "resource": {"name": "cpu", "target": {"type": "Utilization", "averageUtilization": 50}},
                    }
                ],
            },
        },
    )

    def pinned() -> bool:
        status = cluster.store.get(HPAS, "default", "web").get("status", {})
        limited = [c for c in status.get("conditions", []) if c["type"] == "ScalingLimited"]
        return status.get("currentReplicas") == 3 and bool(limited) and limited[0]["reason"] == "TooManyReplicas"

    assert cluster.run_until(pinned, timeout=10)

    def utilization() -> int:
        status = cluster.store.get(HPAS, "default", "web")["status"]
        return int(status["currentMetrics"][0]["resource"]["current"]["averageUtilization"])

    assert cluster.run_until(lambda: utilization() == 120, timeout=5)  # 900m over 3 pods = 300m of 250m requested
    status = cluster.store.get(HPAS, "default", "web")["status"]
    assert status["desiredReplicas"] == 3
    conditions = {c["type"]: c["status"] for c in status["conditions"]}
    assert conditions == {"AbleToScale": "True", "ScalingActive": "True", "ScalingLimited": "True"}
    assert cluster.store.get(DEPLOYMENTS, "default", "web")["spec"]["replicas"] == 3
    rescale = [e for e in cluster.store.items(EVENTS, "default") if e["reason"] == "SuccessfulRescale"]
    assert rescale[0]["message"].startswith("New size: 3; reason: cpu resource utilization")


def test_hpa_leaves_a_target_scaled_to_zero_alone() -> None:
    """Scaling a deployment to 0 turns its autoscaler off (upstream: ScalingDisabled); minReplicas does not undo it."""
    cluster = make()
    cluster.store.create(DEPLOYMENTS, deployment_body("web", replicas=0, cpu=("250m", "500m")))
    cluster.store.create(
        HPAS,
        {
            "metadata": {"name": "web", "namespace": "default"},
            "spec": {
                "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "web"},
                "minReplicas": 2,
                "maxReplicas": 4,
            },
        },
    )

    def disabled() -> bool:
        status = cluster.store.get(HPAS, "default", "web").get("status", {})
        reasons = {c["type"]: c["reason"] for c in status.get("conditions", [])}
        return reasons.get("ScalingActive") == "ScalingDisabled"

    assert cluster.run_until(disabled, timeout=5)
    cluster.run_for(2)  # ten HPA syncs
    status = cluster.store.get(HPAS, "default", "web")["status"]
    assert (status["currentReplicas"], status["desiredReplicas"]) == (0, 0)
    assert cluster.store.get(DEPLOYMENTS, "default", "web")["spec"]["replicas"] == 0
    assert not [e for e in cluster.store.items(EVENTS, "default") if e["reason"] == "SuccessfulRescale"]


def test_garbage_collection_removes_dependents_of_a_deleted_deployment() -> None:
    cluster = make()
    cluster.store.create(DEPLOYMENTS, deployment_body("web", replicas=2))
    assert cluster.run_until(lambda: all_ready(cluster, "web", 2), timeout=5)
    cluster.store.delete(DEPLOYMENTS, "default", "web")
    assert cluster.run_until(
        lambda: (
            not list(cluster.store.items(REPLICASETS, "default")) and not list(cluster.store.items(PODS, "default"))
        ),
        timeout=5,
    )


def test_an_unready_pod_is_evicted_only_while_its_budget_is_healthy_unless_the_policy_always_allows() -> None:
    """Upstream's eviction (pkg/registry/core/pod/storage/eviction.go): a Running pod that is not Ready may be evicted
    while currentHealthy >= desiredHealthy (unhealthyPodEvictionPolicy unset or IfHealthyBudget), and always with
    AlwaysAllow; otherwise the budget's disruptionsAllowed decides (429). The sim let every unready pod through, so a
    drain of a NotReady node "succeeded" where a real API server refuses, as the drain's own plan had warned."""
    cluster = make()
    cluster.store.create(DEPLOYMENTS, deployment_body("pay", replicas=2))
    bad = deployment_body("pay-bad", replicas=1, pod_annotations={behaviors.BEHAVIOR: behaviors.NOT_READY})
    cluster.store.create(DEPLOYMENTS, bad)
    selector = {"matchExpressions": [{"key": "app", "operator": "In", "values": ["pay", "pay-bad"]}]}
    budget = {"metadata": {"name": "pay", "namespace": "default"}, "spec": {"minAvailable": 3, "selector": selector}}
    cluster.store.create(PDBS, budget)
    assert cluster.run_until(lambda: all_ready(cluster, "pay", 2) and len(pods(cluster, "pay-bad")) == 1, timeout=5)
    cluster.run_for(0.3)
    unready = pods(cluster, "pay-bad")[0]["metadata"]["name"]
    with pytest.raises(errors.ApiError) as refused:  # 2 healthy of the 3 the budget needs
        cluster.evict("default", unready, dry_run=True)
    assert refused.value.code == 429
    cluster.store.mutate(
        PDBS, "default", "pay", lambda p: p["spec"].__setitem__("unhealthyPodEvictionPolicy", "AlwaysAllow")
    )
    cluster.evict("default", unready, dry_run=True)
    cluster.store.mutate(PDBS, "default", "pay", lambda p: p["spec"].pop("unhealthyPodEvictionPolicy"))
    cluster.store.mutate(PDBS, "default", "pay", lambda p: p["spec"].__setitem__("minAvailable", 2))
    cluster.evict("default", unready, dry_run=True)  # the budget is healthy: 2 of 2


def test_eviction_honours_pod_disruption_budget() -> None:
    cluster = make()
    cluster.store.create(DEPLOYMENTS, deployment_body("pay", replicas=2))
    cluster.store.create(
        PDBS,
        {
            "metadata": {"name": "pay", "namespace": "default"},
            "spec": {"minAvailable": 2, "selector": {"matchLabels": {"app": "pay"}}},
        },
    )
    assert cluster.run_until(lambda: all_ready(cluster, "pay", 2), timeout=5)
    cluster.run_for(0.2)
    pdb = cluster.store.get(PDBS, "default", "pay")["status"]
    assert (pdb["currentHealthy"], pdb["desiredHealthy"], pdb["disruptionsAllowed"], pdb["expectedPods"]) == (
        2,
        2,
        0,
        2,
    )
    name = pods(cluster, "pay")[0]["metadata"]["name"]
    with pytest.raises(errors.ApiError) as refused:
        cluster.evict("default", name, dry_run=False)
    assert refused.value.code == 429
    assert refused.value.message == "Cannot evict pod as it would violate the pod's disruption budget."
    assert refused.value.causes[0]["reason"] == "DisruptionBudget"
    cluster.store.mutate(PDBS, "default", "pay", lambda p: p["spec"].__setitem__("minAvailable", 1))
    cluster.run_for(0.2)
    cluster.evict("default", name, dry_run=True)
    assert "deletionTimestamp" not in cluster.store.get(PODS, "default", name)["metadata"]
    cluster.evict("default", name, dry_run=False)
    assert "deletionTimestamp" in cluster.store.get(PODS, "default", name)["metadata"]
    assert cluster.run_until(
        lambda: cluster.store.peek(PODS, "default", name) is None and all_ready(cluster, "pay", 2), timeout=5
    )
    with pytest.raises(errors.ApiError) as missing:
        cluster.evict("default", "nope", dry_run=False)
    assert missing.value.code == 404


def test_a_pod_in_a_terminal_phase_is_no_endpoint() -> None:
    """An evicted (Failed) pod keeps its IP in status but upstream leaves it out of Endpoints; it was listed as a
    not-ready address."""
    cluster = make()
    cluster.store.create(DEPLOYMENTS, deployment_body("web", replicas=2))
    cluster.store.create(
        SERVICES,
        {
            "metadata": {"name": "web", "namespace": "default"},
            "spec": {"selector": {"app": "web"}, "ports": [{"name": "http", "port": 80, "targetPort": 8080}]},
        },
    )
    assert cluster.run_until(lambda: all_ready(cluster, "web", 2), timeout=5)
    victim = pods(cluster, "web")[0]["metadata"]["name"]

    def evicted(pod: dict[str, Any]) -> None:
        pod["status"].update(phase="Failed", reason="Evicted")
        pod["status"]["conditions"] = [{"type": "Ready", "status": "False"}]

    cluster.store.mutate(PODS, "default", victim, evicted)
    assert cluster.run_until(
        lambda: victim not in str(cluster.store.get(ENDPOINTS, "default", "web").get("subsets")), timeout=5
    )

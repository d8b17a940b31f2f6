"""Deployment and ReplicaSet controllers through the Cluster API, on a hand-advanced clock."""

from __future__ import annotations

import copy
from typing import Any

from incident_response.sim.behaviors import BEHAVIOR, CRASHLOOP, ROLLED_OUT_MINUTES_AGO
from incident_response.sim.cluster import Cluster, ManualClock, Timing
from incident_response.sim.controllers.common import POD_TEMPLATE_HASH, REVISION, REVISION_HISTORY
from incident_response.sim.controllers.deployments import surge_and_unavailable
from incident_response.sim.resources import DEPLOYMENTS, EVENTS, PODS, REPLICASETS
from incident_response.sim.scenarios.builders import deployment_body, minimal
from incident_response.sim.store import Store

FAST = Timing(pod_start=0.1, ready_delay=0.1, crash_after=0.2, backoff_base=0.2, backoff_cap=1.0, termination=0.1)


def make() -> Cluster:
    clock = ManualClock()
    cluster = Cluster(Store(clock=clock.wall), FAST, clock=clock, sleep=clock.sleep)
    minimal(cluster)
    return cluster


def rs_of(cluster: Cluster, name: str) -> list[dict[str, Any]]:
    return sorted(
        (rs for rs in cluster.store.items(REPLICASETS, "default") if rs["metadata"]["name"].startswith(name + "-")),
        key=lambda rs: int(rs["metadata"]["annotations"][REVISION]),
    )


def pods_of(cluster: Cluster, app: str) -> list[dict[str, Any]]:
    return [p for p in cluster.store.items(PODS, "default") if p["metadata"]["labels"].get("app") == app]


def ready(pod: dict[str, Any]) -> bool:
    return any(c["type"] == "Ready" and c["status"] == "True" for c in pod.get("status", {}).get("conditions", []))


def rollout_complete(cluster: Cluster, name: str) -> bool:
    d = cluster.store.peek(DEPLOYMENTS, "default", name)
    assert d is not None
    s, want = d.get("status", {}), d["spec"]["replicas"]
    return bool(
        s.get("observedGeneration", 0) >= d["metadata"]["generation"]
        and s.get("updatedReplicas", 0) == want
        and s.get("replicas", 0) == want
        and s.get("availableReplicas", 0) == want
    )


def set_image(cluster: Cluster, name: str, image: str, cause: str | None = None) -> None:
    def change(d: dict[str, Any]) -> None:
        d["spec"]["template"]["spec"]["containers"][0]["image"] = image
        if cause:
            d["metadata"]["annotations"]["kubernetes.io/change-cause"] = cause

    cluster.store.mutate(DEPLOYMENTS, "default", name, change)


def test_deployment_creates_hashed_replicaset_and_ready_pods() -> None:
    cluster = make()
    cluster.store.create(DEPLOYMENTS, deployment_body("web", annotations={"kubernetes.io/change-cause": "v1"}))
    assert cluster.run_until(lambda: rollout_complete(cluster, "web"), timeout=5)
    (rs,) = rs_of(cluster, "web")
    pod_hash = rs["metadata"]["labels"][POD_TEMPLATE_HASH]
    assert rs["metadata"]["name"] == f"web-{pod_hash}"
    assert 6 <= len(pod_hash) <= 10 and set(pod_hash) <= set("bcdfghjklmnpqrstvwxz2456789")
    ref = rs["metadata"]["ownerReferences"][0]
    assert ref["kind"] == "Deployment" and ref["controller"] is True and ref["blockOwnerDeletion"] is True
    annotations = rs["metadata"]["annotations"]
    assert annotations[REVISION] == "1"
    assert annotations["kubernetes.io/change-cause"] == "v1"
    assert annotations["deployment.kubernetes.io/desired-replicas"] == "3"
    assert annotations["deployment.kubernetes.io/max-replicas"] == "4"
    pods = pods_of(cluster, "web")
    assert len(pods) == 3 and all(ready(p) for p in pods)
    assert all(p["metadata"]["name"].startswith(f"web-{pod_hash}-") for p in pods)
    assert all(len(p["metadata"]["name"]) == len(f"web-{pod_hash}-") + 5 for p in pods)
    d = cluster.store.get(DEPLOYMENTS, "default", "web")
    assert d["metadata"]["annotations"][REVISION] == "1"
    conditions = {c["type"]: c["reason"] for c in d["status"]["conditions"]}
    assert conditions == {"Available": "MinimumReplicasAvailable", "Progressing": "NewReplicaSetAvailable"}
    reasons = {e["reason"] for e in cluster.store.items(EVENTS, "default")}
    assert {"ScalingReplicaSet", "SuccessfulCreate", "Scheduled", "Started"} <= reasons
    assert cluster.settle(timeout=5)


def test_rolling_update_respects_surge_and_unavailability_every_tick() -> None:
    cluster = make()
    cluster.store.create(DEPLOYMENTS, deployment_body("web", replicas=8))
    assert cluster.run_until(lambda: rollout_complete(cluster, "web"), timeout=5)
    d = cluster.store.get(DEPLOYMENTS, "default", "web")
    assert surge_and_unavailable(d) == (2, 2)  # 25% of 8, surge rounded up, unavailable down
    set_image(cluster, "web", "registry.example.com/app:2.0")
    max_seen = 0
    for _ in range(400):
        cluster.tick()
        cluster._sleep(FAST.tick)
        live = [p for p in pods_of(cluster, "web") if "deletionTimestamp" not in p["metadata"]]
        max_seen = max(max_seen, len(live))
        assert len(live) <= 8 + 2
        assert sum(1 for p in live if ready(p)) >= 8 - 2
        if rollout_complete(cluster, "web"):
            break
    assert rollout_complete(cluster, "web")
    assert max_seen == 10
    new, old = rs_of(cluster, "web")[1], rs_of(cluster, "web")[0]
    assert new["spec"]["replicas"] == 8 and old["spec"]["replicas"] == 0
    messages = [e["message"] for e in cluster.store.items(EVENTS, "default") if e["reason"] == "ScalingReplicaSet"]
    assert any(m.startswith(f"Scaled up replica set {new['metadata']['name']} to 2") for m in messages)
    assert any(f"Scaled down replica set {old['metadata']['name']} to" in m and "from 8" in m for m in messages)


def test_rollback_reuses_old_replicaset_with_next_revision() -> None:
    cluster = make()
    cluster.store.create(DEPLOYMENTS, deployment_body("web", annotations={"kubernetes.io/change-cause": "v1"}))
    assert cluster.run_until(lambda: rollout_complete(cluster, "web"), timeout=5)
    set_image(cluster, "web", "registry.example.com/app:2.0", "v2")
    assert cluster.run_until(lambda: rollout_complete(cluster, "web"), timeout=5)
    first, second = rs_of(cluster, "web")
    # What `kubectl rollout undo` does: PATCH the template back to the old RS's template minus the hash label.
    template = copy.deepcopy(first["spec"]["template"])
    template["metadata"]["labels"] = {k: v for k, v in template["metadata"]["labels"].items() if k != POD_TEMPLATE_HASH}

    def undo(d: dict[str, Any]) -> None:
        d["spec"]["template"] = template
        d["metadata"]["annotations"]["kubernetes.io/change-cause"] = "v1"

    cluster.store.mutate(DEPLOYMENTS, "default", "web", undo)
    assert cluster.run_until(lambda: rollout_complete(cluster, "web"), timeout=5)
    after = {rs["metadata"]["name"]: rs for rs in cluster.store.items(REPLICASETS, "default")}
    assert set(after) == {first["metadata"]["name"], second["metadata"]["name"]}  # no new ReplicaSet
    reused = after[first["metadata"]["name"]]
    assert reused["metadata"]["annotations"][REVISION] == "3"
    assert reused["metadata"]["annotations"][REVISION_HISTORY] == "1"
    assert reused["spec"]["replicas"] == 3 and after[second["metadata"]["name"]]["spec"]["replicas"] == 0
    d = cluster.store.get(DEPLOYMENTS, "default", "web")
    assert d["metadata"]["annotations"][REVISION] == "3"
    live = [p for p in pods_of(cluster, "web") if "deletionTimestamp" not in p["metadata"]]
    images = {p["spec"]["containers"][0]["image"] for p in live if ready(p)}
    assert images == {"registry.example.com/app:1.0"}


def test_revision_history_limit_prunes_oldest_idle_replicasets() -> None:
    cluster = make()
    body = deployment_body("web", replicas=1)
    body["spec"]["revisionHistoryLimit"] = 2
    cluster.store.create(DEPLOYMENTS, body)
    for version in range(2, 6):
        assert cluster.run_until(lambda: rollout_complete(cluster, "web"), timeout=5)
        set_image(cluster, "web", f"registry.example.com/app:{version}.0")
    assert cluster.run_until(lambda: rollout_complete(cluster, "web") and len(rs_of(cluster, "web")) == 3, timeout=5)
    assert [rs["metadata"]["annotations"][REVISION] for rs in rs_of(cluster, "web")] == ["3", "4", "5"]


def test_paused_deployment_does_not_roll_out_and_recreate_strategy_stops_old_pods_first() -> None:
    cluster = make()
    cluster.store.create(DEPLOYMENTS, deployment_body("web", strategy={"type": "Recreate"}))
    assert cluster.run_until(lambda: rollout_complete(cluster, "web"), timeout=5)
    cluster.store.mutate(DEPLOYMENTS, "default", "web", lambda d: d["spec"].__setitem__("paused", True))
    set_image(cluster, "web", "registry.example.com/app:2.0")
    cluster.run_for(1.0)
    assert len(rs_of(cluster, "web")) == 1
    progressing = [
        c
        for c in cluster.store.get(DEPLOYMENTS, "default", "web")["status"]["conditions"]
        if c["type"] == "Progressing"
    ]
    assert progressing[0]["reason"] == "DeploymentPaused"
    cluster.store.mutate(DEPLOYMENTS, "default", "web", lambda d: d["spec"].__setitem__("paused", False))
    for _ in range(200):
        cluster.tick()
        cluster._sleep(FAST.tick)
        versions = {p["spec"]["containers"][0]["image"] for p in pods_of(cluster, "web")}
        assert len(versions) <= 1  # Recreate: old and new pods never coexist
        if rollout_complete(cluster, "web") and versions == {"registry.example.com/app:2.0"}:
            break
    assert rollout_complete(cluster, "web")


def test_replicaset_replaces_deleted_pods_and_releases_relabelled_ones() -> None:
    cluster = make()
    cluster.store.create(DEPLOYMENTS, deployment_body("web"))
    assert cluster.run_until(lambda: rollout_complete(cluster, "web"), timeout=5)
    victim = pods_of(cluster, "web")[0]["metadata"]["name"]
    cluster.store.delete(PODS, "default", victim, graceful=True)
    assert cluster.run_until(
        lambda: (
            cluster.store.peek(PODS, "default", victim) is None
            and len(pods_of(cluster, "web")) == 3
            and all(ready(p) for p in pods_of(cluster, "web"))
        ),
        timeout=5,
    )
    # Removing the selector label orphans the pod (ownerReference dropped) and a replacement is created.
    orphan = pods_of(cluster, "web")[0]["metadata"]["name"]
    cluster.store.mutate(PODS, "default", orphan, lambda p: p["metadata"]["labels"].pop("app"))
    assert cluster.run_until(lambda: len([p for p in pods_of(cluster, "web") if ready(p)]) == 3, timeout=5)
    released = cluster.store.get(PODS, "default", orphan)
    assert "ownerReferences" not in released["metadata"]


def age_of(cluster: Cluster, stamp: str) -> float:
    """Seconds between a timestamp the cluster wrote and the cluster's wall clock now."""
    moment = cluster.parse_time(stamp)
    assert moment is not None, stamp
    return cluster.wall_seconds() - moment


def test_rolled_out_minutes_ago_dates_the_revision_its_rollout_and_pods_at_create() -> None:
    cluster = make()
    three_days = 3 * 24 * 60
    cluster.store.create(DEPLOYMENTS, deployment_body("web", annotations={ROLLED_OUT_MINUTES_AGO: str(three_days)}))
    assert cluster.run_until(lambda: rollout_complete(cluster, "web"), timeout=5)
    (first,) = rs_of(cluster, "web")
    day = 86400.0
    assert 3 * day <= age_of(cluster, first["metadata"]["creationTimestamp"]) < 3 * day + 60
    d = cluster.store.get(DEPLOYMENTS, "default", "web")
    assert age_of(cluster, d["metadata"]["creationTimestamp"]) >= 3 * day  # not younger than its revision
    for condition in d["status"]["conditions"]:
        assert 3 * day - 60 < age_of(cluster, condition["lastUpdateTime"]) <= 3 * day + 2, condition
    for pod in pods_of(cluster, "web"):
        assert ready(pod)
        assert 3 * day - 60 < age_of(cluster, pod["metadata"]["creationTimestamp"]) <= 3 * day + 2
        assert 3 * day - 60 < age_of(cluster, pod["status"]["startTime"]) <= 3 * day + 2
    # Events older than the API server's one-hour TTL do not exist.
    assert not [e for e in cluster.store.items(EVENTS, "default") if e["reason"] == "ScalingReplicaSet"]

    # Changed together with the template, it dates that revision: revision 2 rolled out 30 minutes ago, and
    # crash-loops. Its pods have been crash-looping since, and the stuck rollout's events are dated too.
    def bad_deploy(obj: dict[str, Any]) -> None:
        obj["spec"]["template"]["spec"]["containers"][0]["image"] = "registry.example.com/app:2.0"
        obj["spec"]["template"]["metadata"]["annotations"] = {BEHAVIOR: CRASHLOOP}
        obj["metadata"]["annotations"][ROLLED_OUT_MINUTES_AGO] = "30"

    cluster.store.mutate(DEPLOYMENTS, "default", "web", bad_deploy)
    assert cluster.run_until(lambda: len(rs_of(cluster, "web")) == 2, timeout=5)
    cluster.run_for(2.0)
    second = rs_of(cluster, "web")[1]
    assert 30 * 60 <= age_of(cluster, second["metadata"]["creationTimestamp"]) < 31 * 60
    crashing = [p for p in pods_of(cluster, "web") if p["metadata"]["name"].startswith(second["metadata"]["name"])]
    assert crashing
    assert all(p["status"]["containerStatuses"][0]["restartCount"] >= 5 for p in crashing)
    scaled = [e for e in cluster.store.items(EVENTS, "default") if e["reason"] == "ScalingReplicaSet"]
    dated = [e for e in scaled if second["metadata"]["name"] in e["message"]]
    assert dated and all(29 * 60 < age_of(cluster, e["lastTimestamp"]) <= 30 * 60 + 5 for e in dated)

    # The next revision, with the annotation unchanged, is dated now (no second revision 30 minutes ago).
    set_image(cluster, "web", "registry.example.com/app:3.0")
    cluster.store.mutate(DEPLOYMENTS, "default", "web", lambda d: d["spec"]["template"]["metadata"].pop("annotations"))
    assert cluster.run_until(lambda: rollout_complete(cluster, "web"), timeout=5)
    third = rs_of(cluster, "web")[2]
    assert age_of(cluster, third["metadata"]["creationTimestamp"]) < 60
    live = [p for p in pods_of(cluster, "web") if "deletionTimestamp" not in p["metadata"]]
    assert live and all(age_of(cluster, p["metadata"]["creationTimestamp"]) < 60 for p in live)

"""StatefulSet and DaemonSet controllers with their ControllerRevisions, on a hand-advanced clock."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from incident_response.sim import behaviors
from incident_response.sim.cluster import Cluster, ManualClock, Timing
from incident_response.sim.controllers import revisions
from incident_response.sim.defaults import apply_defaults
from incident_response.sim.resources import (
    CONTROLLERREVISIONS,
    DAEMONSETS,
    EVENTS,
    NODES,
    PODS,
    PVCS,
    STATEFULSETS,
)
from incident_response.sim.scenarios.builders import minimal, node
from incident_response.sim.store import Store

FAST = Timing(pod_start=0.1, ready_delay=0.1, crash_after=0.2, backoff_base=0.2, backoff_cap=1.0, termination=0.1)
IMAGE = "registry.example.com/db:{}"


def make(nodes: int = 3) -> Cluster:
    clock = ManualClock()
    cluster = Cluster(Store(clock=clock.wall), FAST, clock=clock, sleep=clock.sleep)
    minimal(cluster, nodes)
    return cluster


def template(name: str, version: str, annotations: dict[str, str] | None = None) -> dict[str, Any]:
    meta: dict[str, Any] = {"labels": {"app": name}}
    if annotations:
        meta["annotations"] = annotations
    container = {
        "name": name,
        "image": IMAGE.format(version),
        "resources": {"requests": {"cpu": "100m", "memory": "64Mi"}, "limits": {"cpu": "500m"}},
    }
    return {"metadata": meta, "spec": {"containers": [container]}}


def statefulset(name: str = "db", replicas: int = 3, **spec: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "metadata": {"name": name, "namespace": "default"},
        "spec": {
            "serviceName": name,
            "replicas": replicas,
            "selector": {"matchLabels": {"app": name}},
            "template": template(name, "1.0"),
            "volumeClaimTemplates": [
                {
                    "metadata": {"name": "data"},
                    "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "5Gi"}}},
                }
            ],
            **spec,
        },
    }
    apply_defaults(STATEFULSETS, body, set())
    return body


def daemonset(name: str = "proxy", **spec: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "metadata": {"name": name, "namespace": "default"},
        "spec": {"selector": {"matchLabels": {"app": name}}, "template": template(name, "1.0"), **spec},
    }
    apply_defaults(DAEMONSETS, body, set())
    return body


def pods(cluster: Cluster, app: str, live: bool = True) -> list[dict[str, Any]]:
    found = [p for p in cluster.store.items(PODS, "default") if p["metadata"]["labels"].get("app") == app]
    if live:
        found = [p for p in found if "deletionTimestamp" not in p["metadata"]]
    return sorted(found, key=lambda p: p["metadata"]["name"])


def ready(pod: dict[str, Any]) -> bool:
    return any(c["type"] == "Ready" and c["status"] == "True" for c in pod.get("status", {}).get("conditions", []))


def image(pod: dict[str, Any]) -> str:
    return str(pod["spec"]["containers"][0]["image"])


def set_template(cluster: Cluster, res: Any, name: str, tmpl: dict[str, Any]) -> None:
    def change(obj: dict[str, Any]) -> None:
        obj["spec"]["template"] = copy.deepcopy(tmpl)
        apply_defaults(res, obj, set())

    cluster.store.mutate(res, "default", name, change)


def history(cluster: Cluster, owner: str) -> list[dict[str, Any]]:
    found = [r for r in cluster.store.items(CONTROLLERREVISIONS, "default") if r["metadata"]["name"].startswith(owner)]
    return sorted(found, key=revisions.number)


def sts_done(cluster: Cluster, name: str = "db") -> bool:
    sts = cluster.store.get(STATEFULSETS, "default", name)
    s, want = sts.get("status", {}), sts["spec"]["replicas"]
    return bool(
        s.get("observedGeneration") == sts["metadata"]["generation"]
        and s.get("readyReplicas") == want
        and s.get("updatedReplicas") == want
        and s.get("currentRevision") == s.get("updateRevision")
        and len(pods(cluster, name)) == want
    )


def ds_done(cluster: Cluster, name: str = "proxy") -> bool:
    ds = cluster.store.get(DAEMONSETS, "default", name)
    s = ds.get("status", {})
    desired = s.get("desiredNumberScheduled", -1)
    return bool(
        s.get("observedGeneration") == ds["metadata"]["generation"]
        and s.get("updatedNumberScheduled") == desired
        and s.get("numberAvailable") == desired
        and len(pods(cluster, name)) >= desired
    )


# ----- StatefulSets -----


def test_statefulset_creates_ordinal_pods_one_at_a_time_with_their_claims() -> None:
    cluster = make()
    cluster.store.create(STATEFULSETS, statefulset())
    seen: list[list[str]] = []
    for _ in range(200):
        cluster.tick()
        cluster._sleep(FAST.tick)
        current = pods(cluster, "db")
        names = [p["metadata"]["name"] for p in current]
        if not seen or seen[-1] != names:
            seen.append(names)
        # OrderedReady: a pod is created only when every lower ordinal is Running and Ready.
        assert all(ready(p) for p in current[:-1]), names
        if sts_done(cluster):
            break
    assert seen == [["db-0"], ["db-0", "db-1"], ["db-0", "db-1", "db-2"]]
    (revision,) = history(cluster, "db")
    name = revision["metadata"]["name"]
    assert revisions.number(revision) == 1 and revision["data"]["spec"]["template"]["$patch"] == "replace"
    assert revision["metadata"]["ownerReferences"][0]["kind"] == "StatefulSet"
    for ordinal, pod in enumerate(pods(cluster, "db")):
        labels = pod["metadata"]["labels"]
        assert labels["controller-revision-hash"] == name
        assert labels["statefulset.kubernetes.io/pod-name"] == f"db-{ordinal}"
        assert labels["apps.kubernetes.io/pod-index"] == str(ordinal)
        assert (pod["spec"]["hostname"], pod["spec"]["subdomain"]) == (f"db-{ordinal}", "db")
        claim = {v["name"]: v for v in pod["spec"]["volumes"]}["data"]["persistentVolumeClaim"]["claimName"]
        assert claim == f"data-db-{ordinal}"
        pvc = cluster.store.get(PVCS, "default", claim)
        assert pvc["status"]["phase"] == "Bound" and pvc["status"]["capacity"] == {"storage": "5Gi"}
        assert pvc["metadata"]["labels"] == {"app": "db"} and "ownerReferences" not in pvc["metadata"]
    status = cluster.store.get(STATEFULSETS, "default", "db")["status"]
    assert status["currentRevision"] == status["updateRevision"] == name
    assert (status["replicas"], status["readyReplicas"], status["currentReplicas"]) == (3, 3, 3)
    messages = {e["message"] for e in cluster.store.items(EVENTS, "default") if e["reason"] == "SuccessfulCreate"}
    assert "create Pod db-0 in StatefulSet db successful" in messages
    assert "create Claim data-db-0 Pod db-0 in StatefulSet db success" in messages


def test_rolling_update_goes_from_the_highest_ordinal_down_to_the_partition() -> None:
    cluster = make()
    body = statefulset()
    body["spec"]["updateStrategy"]["rollingUpdate"]["partition"] = 1
    cluster.store.create(STATEFULSETS, body)
    assert cluster.run_until(lambda: sts_done(cluster), timeout=10)
    old = cluster.store.get(STATEFULSETS, "default", "db")["status"]["currentRevision"]
    set_template(cluster, STATEFULSETS, "db", template("db", "2.0"))
    order: list[str] = []
    for _ in range(300):
        cluster.tick()
        cluster._sleep(FAST.tick)
        live = pods(cluster, "db")
        assert sum(1 for p in live if not ready(p)) + (3 - len(live)) <= 1  # one pod at a time
        for pod in live:
            if image(pod) == IMAGE.format("2.0") and pod["metadata"]["name"] not in order:
                order.append(pod["metadata"]["name"])
        status = cluster.store.get(STATEFULSETS, "default", "db")["status"]
        if status.get("updatedReplicas") == 2 and all(ready(p) for p in live) and len(live) == 3:
            break
    assert order == ["db-2", "db-1"]  # db-0 is below the partition: it keeps the old revision
    assert image(pods(cluster, "db")[0]) == IMAGE.format("1.0")
    status = cluster.store.get(STATEFULSETS, "default", "db")["status"]
    assert status["currentRevision"] == old and status["updateRevision"] != old
    assert (status["currentReplicas"], status["updatedReplicas"]) == (1, 2)
    # Lowering the partition finishes the rollout; the update revision becomes the current one.
    cluster.store.mutate(
        STATEFULSETS, "default", "db", lambda s: s["spec"]["updateStrategy"]["rollingUpdate"].update(partition=0)
    )
    assert cluster.run_until(lambda: sts_done(cluster), timeout=10)
    assert {image(p) for p in pods(cluster, "db")} == {IMAGE.format("2.0")}


def test_a_bad_revision_stops_the_rollout_and_its_pod_must_be_deleted_after_rollback() -> None:
    cluster = make()
    cluster.store.create(STATEFULSETS, statefulset())
    assert cluster.run_until(lambda: sts_done(cluster), timeout=10)
    good = copy.deepcopy(cluster.store.get(STATEFULSETS, "default", "db")["spec"]["template"])
    set_template(cluster, STATEFULSETS, "db", template("db", "2.0", {behaviors.BEHAVIOR: behaviors.CRASHLOOP}))
    cluster.run_for(5.0)
    live = pods(cluster, "db")
    assert [image(p) for p in live] == [IMAGE.format("1.0"), IMAGE.format("1.0"), IMAGE.format("2.0")]
    assert not ready(live[2]) and live[2]["status"]["containerStatuses"][0]["restartCount"] >= 1
    # Rolled back: the old revision comes back as revision 3, but db-2 is not Running and Ready, so the
    # controller waits on it forever (upstream's "forced rollback": the broken pod has to be deleted).
    set_template(cluster, STATEFULSETS, "db", good)
    cluster.run_for(5.0)
    assert [revisions.number(r) for r in history(cluster, "db")] == [2, 3]
    broken = pods(cluster, "db")[2]
    assert image(broken) == IMAGE.format("2.0") and not ready(broken)
    cluster.store.delete(PODS, "default", "db-2", graceful=True)
    assert cluster.run_until(lambda: sts_done(cluster), timeout=10)
    assert {image(p) for p in pods(cluster, "db")} == {IMAGE.format("1.0")}


def test_scale_down_from_the_highest_ordinal_keeps_the_claims_and_scale_up_reuses_them() -> None:
    cluster = make()
    cluster.store.create(STATEFULSETS, statefulset())
    assert cluster.run_until(lambda: sts_done(cluster), timeout=10)
    volume = cluster.store.get(PVCS, "default", "data-db-2")["spec"]["volumeName"]
    cluster.store.mutate(STATEFULSETS, "default", "db", lambda s: s["spec"].__setitem__("replicas", 1))
    assert cluster.run_until(lambda: [p["metadata"]["name"] for p in pods(cluster, "db", live=False)] == ["db-0"])
    deleted = [e["message"] for e in cluster.store.items(EVENTS, "default") if e["reason"] == "SuccessfulDelete"]
    assert deleted == ["delete Pod db-2 in StatefulSet db successful", "delete Pod db-1 in StatefulSet db successful"]
    assert {p["metadata"]["name"] for p in cluster.store.items(PVCS, "default")} == {
        "data-db-0",
        "data-db-1",
        "data-db-2",
    }
    cluster.store.mutate(STATEFULSETS, "default", "db", lambda s: s["spec"].__setitem__("replicas", 3))
    assert cluster.run_until(lambda: sts_done(cluster), timeout=10)
    assert cluster.store.get(PVCS, "default", "data-db-2")["spec"]["volumeName"] == volume  # same data
    cluster.store.delete(STATEFULSETS, "default", "db")
    assert cluster.run_until(lambda: not pods(cluster, "db", live=False), timeout=10)
    assert len(list(cluster.store.items(PVCS, "default"))) == 3  # the Retain policy
    assert not history(cluster, "db")  # revisions go with their owner


# ----- DaemonSets -----


def test_daemonset_runs_one_pinned_pod_per_node_including_cordoned_ones() -> None:
    cluster = make()
    cluster.store.mutate(NODES, None, "node-2", lambda n: n["spec"].__setitem__("unschedulable", True))
    cluster.store.create(DAEMONSETS, daemonset())
    assert cluster.run_until(lambda: ds_done(cluster), timeout=10)
    ds = cluster.store.get(DAEMONSETS, "default", "proxy")
    assert ds["metadata"]["annotations"]["deprecated.daemonset.template.generation"] == "1"
    (revision,) = history(cluster, "proxy")
    by_node = {p["spec"]["nodeName"]: p for p in pods(cluster, "proxy")}
    assert sorted(by_node) == ["node-1", "node-2", "node-3"]  # daemon pods tolerate a cordon
    for name, pod in by_node.items():
        assert pod["metadata"]["name"].startswith("proxy-") and len(pod["metadata"]["name"]) == len("proxy-") + 5
        labels = pod["metadata"]["labels"]
        assert labels["controller-revision-hash"] == revisions.hash_of(revision)
        assert revision["metadata"]["name"] == f"proxy-{labels['controller-revision-hash']}"
        assert labels["pod-template-generation"] == "1"
        term = pod["spec"]["affinity"]["nodeAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"]
        assert term["nodeSelectorTerms"] == [
            {"matchFields": [{"key": "metadata.name", "operator": "In", "values": [name]}]}
        ]
        tolerated = {(t["key"], t["effect"]) for t in pod["spec"]["tolerations"]}
        assert ("node.kubernetes.io/unschedulable", "NoSchedule") in tolerated
    status = ds["status"]
    assert (status["desiredNumberScheduled"], status["currentNumberScheduled"], status["numberReady"]) == (3, 3, 3)
    # A new node gets its pod; a NotReady one (its NoSchedule taint) gets none, and its old pod stays.
    cluster.store.create(NODES, node("node-4", 4))
    cluster.store.mutate(
        NODES,
        None,
        "node-1",
        lambda n: n["metadata"].setdefault("annotations", {}).__setitem__(behaviors.NODE_CONDITION, "NotReady"),
    )
    cluster.run_for(0.2)  # the node controller taints node-1
    cluster.store.create(DAEMONSETS, daemonset("logs"))
    assert cluster.run_until(lambda: ds_done(cluster) and ds_done(cluster, "logs"), timeout=10)
    assert sorted(p["spec"]["nodeName"] for p in pods(cluster, "proxy")) == ["node-1", "node-2", "node-3", "node-4"]
    assert sorted(p["spec"]["nodeName"] for p in pods(cluster, "logs")) == ["node-2", "node-3", "node-4"]


@pytest.mark.parametrize("unavailable", [1, 2])
def test_daemonset_rolling_update_keeps_at_most_max_unavailable_nodes_down(unavailable: int) -> None:
    cluster = make(4)
    body = daemonset()
    body["spec"]["updateStrategy"]["rollingUpdate"]["maxUnavailable"] = unavailable
    cluster.store.create(DAEMONSETS, body)
    assert cluster.run_until(lambda: ds_done(cluster), timeout=10)
    set_template(cluster, DAEMONSETS, "proxy", template("proxy", "2.0"))
    worst = 0
    for _ in range(400):
        cluster.tick()
        cluster._sleep(FAST.tick)
        serving = {p["spec"].get("nodeName") for p in pods(cluster, "proxy") if ready(p)}
        worst = max(worst, 4 - len(serving))
        if ds_done(cluster) and {image(p) for p in pods(cluster, "proxy")} == {IMAGE.format("2.0")}:
            break
    assert {image(p) for p in pods(cluster, "proxy")} == {IMAGE.format("2.0")}
    assert worst == unavailable
    ds = cluster.store.get(DAEMONSETS, "default", "proxy")
    assert ds["metadata"]["annotations"]["deprecated.daemonset.template.generation"] == "2"
    assert {p["metadata"]["labels"]["pod-template-generation"] for p in pods(cluster, "proxy")} == {"2"}


def test_daemonset_surge_starts_the_new_pod_before_stopping_the_old_one() -> None:
    cluster = make()
    body = daemonset()
    body["spec"]["updateStrategy"]["rollingUpdate"] = {"maxUnavailable": 0, "maxSurge": 1}
    cluster.store.create(DAEMONSETS, body)
    assert cluster.run_until(lambda: ds_done(cluster), timeout=10)
    set_template(cluster, DAEMONSETS, "proxy", template("proxy", "2.0"))
    most = 0
    for _ in range(400):
        cluster.tick()
        cluster._sleep(FAST.tick)
        live = pods(cluster, "proxy")
        assert len({p["spec"].get("nodeName") for p in live if ready(p)}) == 3  # never a node without one
        most = max(most, len(live))
        if ds_done(cluster) and {image(p) for p in live} == {IMAGE.format("2.0")}:
            break
    assert {image(p) for p in pods(cluster, "proxy")} == {IMAGE.format("2.0")}
    assert most == 4


def test_on_delete_daemonset_updates_a_pod_only_when_it_is_deleted() -> None:
    cluster = make()
    cluster.store.create(DAEMONSETS, daemonset(updateStrategy={"type": "OnDelete"}))
    assert cluster.run_until(lambda: ds_done(cluster), timeout=10)
    set_template(cluster, DAEMONSETS, "proxy", template("proxy", "2.0"))
    cluster.run_for(2.0)
    assert {image(p) for p in pods(cluster, "proxy")} == {IMAGE.format("1.0")}
    victim = pods(cluster, "proxy")[0]
    cluster.store.delete(PODS, "default", victim["metadata"]["name"], graceful=True)
    assert cluster.run_until(
        lambda: (
            sorted(image(p) for p in pods(cluster, "proxy") if ready(p))
            == [IMAGE.format(v) for v in ("1.0", "1.0", "2.0")]
        )
    )


def test_revisions_are_reused_on_rollback_and_trimmed_to_the_history_limit() -> None:
    cluster = make()
    cluster.store.create(DAEMONSETS, daemonset(revisionHistoryLimit=2))
    templates = [template("proxy", f"{v}.0") for v in range(1, 6)]
    for tmpl in templates[1:]:
        assert cluster.run_until(lambda: ds_done(cluster), timeout=10)
        set_template(cluster, DAEMONSETS, "proxy", tmpl)
    assert cluster.run_until(lambda: ds_done(cluster) and len(history(cluster, "proxy")) == 3, timeout=10)
    assert [revisions.number(r) for r in history(cluster, "proxy")] == [3, 4, 5]
    set_template(cluster, DAEMONSETS, "proxy", templates[3])  # back to revision 4's template
    assert cluster.run_until(lambda: ds_done(cluster), timeout=10)
    by_number = {revisions.number(r): r for r in history(cluster, "proxy")}
    assert sorted(by_number) == [3, 5, 6]  # revision 4 is now revision 6, no new ControllerRevision
    assert revisions.template_of(by_number[6])["spec"]["containers"][0]["image"] == IMAGE.format("4.0")


def test_load_and_hpa_reach_statefulset_pods() -> None:
    cluster = make()
    body = statefulset(replicas=2)
    body["metadata"]["annotations"] = {behaviors.LOAD_MILLICORES: "300"}
    cluster.store.create(STATEFULSETS, body)
    assert cluster.run_until(lambda: sts_done(cluster), timeout=10)
    usage = [cluster.pod_usage(p) for p in pods(cluster, "db")]
    assert [u[0] for u in usage if u] == [150, 150]  # 300m shared by the two pods

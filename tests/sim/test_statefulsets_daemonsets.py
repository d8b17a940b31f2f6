"""StatefulSets and DaemonSets with real kubectl: apply, get (Table columns), rollout status / history / undo
[--to-revision] (ControllerRevisions and kubectl's strategic-merge patch), scale, drain, delete, and the
incident behaviours going through their pods."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any, TypeVar

import pytest
from conftest import SimFactory
from support.kubectl_runner import Kubectl

from incident_response.sim.behaviors import BEHAVIOR, CRASHLOOP
from incident_response.sim.cluster import Timing
from incident_response.sim.resources import PODS
from incident_response.sim.serve import RunningSim

T = TypeVar("T")
NS = "default"
STS = """
apiVersion: apps/v1
kind: StatefulSet
metadata: {name: db, namespace: default, annotations: {kubernetes.io/change-cause: "postgres 16.3"}}
spec:
  serviceName: db
  replicas: 3
  selector: {matchLabels: {app: db}}
  template:
    metadata: {labels: {app: db}}
    spec:
      containers:
      - name: db
        image: registry.example.com/postgres:16.3
        ports: [{containerPort: 5432}]
  volumeClaimTemplates:
  - metadata: {name: data}
    spec:
      accessModes: [ReadWriteOnce]
      resources: {requests: {storage: 10Gi}}
"""
DS = """
apiVersion: apps/v1
kind: DaemonSet
metadata: {name: proxy, namespace: default, annotations: {kubernetes.io/change-cause: "proxy 1.0"}}
spec:
  selector: {matchLabels: {app: proxy}}
  template:
    metadata: {labels: {app: proxy}}
    spec:
      containers:
      - name: proxy
        image: registry.example.com/proxy:1.0
"""


def eventually(check: Callable[[], T | None], timeout: float = 30.0, what: str = "the condition") -> T:
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(0.2)


def wide_table(k: Kubectl, *args: str) -> list[dict[str, str]]:
    """`kubectl get` rows, with headers that contain a space ("NODE SELECTOR"): columns start after two spaces."""
    lines = [line for line in k.run("get", *args).stdout.splitlines() if line.strip()]
    header = lines[0]
    starts = [i for i, ch in enumerate(header) if ch != " " and (i == 0 or header[max(i - 2, 0) : i] == "  ")]
    ends = [*starts[1:], None]
    names = [header[s:e].strip() for s, e in zip(starts, ends, strict=True)]
    return [
        dict(zip(names, [line[s:e].strip() for s, e in zip(starts, ends, strict=True)], strict=True))
        for line in lines[1:]
    ]


def history(k: Kubectl, target: str) -> list[tuple[str, str]]:
    """`kubectl rollout history` rows: (REVISION, CHANGE-CAUSE)."""
    lines = k.run("rollout", "history", target, "-n", NS).stdout.splitlines()
    assert lines[1].split() == ["REVISION", "CHANGE-CAUSE"], lines
    return [(line.split(None, 1)[0], line.split(None, 1)[1].strip()) for line in lines[2:] if line.strip()]


def status_done(k: Kubectl, target: str) -> str:
    out = k.run("rollout", "status", target, "-n", NS, "--timeout=60s").stdout
    return out.strip().splitlines()[-1]


def images(sim: RunningSim, app: str) -> list[tuple[str, str]]:
    found = [
        p
        for p in sim.store.items(PODS, NS)
        if p["metadata"]["labels"].get("app") == app and "deletionTimestamp" not in p["metadata"]
    ]
    return sorted((p["metadata"]["name"], p["spec"]["containers"][0]["image"]) for p in found)


def get_json(k: Kubectl, *args: str) -> Any:
    return json.loads(k.run("get", *args, "-n", NS, "-o", "json").stdout)


# Ordered rollouts wait for each pod in real time: starts, readiness and terminations three times quicker than the
# default (0.3 s each) keep what these tests check (order, revisions, claims, kubectl's output) and a third of the wait.
QUICK = Timing(pod_start=0.1, ready_delay=0.1, termination=0.1)


@pytest.fixture
def cluster(sim_factory: SimFactory, kubectl_for: Callable[[RunningSim], Kubectl]) -> tuple[RunningSim, Kubectl]:
    sim = sim_factory("healthy", timing=QUICK)
    return sim, kubectl_for(sim)


def test_statefulset_apply_get_rollout_history_and_undo(cluster: tuple[RunningSim, Kubectl]) -> None:
    sim, k = cluster
    assert k.run("apply", "-f", "-", stdin=STS).stdout.strip() == "statefulset.apps/db created"
    assert status_done(k, "sts/db") == "partitioned roll out complete: 3 new pods have been updated..."
    (row,) = k.table("sts", "-n", NS, "-o", "wide")
    assert row == {
        "NAME": "db",
        "READY": "3/3",
        "AGE": row["AGE"],
        "CONTAINERS": "db",
        "IMAGES": "registry.example.com/postgres:16.3",
    }
    pods = k.table("pods", "-n", NS, "-l", "app=db", "-L", "controller-revision-hash")
    (revision,) = k.table("controllerrevisions", "-n", NS, "-l", "app=db")
    assert [p["NAME"] for p in pods] == ["db-0", "db-1", "db-2"]
    assert {p["CONTROLLER-REVISION-HASH"] for p in pods} == {revision["NAME"]}
    assert (revision["CONTROLLER"], revision["REVISION"]) == ("statefulset.apps/db", "1")
    claims = k.table("pvc", "-n", NS)
    assert {(c["NAME"], c["STATUS"], c["CAPACITY"]) for c in claims} >= {
        (f"data-db-{i}", "Bound", "10Gi") for i in range(3)
    }

    # A revision records the annotations it was created with: the change-cause goes first.
    k.run("annotate", "sts/db", "kubernetes.io/change-cause=postgres 16.4", "--overwrite", "-n", NS)
    k.run("set", "image", "sts/db", "db=registry.example.com/postgres:16.4", "-n", NS)
    assert status_done(k, "sts/db") == "partitioned roll out complete: 3 new pods have been updated..."
    assert history(k, "sts/db") == [("1", "postgres 16.3"), ("2", "postgres 16.4")]
    one = k.run("rollout", "history", "sts/db", "--revision=1", "-n", NS).stdout
    assert "Image:\tregistry.example.com/postgres:16.3" in one

    assert k.run("rollout", "undo", "sts/db", "-n", NS).stdout.strip() == "statefulset.apps/db rolled back"
    status_done(k, "sts/db")
    assert [h[0] for h in history(k, "sts/db")] == ["2", "3"]  # revision 1 came back as revision 3
    assert {image for _, image in images(sim, "db")} == {"registry.example.com/postgres:16.3"}
    skipped = k.run("rollout", "undo", "sts/db", "--to-revision=3", "-n", NS).stdout.strip()
    assert skipped == "statefulset.apps/db skipped rollback (current template already matches revision 3)"
    missing = k.run("rollout", "undo", "sts/db", "--to-revision=9", "-n", NS, check=False)
    assert missing.returncode != 0 and "unable to find specified revision 9 in history" in missing.stderr
    before = get_json(k, "sts", "db")["metadata"]["resourceVersion"]
    dry = k.run("rollout", "undo", "sts/db", "--to-revision=2", "--dry-run=server", "-n", NS).stdout
    assert "rolled back (server dry run)" in dry
    assert get_json(k, "sts", "db")["metadata"]["resourceVersion"] == before


def test_statefulset_scale_and_delete_leave_the_claims(cluster: tuple[RunningSim, Kubectl]) -> None:
    sim, k = cluster
    k.run("apply", "-f", "-", stdin=STS)
    status_done(k, "sts/db")
    k.run("scale", "sts/db", "--replicas=4", "-n", NS)
    status_done(k, "sts/db")
    assert [name for name, _ in images(sim, "db")] == ["db-0", "db-1", "db-2", "db-3"]
    k.run("scale", "sts/db", "--replicas=2", "-n", NS)
    eventually(lambda: [name for name, _ in images(sim, "db")] == ["db-0", "db-1"], what="db-3 and db-2 to go")
    k.run("delete", "sts", "db", "-n", NS)
    eventually(lambda: not images(sim, "db"), what="the pods to be collected")
    names = {c["NAME"] for c in k.table("pvc", "-n", NS)}
    assert {f"data-db-{i}" for i in range(4)} <= names  # claims outlive their pods and the set


def test_a_bad_statefulset_image_stops_on_the_highest_ordinal(cluster: tuple[RunningSim, Kubectl]) -> None:
    sim, k = cluster
    k.run("apply", "-f", "-", stdin=STS)
    status_done(k, "sts/db")
    patch = {"spec": {"template": {"metadata": {"annotations": {BEHAVIOR: CRASHLOOP}}}}}
    k.run("patch", "sts", "db", "-n", NS, "-p", json.dumps(patch))
    eventually(
        lambda: any(r["NAME"] == "db-2" and r["STATUS"] == "CrashLoopBackOff" for r in k.table("pods", "-n", NS)),
        what="db-2 crash-looping",
    )
    stuck = k.run("rollout", "status", "sts/db", "-n", NS, "--timeout=2s", check=False)
    assert stuck.returncode != 0 and "Waiting for 1 pods to be ready..." in stuck.stdout
    ready = {r["NAME"]: r["READY"] for r in k.table("pods", "-n", NS, "-l", "app=db")}
    assert ready == {"db-0": "1/1", "db-1": "1/1", "db-2": "0/1"}  # db-1 and db-0 were not touched
    # Undo restores the template, but the controller waits on the broken db-2: it has to be deleted.
    k.run("rollout", "undo", "sts/db", "-n", NS)
    sim.wait_ticks(40, timeout=60)  # 40 controller passes (>= 2 s): on a loaded box a 2 s sleep saw only a few
    assert {r["NAME"]: r["STATUS"] for r in k.table("pods", "-n", NS, "-l", "app=db")}["db-2"] != "Running"
    k.run("delete", "pod", "db-2", "-n", NS)
    assert status_done(k, "sts/db") == "partitioned roll out complete: 3 new pods have been updated..."


def test_daemonset_apply_get_rollout_history_undo_and_drain(cluster: tuple[RunningSim, Kubectl]) -> None:
    sim, k = cluster
    assert k.run("apply", "-f", "-", stdin=DS).stdout.strip() == "daemonset.apps/proxy created"
    assert status_done(k, "ds/proxy") == 'daemon set "proxy" successfully rolled out'
    (row,) = wide_table(k, "ds", "-n", NS, "-o", "wide")
    assert row == {
        "NAME": "proxy",
        "DESIRED": "3",
        "CURRENT": "3",
        "READY": "3",
        "UP-TO-DATE": "3",
        "AVAILABLE": "3",
        "NODE SELECTOR": "<none>",
        "AGE": row["AGE"],
        "CONTAINERS": "proxy",
        "IMAGES": "registry.example.com/proxy:1.0",
        "SELECTOR": "app=proxy",
    }
    pods = wide_table(k, "pods", "-n", NS, "-l", "app=proxy", "-o", "wide")
    assert sorted(p["NODE"] for p in pods) == ["node-1", "node-2", "node-3"]
    assert all(p["NAME"].startswith("proxy-") and len(p["NAME"]) == len("proxy-") + 5 for p in pods)
    assert "daemonset.apps/proxy" in k.run("get", "all", "-n", NS).stdout

    # A bad image: the first node's new pod crash-loops and the rollout stops there (maxUnavailable 1).
    patch = {"spec": {"template": {"metadata": {"annotations": {BEHAVIOR: CRASHLOOP}}}}}
    k.run("patch", "ds", "proxy", "-n", NS, "-p", json.dumps(patch))
    eventually(
        lambda: any(r["STATUS"] == "CrashLoopBackOff" for r in k.table("pods", "-n", NS, "-l", "app=proxy")),
        what="a crash-looping proxy pod",
    )
    stuck = k.run("rollout", "status", "ds/proxy", "-n", NS, "--timeout=2s", check=False)
    assert 'Waiting for daemon set "proxy" rollout to finish: 1 out of 3 new pods have been updated...' in stuck.stdout
    assert history(k, "ds/proxy") == [("1", "proxy 1.0"), ("2", "proxy 1.0")]
    assert k.run("rollout", "undo", "ds/proxy", "--to-revision=1", "-n", NS).stdout.strip() == (
        "daemonset.apps/proxy rolled back"
    )
    assert status_done(k, "ds/proxy") == 'daemon set "proxy" successfully rolled out'
    assert {r["STATUS"] for r in k.table("pods", "-n", NS, "-l", "app=proxy")} == {"Running"}
    assert [h[0] for h in history(k, "ds/proxy")] == ["2", "3"]
    skipped = k.run("rollout", "undo", "ds/proxy", "--to-revision=3", "-n", NS).stdout.strip()
    assert skipped == "daemonset.apps/proxy skipped rollback (current template already matches revision 3)"

    # drain refuses DaemonSet pods unless told to ignore them; they stay on the cordoned node.
    refused = k.run("drain", "node-1", "--delete-emptydir-data", "--timeout=20s", check=False)
    assert refused.returncode != 0 and "cannot delete DaemonSet-managed Pods" in refused.stderr
    k.run("drain", "node-1", "--ignore-daemonsets", "--delete-emptydir-data", "--timeout=60s")
    sim.wait_ticks(20, timeout=60)  # 20 controller passes (>= 1 s), however loaded the box
    on_node = [p for p in wide_table(k, "pods", "-n", NS, "-l", "app=proxy", "-o", "wide") if p["NODE"] == "node-1"]
    assert len(on_node) == 1 and on_node[0]["STATUS"] == "Running"


@pytest.fixture
def scenario(
    sim_factory: SimFactory, kubectl_for: Callable[[RunningSim], Kubectl]
) -> Callable[[str], tuple[RunningSim, Kubectl]]:
    def start(name: str) -> tuple[RunningSim, Kubectl]:
        sim = sim_factory(name)
        return sim, kubectl_for(sim)

    return start


def test_bad_statefulset_scenario_needs_undo_and_the_stuck_pod_deleted(
    scenario: Callable[[str], tuple[RunningSim, Kubectl]],
) -> None:
    sim, k = scenario("bad-statefulset")
    shop = "shop"
    (row,) = k.table("sts", "-n", shop)
    assert (row["NAME"], row["READY"]) == ("sessions", "2/3")
    pods = {r["NAME"]: r for r in k.table("pods", "-n", shop, "-l", "app=sessions")}
    assert pods["sessions-2"]["STATUS"] == "CrashLoopBackOff" and pods["sessions-2"]["AGE"] == "15m"
    assert pods["sessions-0"]["AGE"] == "30d"
    lines = k.run("rollout", "history", "sts/sessions", "-n", shop).stdout.splitlines()[2:]
    assert [line.split()[0] for line in lines if line.strip()] == ["1", "2"]
    k.run("rollout", "undo", "sts/sessions", "-n", shop)
    sim.wait_ticks(40, timeout=60)  # the controller waits on sessions-2, which never gets Ready (40 passes, >= 2 s)
    assert {r["NAME"]: r["STATUS"] for r in k.table("pods", "-n", shop, "-l", "app=sessions")}["sessions-2"] != (
        "Running"
    )
    k.run("delete", "pod", "sessions-2", "-n", shop)
    done = k.run("rollout", "status", "sts/sessions", "-n", shop, "--timeout=60s").stdout.strip().splitlines()[-1]
    assert done == "partitioned roll out complete: 3 new pods have been updated..."
    images = k.run(
        "get", "pods", "-n", shop, "-l", "app=sessions", "-o", "jsonpath={.items[*].spec.containers[0].image}"
    )
    assert set(images.stdout.split()) == {"registry.example.com/shop/sessions:7.2.5"}


def test_bad_daemonset_scenario_recovers_with_undo(scenario: Callable[[str], tuple[RunningSim, Kubectl]]) -> None:
    _, k = scenario("bad-daemonset")
    shop = "shop"
    stuck = k.run("rollout", "status", "ds/db-proxy", "-n", shop, "--timeout=2s", check=False)
    assert (
        'Waiting for daemon set "db-proxy" rollout to finish: 1 out of 3 new pods have been updated...' in stuck.stdout
    )
    k.run("rollout", "undo", "ds/db-proxy", "-n", shop)
    done = k.run("rollout", "status", "ds/db-proxy", "-n", shop, "--timeout=60s").stdout.strip().splitlines()[-1]
    assert done == 'daemon set "db-proxy" successfully rolled out'
    assert {r["STATUS"] for r in k.table("pods", "-n", shop, "-l", "app=db-proxy")} == {"Running"}

"""StatefulSets with real kubectl: apply, get (Table columns), rollout status / history / undo [--to-revision]
(ControllerRevisions and kubectl's strategic-merge patch), scale, delete, and the incident behaviours going through
their pods. DaemonSets: test_daemonsets.py (a file of its own, so the two halves' real-time rollouts run on two
workers)."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from conftest import SimFactory
from support.kubectl_runner import Kubectl
from support.workload_kubectl import NS, QUICK, eventually, history, status_done

from incident_response.sim.behaviors import BEHAVIOR, CRASHLOOP
from incident_response.sim.resources import PODS
from incident_response.sim.serve import RunningSim

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


def images(sim: RunningSim, app: str) -> list[tuple[str, str]]:
    found = [
        p
        for p in sim.store.items(PODS, NS)
        if p["metadata"]["labels"].get("app") == app and "deletionTimestamp" not in p["metadata"]
    ]
    return sorted((p["metadata"]["name"], p["spec"]["containers"][0]["image"]) for p in found)


def get_json(k: Kubectl, *args: str) -> Any:
    return json.loads(k.run("get", *args, "-n", NS, "-o", "json").stdout)


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

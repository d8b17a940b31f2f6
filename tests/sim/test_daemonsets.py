"""DaemonSets with real kubectl: apply, get (Table columns), rollout status / history / undo [--to-revision], drain
(DaemonSet pods stay), and the bad-daemonset scenario's recovery. StatefulSets: test_statefulsets_daemonsets.py."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest
from conftest import SimFactory
from support.kubectl_runner import Kubectl
from support.workload_kubectl import NS, QUICK, eventually, history, status_done, wide_table

from incident_response.sim.behaviors import BEHAVIOR, CRASHLOOP
from incident_response.sim.serve import RunningSim

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


@pytest.fixture
def cluster(sim_factory: SimFactory, kubectl_for: Callable[[RunningSim], Kubectl]) -> tuple[RunningSim, Kubectl]:
    sim = sim_factory("healthy", timing=QUICK)
    return sim, kubectl_for(sim)


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

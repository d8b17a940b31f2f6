"""Time in the simulated cluster, checked with real kubectl: crash loops back off as the kubelet does, revisions
can be dated in the past with an annotation, and the cluster's clock can be moved on (RunningSim.advance and
POST /sim/clock) instead of waiting."""

from __future__ import annotations

import json
import math
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, TypeVar

import pytest
from conftest import SimFactory
from support.kubectl_runner import Kubectl
from support.polling import eventually

from incident_response.sim.behaviors import BEHAVIOR, CRASHLOOP, ROLLED_OUT_MINUTES_AGO
from incident_response.sim.serve import RunningSim

T = TypeVar("T")
NS = "default"
DAY = 86400.0


def manifest(name: str, image: str, *, annotations: dict[str, str], pod_annotations: dict[str, str]) -> str:
    body = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name, "namespace": NS, "annotations": annotations},
        "spec": {
            "replicas": 2,
            "selector": {"matchLabels": {"app": name}},
            "template": {
                "metadata": {"labels": {"app": name}, "annotations": pod_annotations},
                "spec": {"containers": [{"name": name, "image": image, "ports": [{"containerPort": 8080}]}]},
            },
        },
    }
    return json.dumps(body)


def rows(k: Kubectl, *args: str) -> list[dict[str, str]]:
    return k.table(*args, "-n", NS)


def age_seconds(sim: RunningSim, stamp: str) -> float:
    """How old a timestamp is by the cluster's clock (which `advance` moves ahead of real time)."""
    return (sim.store.clock() - datetime.fromisoformat(stamp).replace(tzinfo=UTC)).total_seconds()


@pytest.fixture
def cluster(sim_factory: SimFactory, kubectl_for: Callable[[RunningSim], Kubectl]) -> tuple[RunningSim, Kubectl]:
    sim = sim_factory("healthy")
    return sim, kubectl_for(sim)


def test_crash_loop_backs_off_10s_then_20s_as_kubectl_shows_it(cluster: tuple[RunningSim, Kubectl]) -> None:
    sim, k = cluster
    crash = manifest("api", "registry.example.com/api:2.0", annotations={}, pod_annotations={BEHAVIOR: CRASHLOOP})
    k.run("apply", "-f", "-", stdin=crash.replace('"replicas": 2', '"replicas": 1'))

    def pod_row(status: str) -> dict[str, str] | None:
        found = [r for r in rows(k, "pods", "-l", "app=api") if r["STATUS"] == status]
        return found[0] if found else None

    # The first exit restarts at once; the second waits 10 s in CrashLoopBackOff.
    first = eventually(lambda: pod_row("CrashLoopBackOff"), what="CrashLoopBackOff")
    assert first["RESTARTS"].startswith("1 (")
    pod = json.loads(k.run("get", "pod", first["NAME"], "-n", NS, "-o", "json").stdout)
    waiting = pod["status"]["containerStatuses"][0]["state"]["waiting"]
    assert waiting["message"].startswith(f"back-off 10s restarting failed container=api pod={first['NAME']}_{NS}(")
    # Real seconds pass without a restart (20 controller passes, >= 1 s): the back-off runs on the cluster's clock.
    sim.wait_ticks(20, timeout=60)
    assert rows(k, "pod", first["NAME"])[0]["RESTARTS"].startswith("1 (")
    sim.advance(11)
    after = eventually(lambda: pod_row("CrashLoopBackOff"), what="the next back-off")
    assert after["RESTARTS"].startswith("2 (")
    message = k.run(
        "get", "pod", first["NAME"], "-n", NS, "-o", "jsonpath={.status.containerStatuses[0].state.waiting.message}"
    ).stdout
    assert message.startswith("back-off 20s restarting failed container=api")
    sim.advance(60)  # 20 s, then 40 s: two more restarts
    assert rows(k, "pod", first["NAME"])[0]["RESTARTS"].startswith("4 (")
    events = rows(k, "events", "--field-selector", f"involvedObject.name={first['NAME']},type=Warning")
    backoff = [r for r in events if r["REASON"] == "BackOff"]
    assert backoff and backoff[0]["MESSAGE"].startswith("Back-off restarting failed container api in pod")


def test_rolled_out_minutes_ago_dates_revisions_built_with_plain_kubectl(cluster: tuple[RunningSim, Kubectl]) -> None:
    sim, k = cluster
    three_days = {ROLLED_OUT_MINUTES_AGO: str(3 * 24 * 60)}
    k.run(
        "apply",
        "-f",
        "-",
        stdin=manifest("shop", "registry.example.com/shop:1.0", annotations=three_days, pod_annotations={}),
    )
    k.run("rollout", "status", "deployment/shop", "-n", NS, "--timeout=30s")
    assert [r["AGE"] for r in rows(k, "rs", "-l", "app=shop")] == ["3d"]
    assert rows(k, "deployment", "shop")[0]["AGE"] == "3d"
    assert {r["AGE"] for r in rows(k, "pods", "-l", "app=shop")} == {"3d"}
    assert {r["STATUS"] for r in rows(k, "pods", "-l", "app=shop")} == {"Running"}

    # A bad deploy half an hour ago: the new template and the annotation in one apply.
    half_hour = {ROLLED_OUT_MINUTES_AGO: "30"}
    bad = manifest(
        "shop", "registry.example.com/shop:2.0", annotations=half_hour, pod_annotations={BEHAVIOR: CRASHLOOP}
    )
    k.run("apply", "-f", "-", stdin=bad)
    eventually(lambda: len(rows(k, "rs", "-l", "app=shop")) == 2, what="the second ReplicaSet")
    by_age = sorted(r["AGE"] for r in rows(k, "rs", "-l", "app=shop"))
    assert by_age == ["30m", "3d"]
    history = k.run("rollout", "history", "deployment/shop", "-n", NS).stdout
    assert [line.split()[0] for line in history.splitlines()[2:] if line.strip()] == ["1", "2"]
    crashing = eventually(
        lambda: [r for r in rows(k, "pods", "-l", "app=shop") if r["STATUS"] == "CrashLoopBackOff"],
        what="the bad revision's pods crash-looping",
    )
    # Half an hour of kubelet back-off: ten restarts (the last five 5 minutes apart), not hundreds.
    assert {r["AGE"] for r in crashing} == {"30m"}
    assert all(r["RESTARTS"].split()[0] in ("10", "11") for r in crashing), crashing
    deploy = json.loads(k.run("get", "deployment", "shop", "-n", NS, "-o", "json").stdout)
    progressing = next(c for c in deploy["status"]["conditions"] if c["type"] == "Progressing")
    assert 29 * 60 < age_seconds(sim, progressing["lastUpdateTime"]) < 31 * 60

    # Rolled back now (the annotation left as it was): revision 3 is dated now, revision 1 ran for three days.
    k.run("rollout", "undo", "deployment/shop", "-n", NS)
    k.run("rollout", "status", "deployment/shop", "-n", NS, "--timeout=30s")
    replicasets = json.loads(k.run("get", "rs", "-n", NS, "-l", "app=shop", "-o", "json").stdout)["items"]
    revisions = {rs["metadata"]["annotations"]["deployment.kubernetes.io/revision"]: rs for rs in replicasets}
    assert set(revisions) == {"2", "3"}  # revision 1's ReplicaSet came back as revision 3
    assert age_seconds(sim, revisions["3"]["metadata"]["creationTimestamp"]) > 3 * DAY


def test_the_clock_endpoint_moves_time_and_refuses_bad_input(cluster: tuple[RunningSim, Kubectl]) -> None:
    sim, _ = cluster

    def post(body: Any) -> tuple[int, dict[str, Any]]:
        request = urllib.request.Request(
            f"{sim.url}/sim/clock",
            data=json.dumps(body).encode(),
            method="POST",
            headers={"Content-Type": "application/json"},
        )
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                return response.status, json.loads(response.read())
        except urllib.error.HTTPError as e:
            return e.code, json.loads(e.read())

    # The endpoint answers in whole seconds (as the API server's timestamps), so `before` is taken to the second too;
    # the live clock also moves with the real time the request takes (`waited`, however loaded the machine).
    started = time.monotonic()
    before = sim.store.clock().replace(microsecond=0)
    status, body = post({"advanceSeconds": 600})
    waited = time.monotonic() - started
    assert status == 200
    moved = (datetime.fromisoformat(body["time"]).replace(tzinfo=UTC) - before).total_seconds()
    assert 600 <= moved <= 600 + math.ceil(waited + 0.001), (moved, waited)
    for bad in ({"advanceSeconds": -5}, {"advanceSeconds": "10m"}, {"seconds": 5}, {"advanceSeconds": 10**9}):
        status, body = post(bad)
        assert status == 400 and "advanceSeconds" in body["message"], (bad, body)

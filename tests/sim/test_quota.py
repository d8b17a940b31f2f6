"""ResourceQuota in the simulated cluster, with real kubectl as the oracle: the API and its columns, status.used kept
by the quota controller, admission's 403 in upstream's words, and the ReplicaSet/Deployment story of a scale-up the
quota refuses (FailedCreate event, ReplicaFailure condition) until the quota is raised."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest
from support.kubectl_runner import Kubectl
from support.sims import SimFactory

from incident_response.sim.resources import DEPLOYMENTS, EVENTS, RESOURCEQUOTAS
from incident_response.sim.serve import RunningSim

NS = "shop"
# the shop runs 16 pods asking 3700m CPU in all; api: 3 pods of 200m (limit 400m)
QUOTA = f"""
apiVersion: v1
kind: ResourceQuota
metadata: {{name: compute, namespace: {NS}}}
spec:
  hard: {{pods: "30", requests.cpu: "5.2", requests.memory: 8192Mi, limits.cpu: "12", limits.memory: 16Gi}}
"""


@pytest.fixture
def quota_sim(sim_factory: SimFactory, kubectl_for: Callable[[RunningSim], Kubectl]) -> tuple[RunningSim, Kubectl]:
    sim = sim_factory("healthy")
    k = kubectl_for(sim)
    k.run("apply", "-f", "-", stdin=QUOTA)
    assert sim.cluster.run_until(lambda: bool(_quota(sim).get("status")), timeout=5)
    return sim, k


def _quota(sim: RunningSim) -> dict[str, object]:
    return dict(sim.store.peek(RESOURCEQUOTAS, NS, "compute") or {})


def _used(sim: RunningSim) -> dict[str, str]:
    return dict((_quota(sim).get("status") or {}).get("used") or {})  # type: ignore[attr-defined]


def test_get_and_describe_quota_show_used_against_hard(quota_sim: tuple[RunningSim, Kubectl]) -> None:
    sim, k = quota_sim
    rows = k.table("quota", "-n", NS)
    assert [r["NAME"] for r in rows] == ["compute"]
    assert rows[0]["REQUEST"] == "pods: 16/30, requests.cpu: 3700m/5200m, requests.memory: 4864Mi/8Gi"
    assert rows[0]["LIMIT"] == "limits.cpu: 7600m/12, limits.memory: 9Gi/16Gi"
    described = k.run("describe", "quota", "compute", "-n", NS).stdout
    lines = [line.split() for line in described.splitlines()]
    assert ["pods", "16", "30"] in lines
    assert ["requests.cpu", "3700m", "5200m"] in lines
    assert ["limits.memory", "9Gi", "16Gi"] in lines
    # the API server stores hard's quantities canonically (5.2 -> 5200m, 8192Mi -> 8Gi)
    assert json.loads(k.run("get", "quota", "compute", "-n", NS, "-o", "jsonpath={.spec.hard}").stdout) == {
        "limits.cpu": "12",
        "limits.memory": "16Gi",
        "pods": "30",
        "requests.cpu": "5200m",
        "requests.memory": "8Gi",
    }


def test_a_pod_past_the_quota_is_forbidden_in_upstreams_words(quota_sim: tuple[RunningSim, Kubectl]) -> None:
    sim, k = quota_sim
    k.run("patch", "quota", "compute", "-n", NS, "--type=merge", "-p", '{"spec":{"hard":{"pods":"16"}}}')
    assert sim.cluster.run_until(lambda: _quota(sim)["status"]["hard"]["pods"] == "16", timeout=5)  # type: ignore[index]
    pod = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "extra", "namespace": NS},
        "spec": {
            "containers": [
                {"name": "extra", "image": "busybox", "resources": {"limits": {"cpu": "100m", "memory": "64Mi"}}}
            ]
        },
    }
    done = k.run("apply", "-f", "-", stdin=json.dumps(pod), check=False)
    assert done.returncode == 1
    assert (
        'pods "extra" is forbidden: exceeded quota: compute, requested: pods=1, used: pods=16, limited: pods=16'
        in done.stderr
    ), done.stderr
    assert "Error from server (Forbidden)" in done.stderr
    # a server-side dry run is refused the same way (admission runs, nothing is stored)
    dry = k.run("apply", "--dry-run=server", "-f", "-", stdin=json.dumps(pod), check=False)
    assert "exceeded quota: compute" in dry.stderr
    # a container that leaves a quota'd compute resource unset is refused before any sum
    del pod["spec"]["containers"][0]["resources"]  # type: ignore[index]
    bare = k.run("apply", "-f", "-", stdin=json.dumps(pod), check=False)
    assert (
        'pods "extra" is forbidden: failed quota: compute: must specify limits.cpu for: extra; limits.memory for: '
        "extra; requests.cpu for: extra; requests.memory for: extra" in bare.stderr
    ), bare.stderr


def test_a_scale_up_past_the_quota_fails_create_until_the_quota_is_raised(
    quota_sim: tuple[RunningSim, Kubectl],
) -> None:
    sim, k = quota_sim
    # api (no HPA to undo the scale): 9 more pods of 200m; 7 fit in 5200m - 3700m
    k.run("scale", "deploy/api", "-n", NS, "--replicas=12")
    refused = (
        "exceeded quota: compute, requested: requests.cpu=200m, used: requests.cpu=5100m, limited: requests.cpu=5200m"
    )

    def failure() -> bool:
        conditions = k.json("get", "deploy", "api", "-n", NS)["status"].get("conditions", [])
        return any(c["type"] == "ReplicaFailure" for c in conditions)

    assert sim.cluster.run_until(lambda: _used(sim).get("requests.cpu") == "5100m", timeout=5)
    assert sim.cluster.run_until(failure, timeout=5)
    deploy = k.json("get", "deploy", "api", "-n", NS)
    cond = next(c for c in deploy["status"]["conditions"] if c["type"] == "ReplicaFailure")
    assert (cond["status"], cond["reason"]) == ("True", "FailedCreate")
    assert refused in cond["message"] and cond["message"].startswith('pods "api-')
    assert deploy["status"]["replicas"] == 10
    events = k.run("get", "events", "-n", NS, "--field-selector=reason=FailedCreate").stdout
    assert "Warning   FailedCreate" in events and 'Error creating: pods "api-' in events and refused in events
    described = k.run("describe", "deploy", "api", "-n", NS).stdout
    assert any(line.split() == ["ReplicaFailure", "True", "FailedCreate"] for line in described.splitlines())

    # Raising the quota lets the ReplicaSet create the last pod at once (no back-off wait) and clears the condition.
    k.run("patch", "quota", "compute", "-n", NS, "--type=merge", "-p", '{"spec":{"hard":{"requests.cpu":"8"}}}')

    def recovered() -> bool:
        d = sim.store.peek(DEPLOYMENTS, NS, "api") or {}
        status = d.get("status") or {}
        kinds = [c.get("type") for c in status.get("conditions") or []]
        return status.get("readyReplicas") == 12 and "ReplicaFailure" not in kinds

    assert sim.cluster.run_until(recovered, timeout=10)
    assert _used(sim)["pods"] == "25"


def test_refused_creates_are_retried_with_back_off_not_every_tick(quota_sim: tuple[RunningSim, Kubectl]) -> None:
    sim, k = quota_sim
    k.run("patch", "quota", "compute", "-n", NS, "--type=merge", "-p", '{"spec":{"hard":{"pods":"16"}}}')
    k.run("scale", "deploy/api", "-n", NS, "--replicas=4")

    def failed_creates() -> int:
        return sum(int(e.get("count") or 1) for e in sim.store.items(EVENTS, NS) if e.get("reason") == "FailedCreate")

    assert sim.cluster.run_until(lambda: failed_creates() >= 1, timeout=5)
    sim.advance(30)  # back-off 1, 2, 4, 8, 16 s: a handful of tries in 30 s, not 600 ticks' worth
    assert 3 <= failed_creates() <= 7

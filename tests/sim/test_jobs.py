"""The Job controller, with real kubectl as the oracle: a migration Job whose image exits 1 makes a new pod after
each failure (10 s, then 20 s of back-off) and fails with BackoffLimitExceeded once more pods failed than its
backoffLimit ("Job has reached the specified backoff limit"); one whose image exits 0 completes. `kubectl get job`
shows STATUS, COMPLETIONS and DURATION as a real cluster does, `describe` the conditions and events."""

from __future__ import annotations

import json
from collections.abc import Callable

from conftest import SimFactory
from support.kubectl_runner import Kubectl
from support.polling import eventually

from incident_response.sim import behaviors
from incident_response.sim.serve import RunningSim

NS = "shop"
BAD = "registry.example.com/shop/api-migrate:3.4.0"
GOOD = "registry.example.com/shop/api-migrate:3.3.0"


def job(name: str, image: str, backoff_limit: int) -> str:
    return json.dumps(
        {
            "apiVersion": "batch/v1",
            "kind": "Job",
            "metadata": {"name": name, "namespace": NS, "labels": {"app": "api"}},
            "spec": {
                "backoffLimit": backoff_limit,
                "template": {"spec": {"restartPolicy": "Never", "containers": [{"name": "migrate", "image": image}]}},
            },
        }
    )


def row(k: Kubectl, name: str) -> dict[str, str]:
    [found] = [r for r in k.table("jobs", "-n", NS) if r["NAME"] == name]
    return found


def test_a_failing_migration_job_fails_with_backoff_limit_exceeded(
    sim_factory: SimFactory, kubectl_for: Callable[[RunningSim], Kubectl]
) -> None:
    sim = sim_factory("healthy")
    sim.cluster.images[BAD] = {behaviors.BEHAVIOR: behaviors.CRASHLOOP}
    sim.cluster.images[GOOD] = {behaviors.BEHAVIOR: behaviors.COMPLETE}
    k = kubectl_for(sim)
    k.run("apply", "-f", "-", stdin=job("api-migrate-3-4-0", BAD, 2))
    k.run("apply", "-f", "-", stdin=job("api-migrate-3-3-0", GOOD, 2))
    eventually(lambda: row(k, "api-migrate-3-3-0")["STATUS"] == "Complete", what="the good migration complete")
    assert row(k, "api-migrate-3-3-0")["COMPLETIONS"] == "1/1"

    eventually(
        lambda: (
            row(k, "api-migrate-3-4-0")["STATUS"] == "Running"
            and k.table("pods", "-n", NS, "-l", "job-name=api-migrate-3-4-0")
        ),
        what="the bad migration's first pod",
    )
    for _ in range(3):  # each failure waits out the pod failure back-off before the next pod (10 s, 20 s)
        sim.cluster.advance(25, step=1.0)
    eventually(lambda: row(k, "api-migrate-3-4-0")["STATUS"] == "Failed", what="the bad migration failed")
    assert row(k, "api-migrate-3-4-0")["COMPLETIONS"] == "0/1"
    pods = k.table("pods", "-n", NS, "-l", "batch.kubernetes.io/job-name=api-migrate-3-4-0")
    assert [r["STATUS"] for r in pods] == ["Error"] * 3, pods  # backoffLimit 2: the third failure ends it
    described = " ".join(k.run("describe", "job", "api-migrate-3-4-0", "-n", NS).stdout.split())
    assert "Pods Statuses: 0 Active (0 Ready) / 0 Succeeded / 3 Failed" in described, described
    assert "Warning BackoffLimitExceeded" in described and "Job has reached the specified backoff limit" in described
    conditions = k.json("get", "job", "api-migrate-3-4-0", "-n", NS)["status"]["conditions"]
    assert [(c["type"], c["reason"]) for c in conditions] == [
        ("FailureTarget", "BackoffLimitExceeded"),
        ("Failed", "BackoffLimitExceeded"),
    ], conditions
    assert behaviors.PREFIX not in described

"""A Job still retrying is not called failed on a Warning alone, through an MCP client (review R7).

Events are anyone's to write: a BackoffLimitExceeded Warning on a Job whose status has no Failed=True condition (the
sim's Job controller is still retrying it within its backoffLimit) must not make assess_namespace say "Job X failed
... A failed Job is not retried". Before, the Warning alone named it failed. The real failure (status Failed=True) is
still named: tests/e2e/test_failed_migration_job.py.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path

import pytest
from mcp import Client
from support.mitigation_env import NS, make_env
from support.result_rule import budgeted

from incident_response.sim import behaviors
from incident_response.sim.serve import RunningSim

pytestmark = pytest.mark.anyio

MIGRATE = "registry.example.com/shop/api-migrate:3.4.0"
JOB = "api-migrate-3-4-0"


async def test_a_forged_backoff_warning_on_a_retrying_job_is_not_a_failed_job(
    sim_factory: Callable[..., RunningSim], tmp_path: Path
) -> None:
    sim = sim_factory("healthy")
    env = make_env(sim, tmp_path / "state")
    sim.cluster.images[MIGRATE] = {behaviors.BEHAVIOR: behaviors.CRASHLOOP}
    template = {"spec": {"restartPolicy": "Never", "containers": [{"name": "migrate", "image": MIGRATE}]}}
    job = {"metadata": {"name": JOB, "namespace": NS}, "spec": {"backoffLimit": 6, "template": template}}
    env.kube.create("jobs", job, NS)

    def status() -> dict[str, object]:
        return dict(env.get("jobs", JOB).get("status") or {})

    for _ in range(12):  # the first try fails within seconds of cluster time; the next waits out a 10 s back-off
        if int(str(status().get("failed") or 0)) >= 1:
            break
        sim.cluster.advance(1, step=1.0)
    assert int(str(status().get("failed") or 0)) >= 1 and not status().get("conditions"), status()
    stamp = dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    forged = {
        "metadata": {"name": f"{JOB}.forged", "namespace": NS},
        "involvedObject": {"kind": "Job", "name": JOB, "namespace": NS, "apiVersion": "batch/v1"},
        "reason": "BackoffLimitExceeded",
        "type": "Warning",
        "message": "Job has reached the specified backoff limit",
        "source": {"component": "job-controller"},
        "firstTimestamp": stamp,
        "lastTimestamp": stamp,
        "count": 1,
    }
    env.kube.create("events", forged, NS)
    async with Client(env.server("safe")) as client:
        assessed = await budgeted(client, "assess_namespace", namespace=NS)

    problem = next(p for p in assessed["problems"] if p["components"] == [JOB])
    assert problem["rule"] != "the Job failed", problem
    assert "not retried" not in str(problem) and f"Job {JOB} failed" not in str(problem), problem

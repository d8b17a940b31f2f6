"""A migration Job that failed (BackoffLimitExceeded) beside the release it prepared, through an MCP client.

api 3.4.0 rolls out and crashes; its migration Job api-migrate-3-4-0 (labelled app=api, `migrate up`) ran out of
retries: the sim's Job controller made a pod per try and marked the Job Failed, BackoffLimitExceeded. Before:
- assess_namespace listed each of the Job's failed pods as a problem of its own (one INVESTIGATE per pod), and a Job
  pod labelled like the app would have been counted as the app Deployment's own failing pod;
- check_rollback_safety asked only whether the migration "is forward-only", as if it had run through.
Now the Job's pods are one component (the Job) whose problem names the job controller's BackoffLimitExceeded, and
the migration check says the Job failed (the schema may be half migrated) and asks what it left.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from mcp import Client
from support.mitigation_env import NS, make_env
from support.result_rule import budgeted

from incident_response.sim import behaviors
from incident_response.sim.serve import RunningSim

pytestmark = pytest.mark.anyio

BAD = "registry.example.com/shop/api:3.4.0"
MIGRATE = "registry.example.com/shop/api-migrate:3.4.0"
JOB = "api-migrate-3-4-0"


async def test_a_failed_migration_job_is_one_problem_and_its_failure_is_asked_about(
    sim_factory: Callable[..., RunningSim], tmp_path: Path
) -> None:
    sim = sim_factory("healthy")
    env = make_env(sim, tmp_path / "state")
    sim.cluster.images[MIGRATE] = {behaviors.BEHAVIOR: behaviors.CRASHLOOP}
    sim.cluster.images[BAD] = {behaviors.BEHAVIOR: behaviors.CRASHLOOP}
    template = {
        "metadata": {"labels": {"app": "api"}},  # the app's label on the Job's pods, as charts often give them
        "spec": {"restartPolicy": "Never", "containers": [{"name": "migrate", "image": MIGRATE, "args": ["up"]}]},
    }
    job = {"metadata": {"name": JOB, "namespace": NS, "labels": {"app": "api"}}, "spec": {"backoffLimit": 1}}
    job["spec"]["template"] = template
    env.kube.create("jobs", job, NS)

    def job_failed() -> bool:
        conditions = (env.get("jobs", JOB).get("status") or {}).get("conditions") or []
        return any(c.get("type") == "Failed" and c.get("status") == "True" for c in conditions)

    for _ in range(12):  # the second try waits out the 10 s pod failure back-off: a minute of cluster time at most
        if job_failed():
            break
        sim.cluster.advance(5, step=1.0)
    assert job_failed(), env.get("jobs", JOB).get("status")
    patch = {"spec": {"template": {"spec": {"containers": [{"name": "api", "image": BAD}]}}}}
    env.kube.patch("deployments", "api", patch, NS, patch_type="strategic")

    def api_crashed() -> bool:
        statuses = [s for p in env.pods("app=api") for s in (p.get("status") or {}).get("containerStatuses") or []]
        return any(s.get("image") == BAD and s.get("restartCount", 0) > 0 for s in statuses)

    await env.until(api_crashed, 30)
    async with Client(env.server("safe")) as client:
        assessed = await budgeted(client, "assess_namespace", namespace=NS)
        safety = await budgeted(client, "check_rollback_safety", namespace=NS, deployment="api")

    components = [c for p in assessed["problems"] for c in p["components"]]
    assert sorted(components) == ["api", JOB], assessed["problems"]
    api = next(p for p in assessed["problems"] if p["components"] == ["api"])
    assert "1 pods failing" in api["detail"], api  # the Job's failed pods are not api's
    job_problem = next(p for p in assessed["problems"] if p["components"] == [JOB])
    # its cause is named (the job controller's BackoffLimitExceeded), not "without a clear cause"; its logs say why
    assert (job_problem["rule"], job_problem["next_tool"]) == ("the Job failed", "get_logs"), job_problem
    migrations = next(i for i in safety["items"] if i["check"] == "migrations")
    assert any(
        f"job/{JOB} created" in e
        and "failed: BackoffLimitExceeded (2 pods failed): the schema may be half migrated" in e
        for e in migrations["evidence"]
    ), migrations
    assert f"job/{JOB} failed: did it change the schema part way" in " ".join(safety["questions_for_human"])

"""What fills a quota (tools/k8s/quota_holders.py): pods grouped by what owns them, the largest first."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from support.builders import NOW, pod

from incident_response.tools.k8s.quota_holders import holder_of, holders, holders_text

CPU = {"requests": {"cpu": "200m"}, "limits": {"cpu": "400m"}}


def job_pod(name: str, job: str, *, age: timedelta = timedelta(hours=2), phase: str = "Running") -> dict[str, Any]:
    made = pod(name, phase=phase, age=age, resources={"requests": {"cpu": "100m"}})
    made["metadata"]["ownerReferences"] = [{"kind": "Job", "name": job, "controller": True, "uid": f"uid-{job}"}]
    return made


def quota(**spec: Any) -> dict[str, Any]:
    return {"metadata": {"name": "q"}, "spec": spec}


def test_pods_are_grouped_by_their_workload_and_cronjob_runs_by_their_cronjob() -> None:
    assert holder_of(pod("web-abc123-x", deployment="web")) == "deployment web"
    assert holder_of(job_pod("r-1", "nightly-report-29260000")) == "Jobs nightly-report-*"
    assert holder_of(job_pod("m-1", "migrate")) == "Job migrate"  # a Job no CronJob named
    assert holder_of(pod("debug")) == "pod debug"


def test_the_largest_holder_first_and_a_batch_group_before_a_serving_one_of_the_same_size() -> None:
    pods = [
        *[job_pod(f"r-{i}", f"nightly-report-2926000{i}") for i in range(3)],
        *[pod(f"web-{i}", deployment="web") for i in range(3)],
        *[pod(f"api-{i}", deployment="api") for i in range(5)],
    ]
    found = holders(quota(hard={"pods": "11"}), "pods", pods)
    assert [(h.what, h.pods) for h in found] == [
        ("deployment api", 5),
        ("Jobs nightly-report-*", 3),
        ("deployment web", 3),
    ]
    text = holders_text(None, "pods", pods, NOW, leave_out="deployment api")
    assert text == "what holds it: Jobs nightly-report-* 3 pods (oldest 120m), deployment web 3 pods", text


def test_finished_pods_and_pods_out_of_the_quotas_scope_hold_nothing() -> None:
    pods = [
        job_pod("done", "nightly-report-29260000", phase="Succeeded"),
        job_pod("failed", "nightly-report-29260001", phase="Failed"),
        pod("besteffort", deployment="idle"),  # no resources: out of a NotBestEffort quota
        pod("web-1", deployment="web", resources=CPU),
    ]
    found = holders(quota(hard={"pods": "4"}, scopes=["NotBestEffort"]), "pods", pods)
    assert [(h.what, h.pods) for h in found] == [("deployment web", 1)]


def test_a_compute_resource_is_said_per_pod_and_in_total() -> None:
    pods = [pod(f"web-{i}", deployment="web", resources=CPU) for i in range(6)]
    pods.append(pod("odd", deployment="odd", resources={"requests": {"cpu": "1"}}))
    pods.append(pod("odd-2", deployment="odd", resources={"requests": {"cpu": "500m"}}))
    text = holders_text(None, "requests.cpu", pods, NOW)
    assert text == "what holds it: deployment odd 2 pods x mixed = 1500m, deployment web 6 pods x 200m = 1200m", text
    assert holders_text(None, "requests.memory", pods, NOW) == ""  # nobody asks memory: nothing holds it


def test_more_holders_than_shown_are_counted() -> None:
    pods = [pod(f"d{i}", deployment=f"d{i}") for i in range(5)]
    assert holders_text(None, "pods", pods, NOW).endswith(" and 2 more")

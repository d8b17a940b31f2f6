from __future__ import annotations

from typing import Any

import pytest
from support.builders import NOW, container_status, pod

from incident_response.tools.k8s.podstatus import component_of, kubectl_status, owner_of, pod_row


def init_pod(state: dict[str, Any]) -> dict[str, Any]:
    p: dict[str, Any] = pod(
        "web-1", phase="Pending", containers=[container_status(ready=False, waiting="PodInitializing")]
    )
    p["spec"]["initContainers"] = [{"name": "migrate"}]
    p["status"]["initContainerStatuses"] = [{"name": "migrate", "state": state, "restartCount": 0}]
    return p


@pytest.mark.parametrize(
    ("built", "expected"),
    [
        (pod("a"), "Running"),
        (
            pod("a", containers=[container_status(ready=False, waiting="CrashLoopBackOff", restarts=4)]),
            "CrashLoopBackOff",
        ),
        (pod("a", containers=[container_status(ready=False, waiting="ImagePullBackOff")]), "ImagePullBackOff"),
        (pod("a", containers=[container_status(ready=False, terminated="OOMKilled", exit_code=137)]), "OOMKilled"),
        (pod("a", containers=[container_status(ready=False, terminated="", exit_code=2)]), "ExitCode:2"),
        (
            pod(
                "a", phase="Succeeded", containers=[container_status(ready=False, terminated="Completed", exit_code=0)]
            ),
            "Completed",
        ),
        (pod("a", deleting=True), "Terminating"),
        (pod("a", phase="Pending", containers=[]), "Pending"),
        (init_pod({"waiting": {"reason": "PodInitializing"}}), "Init:0/1"),
        (init_pod({"terminated": {"reason": "Error", "exitCode": 1}}), "Init:Error"),
        (init_pod({"waiting": {"reason": "CrashLoopBackOff"}}), "Init:CrashLoopBackOff"),
    ],
)
def test_kubectl_status_matches_kubectls_printer(built: dict[str, Any], expected: str) -> None:
    assert kubectl_status(built) == expected


def test_pod_row_prefers_the_tables_status_and_flags_problems() -> None:
    crashing = pod(
        "web-1",
        deployment="web",
        containers=[container_status(ready=False, waiting="CrashLoopBackOff", restarts=7, last_terminated="Error")],
    )
    row = pod_row(crashing, NOW, status="CrashLoopBackOff")
    assert (row.status, row.ready, row.restarts, row.problem) == ("CrashLoopBackOff", "0/1", 7, True)
    assert row.last_termination is not None and row.last_termination.reason == "Error"
    assert row.owner == "deployment/web"
    assert pod_row(pod("ok"), NOW, status="Running").problem is False
    assert pod_row(pod("done", phase="Succeeded"), NOW, status="Completed").problem is False


def test_component_is_the_owning_deployment_else_the_app_label() -> None:
    assert component_of(pod("web-abc123-x", deployment="web")) == "web"
    assert component_of(pod("solo", labels={"app": "cache"})) == "cache"
    assert owner_of(pod("solo")) is None

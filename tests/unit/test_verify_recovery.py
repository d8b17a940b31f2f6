"""verify_recovery's pure parts: how a pod is judged, which warnings count, the endpoints rule and the verdict."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from support.builders import NOW, container_status, event, pod, service, ts

from incident_response.tools.k8s.podstatus import pod_row
from incident_response.tools.k8s.usage import pod_usage_rows
from incident_response.tools.k8s.workloads import RolloutProgress
from incident_response.tools.playbook.recovery_checks import (
    SETTLING_RECHECK,
    CheckName,
    PodFacts,
    RecoveryCheck,
    endpoints_check,
    pod_facts,
    pods_check,
    resources_check,
    restarts_check,
    verdict_of,
    warning_groups,
    warnings_check,
)

WINDOW = timedelta(minutes=5)


def facts(p: dict[str, Any]) -> PodFacts:
    return pod_facts(p, pod_row(p, NOW), NOW, WINDOW)


def exited(ago: timedelta, *, ready: bool = True, waiting: str | None = None) -> dict[str, Any]:
    status = container_status("web", ready=ready, restarts=3, waiting=waiting)
    status["lastState"] = {"terminated": {"reason": "Error", "exitCode": 1, "finishedAt": ts(ago)}}
    return status


def progress(done: bool = True, failed: bool = False) -> RolloutProgress:
    return RolloutProgress(
        done=done,
        failed=failed,
        message="rollout message",
        desired=2,
        updated=2,
        ready=2,
        available=2,
        unavailable=0,
        revision=4,
    )


def passed(name: CheckName, value: bool | None) -> RecoveryCheck:
    return RecoveryCheck(name=name, passed=value, detail="", evidence=[])


# --- how one pod is judged -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("built", "expected"),
    [
        (pod("web-1"), "ready"),
        (
            pod(
                "web-1",
                phase="Pending",
                containers=[container_status(ready=False, waiting="ContainerCreating")],
                age=timedelta(seconds=30),
            ),
            "starting",
        ),
        (pod("web-1", containers=[container_status(ready=False)], age=timedelta(minutes=1)), "starting"),
        (pod("web-1", containers=[container_status(ready=False)], age=timedelta(hours=2)), "failing"),
        (
            pod(
                "web-1",
                phase="Pending",
                containers=[container_status(ready=False, waiting="ContainerCreating")],
                age=timedelta(minutes=20),
            ),
            "failing",
        ),
        (
            pod(
                "web-1",
                containers=[container_status(ready=False, waiting="ImagePullBackOff")],
                age=timedelta(seconds=10),
            ),
            "failing",
        ),
        (
            pod(
                "web-1",
                containers=[exited(timedelta(seconds=20), ready=False, waiting="CrashLoopBackOff")],
                age=timedelta(seconds=60),
            ),
            "failing",
        ),
        (pod("web-1", containers=[exited(timedelta(seconds=20), ready=False)], age=timedelta(seconds=60)), "failing"),
        (pod("web-1", deleting=True, containers=[container_status(ready=False)]), "terminating"),
    ],
)
def test_a_pod_is_ready_starting_failing_or_terminating(built: dict[str, Any], expected: str) -> None:
    f = facts(built)
    state = "terminating" if f.terminating else "ready" if f.ready else "starting" if f.starting else "failing"
    assert state == expected, f.failing


def test_only_container_exits_inside_the_window_count_and_a_completed_init_container_is_not_one() -> None:
    old = facts(pod("web-1", containers=[exited(timedelta(minutes=30))]))
    recent = facts(pod("web-1", containers=[exited(timedelta(minutes=2))]))
    init = pod("web-1")
    init["status"]["initContainerStatuses"] = [
        {"name": "migrate", "state": {"terminated": {"reason": "Completed", "exitCode": 0, "finishedAt": ts()}}}
    ]
    assert old.recent_exits == [] and facts(init).recent_exits == []
    assert recent.recent_exits == ["container web: Error (exit 1) 2m ago"]
    assert recent.ready and recent.failing is None  # Ready again: the restarts check is the one that fails


def test_restarts_fail_on_a_recent_exit_or_a_crash_loop_and_pass_on_old_restarts() -> None:
    cycling = [facts(pod("web-1", containers=[exited(timedelta(minutes=1))])), facts(pod("web-2"))]
    looping = [facts(pod("web-1", containers=[container_status(ready=False, restarts=9, waiting="CrashLoopBackOff")]))]
    calm = [facts(pod("web-1", containers=[exited(timedelta(hours=1))]))]
    assert restarts_check(cycling, 5).check.passed is False
    assert restarts_check(cycling, 5).check.evidence == ["web-1: 3 restarts; container web: Error (exit 1) 60s ago"]
    assert restarts_check(looping, 5).check.passed is False
    assert restarts_check(calm, 5).check.passed is True
    assert "3 older restarts" in restarts_check(calm, 5).check.detail
    looping_evidence = restarts_check(looping, 5).check.evidence
    assert looping_evidence == ["web-1: CrashLoopBackOff (app); 9 restarts"]  # no dangling separator


# --- the pods check ------------------------------------------------------------------------------------------------


def test_pods_pass_only_when_the_desired_count_is_ready_and_the_rollout_is_complete() -> None:
    ready = [facts(pod("web-1")), facts(pod("web-2"))]
    starting = [
        facts(pod("web-1")),
        facts(pod("web-2", containers=[container_status(ready=False)], age=timedelta(seconds=20))),
    ]
    assert pods_check(ready, 2, progress(), truncated=False).check.passed is True
    waiting = pods_check(starting, 2, progress(done=False), truncated=False)
    assert waiting.check.passed is None and waiting.settling == ["pods 1/2 ready (2 running, 1 starting)"]
    assert pods_check(ready, 3, progress(), truncated=False).check.passed is None  # a third pod yet to come
    assert pods_check(ready, 2, progress(done=False, failed=True), truncated=False).check.passed is False


def test_when_not_every_pod_could_be_read_the_count_comes_from_the_deployment_status() -> None:
    read = [facts(pod("web-1"))]  # one of the two pods made it into the capped list
    assert pods_check(read, 2, progress(), truncated=True).check.passed is True
    assert "by the deployment's status (1 of its pods read, none failing)" in (
        pods_check(read, 2, progress(), truncated=True).check.detail
    )
    assert pods_check(read, 2, progress(), truncated=False).check.passed is None  # complete list: one is missing
    assert pods_check(read, 2, progress(done=False), truncated=True).check.passed is None
    failing = [facts(pod("web-1", containers=[container_status(ready=False)], age=timedelta(hours=2)))]
    assert pods_check(failing, 2, progress(), truncated=True).check.passed is False


def test_a_paused_unfinished_rollout_waits_on_a_human_and_says_how_to_resume_it() -> None:
    ready = [facts(pod("web-1")), facts(pod("web-2"))]
    resume = "kubectl rollout resume deployment/web -n shop --context prod"
    paused = pods_check(ready, 2, progress(done=False), truncated=False, resume_command=resume)
    assert paused.check.passed is None and paused.settling == []
    assert paused.blocked and resume in paused.blocked[0] and resume in paused.check.detail
    # Paused after the rollout finished: nothing is waiting.
    assert pods_check(ready, 2, progress(), truncated=False, resume_command=resume).check.passed is True
    # Waiting alone changes nothing, so there is no time to call again; a failure still wins.
    assert verdict_of(ALL_PASS, [], NOW - timedelta(hours=1), NOW, WINDOW, paused.blocked) == ("RECOVERING", None)
    failing = [passed("pods", False), *ALL_PASS[1:]]
    assert verdict_of(failing, [], None, NOW, WINDOW, paused.blocked) == ("DEGRADED", None)


def test_scaled_to_zero_passes_pods_but_a_service_left_without_ready_endpoints_fails() -> None:
    gone = pods_check([], 0, progress(), truncated=False)
    assert gone.check.passed is True and gone.check.detail.startswith("scaled to 0")
    svc = service("api", {"app": "api"})
    alone = endpoints_check("api", [(svc, {})], [], 0, NOW)
    assert alone.check.passed is False
    assert alone.check.detail == "service api has no ready endpoints: it sends traffic nowhere (api is scaled to 0)"
    # The canary scaled away behind a Service the stable pods still serve: nothing is wrong with the Service.
    shared = endpoints_check(
        "web-canary", [(service("web", {"app": "web"}), endpoints(["web-stable-1"], []))], [], 0, NOW
    )
    assert shared.check.passed is True


# --- endpoints -----------------------------------------------------------------------------------------------------


def endpoints(ready: list[str], not_ready: list[str]) -> dict[str, Any]:
    subset = {
        "addresses": [{"ip": f"10.0.0.{i}", "targetRef": {"kind": "Pod", "name": n}} for i, n in enumerate(ready)],
        "notReadyAddresses": [
            {"ip": f"10.0.1.{i}", "targetRef": {"kind": "Pod", "name": n}} for i, n in enumerate(not_ready)
        ],
    }
    return {"subsets": [subset]}


def test_endpoints_fail_on_a_failing_pod_wait_on_a_starting_one_and_say_when_no_service_fronts_it() -> None:
    svc = service("web", {"app": "web"})
    good = facts(pod("web-1", labels={"app": "web"}))
    new = facts(pod("web-2", labels={"app": "web"}, containers=[container_status(ready=False)], age=timedelta(0)))
    bad = facts(pod("web-2", labels={"app": "web"}, containers=[container_status(ready=False)], age=timedelta(days=1)))
    assert endpoints_check("web", [(svc, endpoints(["web-1"], []))], [good], 1, NOW).check.passed is True
    waiting = endpoints_check("web", [(svc, endpoints(["web-1"], ["web-2"]))], [good, new], 2, NOW)
    assert waiting.check.passed is None and waiting.settling
    failing = endpoints_check("web", [(svc, endpoints(["web-1"], ["web-2"]))], [good, bad], 2, NOW)
    assert failing.check.passed is False and "web-2 not ready" in failing.check.detail
    empty = endpoints_check("web", [(svc, {})], [good], 1, NOW)
    assert empty.check.passed is False and "no ready endpoints" in empty.check.detail
    alone = endpoints_check("web", [], [good], 1, NOW)
    assert alone.check.passed is None and alone.settling == [] and "no Service selects web's pods" in alone.check.detail


# --- warnings ------------------------------------------------------------------------------------------------------


def test_warnings_count_the_deployment_its_replicasets_and_current_pods_not_replaced_ones_or_old_ones() -> None:
    current = facts(pod("web-abc123-aaaaa", deployment="web"))
    events = [
        event("BackOff", "back-off", involved="web-abc123-aaaaa"),
        event("FailedCreate", "quota", involved="web-abc123", kind="ReplicaSet"),
        event("BackOff", "back-off", involved="web-bad999-zzzzz"),  # a pod the rollback replaced
        event("BackOff", "back-off", involved="api-555-qqqqq"),  # another deployment's pod
        event("BackOff", "back-off", involved="web-abc123-aaaaa", ago=timedelta(minutes=30)),  # before the window
    ]
    groups, ignored = warning_groups(events, "web", ["web-abc123", "web-bad999"], [current], NOW, WINDOW)
    assert sorted((g.reason, g.object) for g in groups) == [
        ("BackOff", "pod/web-abc123-aaaaa"),
        ("FailedCreate", "replicaset/web-abc123"),
    ]
    assert ignored == 1


def test_only_warnings_since_the_current_state_began_count_when_it_began_inside_the_window() -> None:
    current = [facts(pod("web-abc123-aaaaa", deployment="web"))]
    events = [
        event("Unhealthy", "probe", involved="web-abc123-aaaaa", ago=timedelta(minutes=3)),  # what it answered
        event("BackOff", "back-off", involved="web-abc123-aaaaa", ago=timedelta(seconds=30)),  # since
    ]
    began = timedelta(minutes=1)
    after, _ = warning_groups(events, "web", ["web-abc123"], current, NOW, began)
    assert [g.reason for g in after] == ["BackOff"]
    since = "11:59:00 UTC, when the current state began"
    failing = warnings_check(after, 0, 5, earlier=1, since=since).check
    assert failing.passed is False and failing.detail == (
        "1 Warning event since 11:59:00 UTC, when the current state began, newest BackOff on pod/web-abc123-aaaaa; "
        "1 more from before then, not counted"
    )
    quiet = warnings_check([], 0, 5, earlier=18, since=since).check
    assert quiet.passed is True
    assert quiet.detail == f"no Warning events since {since}; 18 more from before then, not counted"


def test_warning_messages_in_the_evidence_have_their_credentials_masked() -> None:
    leaky = event(
        "Unhealthy", "probe failed: dial postgres://checkout:s3cr3t@orders-db:5432 password=hunter2", involved="web-1"
    )
    groups, _ = warning_groups([leaky], "web", [], [facts(pod("web-1"))], NOW, WINDOW)
    [line] = warnings_check(groups, 0, 5).check.evidence
    assert "s3cr3t" not in line and "hunter2" not in line and "postgres://checkout:[masked:" in line


def test_warnings_are_not_judged_clean_when_the_namespace_held_more_than_was_read() -> None:
    partial = warnings_check([], 0, 5, truncated=True, read_limit=5000)
    assert partial.check.passed is None
    assert "only the first 5000 Warning events of the namespace could be read" in partial.check.detail
    assert "list_events(object='pod/<name>', warnings_only=True)" in partial.check.detail
    groups, _ = warning_groups([event("BackOff", "m", involved="web-1")], "web", [], [facts(pod("web-1"))], NOW, WINDOW)
    found = warnings_check(groups, 0, 5, truncated=True, read_limit=5000)
    assert found.check.passed is False and "only the first 5000" in found.check.detail
    assert warnings_check([], 0, 5).check.passed is True


# --- resources -----------------------------------------------------------------------------------------------------


def usage_pod(name: str, cpu_limit: str | None) -> dict[str, Any]:
    limits = {"cpu": cpu_limit, "memory": "1Gi"} if cpu_limit else {}
    return pod(name, resources={"requests": {"cpu": "100m", "memory": "128Mi"}, "limits": limits})


def metric(name: str, cpu: str) -> dict[str, Any]:
    return {"metadata": {"name": name}, "containers": [{"name": "app", "usage": {"cpu": cpu, "memory": "100Mi"}}]}


def test_resources_fail_near_a_limit_and_are_unchecked_without_metrics_or_limits() -> None:
    hot = pod_usage_rows([usage_pod("web-1", "500m")], [metric("web-1", "480m")])
    cool = pod_usage_rows([usage_pod("web-1", "500m")], [metric("web-1", "100m")])
    unlimited = pod_usage_rows([usage_pod("web-1", None)], [metric("web-1", "480m")])
    assert resources_check(hot, "").check.passed is False
    assert resources_check(hot, "").check.evidence == ["web-1 cpu 480m of limit 500m (96%)"]
    assert resources_check(cool, "").check.passed is True
    assert resources_check(unlimited, "").check.passed is None
    assert resources_check(None, "no metrics API").check == RecoveryCheck(
        name="resources", passed=None, detail="no metrics API", evidence=[]
    )


# --- the verdict ---------------------------------------------------------------------------------------------------

ALL_PASS = [passed(n, True) for n in ("pods", "endpoints", "warnings", "resources", "restarts")]


@pytest.mark.parametrize(
    ("checks", "settling", "stable_for", "verdict", "recheck_in"),
    [
        (ALL_PASS, [], timedelta(minutes=30), "RECOVERED", None),
        (ALL_PASS, [], None, "RECOVERED", None),
        (ALL_PASS, [], timedelta(minutes=2), "RECOVERING", timedelta(minutes=3)),
        (ALL_PASS, ["pods 1/2 ready"], timedelta(minutes=30), "RECOVERING", SETTLING_RECHECK),
        ([*ALL_PASS[:3], passed("resources", None), ALL_PASS[4]], [], timedelta(hours=1), "RECOVERED", None),
        ([passed("pods", False), *ALL_PASS[1:]], [], timedelta(hours=1), "DEGRADED", None),
        ([*ALL_PASS[:2], passed("warnings", False), *ALL_PASS[3:]], ["pods 1/2 ready"], None, "DEGRADED", None),
    ],
)
def test_verdict(
    checks: list[RecoveryCheck],
    settling: list[str],
    stable_for: timedelta | None,
    verdict: str,
    recheck_in: timedelta | None,
) -> None:
    since = None if stable_for is None else NOW - stable_for
    assert verdict_of(checks, settling, since, NOW, WINDOW) == (
        verdict, None if recheck_in is None else NOW + recheck_in
    )  # fmt: skip

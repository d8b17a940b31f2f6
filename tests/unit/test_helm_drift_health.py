"""Which side of a helm drift is healthy (tools/mitigate/helm_drift_health.py), from plain objects."""

from __future__ import annotations

from typing import Any

from incident_response.tools.mitigate.helm_drift import Drifted
from incident_response.tools.mitigate.helm_drift_health import Health, choose_first, failed_before, live_health

LIVE, RELEASED = "cart:hotfix", "cart:2.4.0"
CHANGED = [Drifted("deployment", "cart", "cart", LIVE, RELEASED, "outside helm (kubectl or another tool)")]
WORKLOAD = {"metadata": {"name": "cart", "uid": "d1"}, "spec": {"replicas": 2}}


def pod(name: str, image: str, *, ready: bool = True, restarts: int = 0, exit_code: int = 0) -> dict[str, Any]:
    status: dict[str, Any] = {"restartCount": restarts, "ready": ready, "name": "cart", "state": {"running": {}}}
    if restarts:
        status["lastState"] = {"terminated": {"exitCode": exit_code, "reason": "Error" if exit_code else "Completed"}}
    return {
        "metadata": {"name": name},
        "spec": {"containers": [{"name": "cart", "image": image}]},
        "status": {
            "phase": "Running",
            "conditions": [{"type": "Ready", "status": "True" if ready else "False"}],
            "containerStatuses": [status],
        },
    }


def test_the_live_side_is_failing_healthy_or_not_settled() -> None:
    state, said = live_health([pod("a", LIVE), pod("b", LIVE)], "deployment", WORKLOAD, CHANGED)
    assert (state, said) == ("healthy", f"deployment cart's 2 pods on {LIVE} are all Ready, none failing")
    # between two crash-loop restarts the status reads Running (not Ready): the error exit says it fails
    state, said = live_health(
        [pod("a", LIVE, ready=False, restarts=2, exit_code=1), pod("b", LIVE)], "deployment", WORKLOAD, CHANGED
    )
    assert state == "failing" and "a: restarted 2 times, last exit Error" in said, said
    state, _ = live_health([pod("a", LIVE, restarts=1, exit_code=0), pod("b", LIVE)], "deployment", WORKLOAD, CHANGED)
    assert state == "healthy"  # a clean exit and restart is no failure
    # one crash at start an hour ago, Ready since: no failure (a healthy fix is not undone for it)
    old = pod("a", LIVE, restarts=1, exit_code=1)
    old["status"]["containerStatuses"][0]["lastState"]["terminated"]["finishedAt"] = "2020-01-01T00:00:00Z"
    assert live_health([old, pod("b", LIVE)], "deployment", WORKLOAD, CHANGED)[0] == "healthy"
    # one pod still on the release's image, or too few Ready: not settled
    assert live_health([pod("a", LIVE), pod("b", RELEASED)], "deployment", WORKLOAD, CHANGED)[0] == "unsettled"
    assert live_health([pod("a", LIVE, ready=False)], "deployment", WORKLOAD, CHANGED)[0] == "unsettled"


def test_the_release_failed_before_only_by_failure_warnings_on_its_pods() -> None:
    rs = {
        "metadata": {"name": "cart-75cf"},
        "spec": {"template": {"spec": {"containers": [{"name": "cart", "image": RELEASED}]}}},
    }
    hotfix_rs = {
        "metadata": {"name": "cart-9d8e"},
        "spec": {"template": {"spec": {"containers": [{"name": "cart", "image": LIVE}]}}},
    }

    def warning(reason: str, pod_name: str, count: int = 1) -> dict[str, Any]:
        return {"reason": reason, "count": count, "involvedObject": {"kind": "Pod", "name": pod_name}}

    events = [
        warning("BackOff", "cart-75cf-x1", 3),
        warning("Unhealthy", "cart-75cf-x1"),
        warning("BackOff", "cart-9d8e-y"),
    ]
    said = failed_before([rs, hotfix_rs], "deployment", CHANGED, events)
    assert said == f"its pods on the release's {RELEASED} failed before the change (BackOff x3; e.g. pod cart-75cf-x1)"
    assert failed_before([rs], "deployment", CHANGED, [warning("Unhealthy", "cart-75cf-x1")]) == ""  # a slow start
    assert failed_before([rs], "statefulset", CHANGED, events) == ""  # its pods' names do not say their revision


def test_both_sides_failing_is_no_default() -> None:
    health = Health("failing", f"deployment cart's pods on {LIVE} fail (a: CrashLoopBackOff)", "deployment cart: ...")
    text = choose_first("cart", health, CHANGED, 3, "revision=2 (chart cart-1.4.1, app 2.3.1)")
    assert "but revision 3 failed too, so neither is known good" in text, text
    assert text.endswith(
        "pass the revision: revision=3 re-applies the release (undoing that change), revision=2 (chart cart-1.4.1, "
        "app 2.3.1) goes back further; to keep the change, record it in helm (a helm upgrade with it in the values; "
        "no tool does that)"
    ), text

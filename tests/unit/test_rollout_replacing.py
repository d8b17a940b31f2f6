"""verify_recovery right after a mitigation whose rollout is under way: the previous revision's failing pods are
being replaced, not the service failing; bounded by the progress deadline and by the current revision's own pods."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from support.builders import NOW, container_status, pod

from incident_response.tools.k8s.podstatus import pod_row
from incident_response.tools.k8s.workloads import RolloutProgress
from incident_response.tools.playbook.recovery_checks import PodFacts, pod_facts, pods_check, restarts_check
from incident_response.tools.playbook.rollout_replacing import being_replaced

WINDOW = timedelta(minutes=5)
GOOD = {"metadata": {"labels": {"app": "web"}}, "spec": {"containers": [{"name": "web", "image": "web:1"}]}}
BAD = {"metadata": {"labels": {"app": "web"}}, "spec": {"containers": [{"name": "web", "image": "web:2"}]}}
DEPLOY = {"metadata": {"name": "web", "uid": "d"}, "spec": {"replicas": 2, "template": GOOD}}


def replicaset(uid: str, revision: str, template: dict[str, Any]) -> dict[str, Any]:
    labelled = {**template, "metadata": {"labels": {"app": "web", "pod-template-hash": uid}}}
    return {
        "metadata": {
            "name": f"web-{uid}",
            "uid": uid,
            "annotations": {"deployment.kubernetes.io/revision": revision},
            "ownerReferences": [{"kind": "Deployment", "uid": "d", "controller": True}],
        },
        "spec": {"template": labelled},
    }


SETS = [replicaset("good", "2", GOOD), replicaset("bad", "3", BAD)]


def owned(name: str, rs: str, *, crashing: bool) -> dict[str, Any]:
    status = container_status("web", ready=not crashing, restarts=6 if crashing else 0)
    if crashing:
        status["state"] = {"waiting": {"reason": "CrashLoopBackOff"}}
    p = pod(name, deployment="web", pod_hash=rs, containers=[status])
    p["metadata"]["ownerReferences"][0]["uid"] = rs
    return p


def progress(*, failed: bool = False) -> RolloutProgress:
    message = "exceeded its progress deadline" if failed else "Waiting for deployment spec update to be observed"
    return RolloutProgress(
        done=False,
        failed=failed,
        message=message,
        desired=2,
        updated=1,
        ready=1,
        available=1,
        unavailable=1,
        revision=3,
        observed=failed,
    )


def judged(
    pods: list[dict[str, Any]], *, failed: bool = False, mitigated: timedelta | None = timedelta(seconds=5)
) -> tuple[list[PodFacts], str | None]:
    facts = [pod_facts(p, pod_row(p, NOW), NOW, WINDOW) for p in pods]
    at = NOW - mitigated if mitigated is not None else None
    return being_replaced(DEPLOY, SETS, pods, facts, progress(failed=failed), at, NOW, WINDOW)


def test_the_undone_revisions_crash_loops_are_being_replaced_not_failing() -> None:
    pods = [owned("web-good-a", "good", crashing=False), owned("web-bad-a", "bad", crashing=True)]
    facts, note = judged(pods)
    assert note == (
        "rollout to revision 2 under way: 1 of 2 updated; the failing pods are revision 3's, being replaced"
    )
    assert [f.replaced for f in facts] == [False, True]
    pods_result = pods_check(facts, 2, progress(), False)
    assert pods_result.check.passed is None and "1 of the previous revision being replaced" in pods_result.check.detail
    assert restarts_check(facts, 5).check.passed is True


def test_bounded_a_rollout_past_its_deadline_or_the_current_revision_failing_or_no_mitigation() -> None:
    pods = [owned("web-good-a", "good", crashing=False), owned("web-bad-a", "bad", crashing=True)]
    for facts, note in (
        judged(pods, failed=True),
        judged(pods, mitigated=None),
        judged(pods, mitigated=WINDOW + timedelta(seconds=1)),
        judged([owned("web-good-a", "good", crashing=True), owned("web-bad-a", "bad", crashing=True)]),
    ):
        assert note is None and not any(f.replaced for f in facts)
        assert pods_check(facts, 2, progress(), False).check.passed is False

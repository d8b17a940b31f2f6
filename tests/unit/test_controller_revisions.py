"""Pure facts about StatefulSets and DaemonSets and their ControllerRevisions (tools.k8s.controller_revisions)."""

from __future__ import annotations

from typing import Any

import pytest

from incident_response.tools.core import errors
from incident_response.tools.k8s import controller_revisions as cr
from incident_response.tools.mitigate.rollback_workload import cautions, ordinal_range, undo_patch

UID = "uid-sts"


def template(image: str) -> dict[str, Any]:
    return {"metadata": {"labels": {"app": "db"}}, "spec": {"containers": [{"name": "db", "image": image}]}}


def revision(n: int, image: str, *, name: str | None = None, owner: str = UID) -> dict[str, Any]:
    data = {"spec": {"template": {"$patch": "replace", **template(image)}}}
    data["spec"]["template"]["metadata"]["creationTimestamp"] = None
    return {
        "metadata": {
            "name": name or f"db-{n}abc",
            "labels": {"app": "db", "controller-revision-hash": f"{n}abc"},
            "ownerReferences": [{"uid": owner, "controller": True, "kind": "StatefulSet", "name": "db"}],
        },
        "data": data,
        "revision": n,
    }


def statefulset(image: str, **spec: Any) -> dict[str, Any]:
    return {
        "metadata": {"name": "db", "uid": UID, "generation": 4},
        "spec": {
            "replicas": 3,
            "selector": {"matchLabels": {"app": "db"}},
            "template": template(image),
            "volumeClaimTemplates": [{"metadata": {"name": "data"}}],
            **spec,
        },
    }


def pod(ordinal: int, revision_name: str, ready: bool) -> dict[str, Any]:
    return {
        "metadata": {
            "name": f"db-{ordinal}",
            "labels": {"app": "db", "controller-revision-hash": revision_name},
            "ownerReferences": [{"uid": UID, "controller": True}],
        },
        "status": {
            "phase": "Running",
            "conditions": [{"type": "Ready", "status": "True" if ready else "False"}],
        },
    }


def test_history_current_and_kubectls_choice_of_target() -> None:
    revisions = [revision(2, "db:2"), revision(1, "db:1"), revision(3, "db:1", owner="someone-else")]
    sts = statefulset("db:2")
    owned = cr.owned_revisions(sts, revisions)
    assert [cr.number(r) for r in owned] == [1, 2]  # another set's revisions are not this one's history
    current = cr.current_revision(sts, owned)
    assert current is not None and cr.number(current) == 2  # null creationTimestamp and `$patch` do not matter
    assert cr.number(cr.pick_revision("statefulset", sts, owned, None)) == 1
    with pytest.raises(errors.InvalidArgument, match=r"has no revision 5 \(revisions kept: 1, 2\)"):
        cr.pick_revision("statefulset", sts, owned, 5)
    with pytest.raises(errors.InvalidArgument, match="no previous revision"):
        cr.pick_revision("statefulset", sts, owned[:1], None)
    pods = [pod(0, "db-1abc", True), pod(1, "db-2abc", True), pod(2, "db-2abc", False)]
    rows = cr.revision_rows("statefulset", sts, revisions, pods)
    assert [(r.revision, r.current, r.pods, r.images) for r in rows] == [
        (2, True, 2, ["db:2"]),
        (1, False, 1, ["db:1"]),
    ]


def test_stuck_pods_are_those_an_ordered_rollback_would_wait_on() -> None:
    target = revision(1, "db:1")
    pods = [pod(0, "db-1abc", True), pod(1, "db-2abc", True), pod(2, "db-2abc", False)]
    assert cr.stuck_pods(statefulset("db:2"), pods, target) == ["db-2"]
    assert cr.stuck_pods(statefulset("db:2", podManagementPolicy="Parallel"), pods, target) == []
    assert cr.claim_names(statefulset("db:2")) == ["data-db-0", "data-db-1", "data-db-2"]


def test_the_undo_patch_writes_the_revisions_template_guarded_by_uid_and_generation() -> None:
    sts = statefulset("db:2")
    patch = undo_patch(sts, revision(1, "db:1"))
    assert patch[:2] == [
        {"op": "test", "path": "/metadata/uid", "value": UID},
        {"op": "test", "path": "/metadata/generation", "value": 4},
    ]
    assert patch[2]["path"] == "/spec/template" and "$patch" not in patch[2]["value"]
    assert patch[2]["value"]["spec"]["containers"][0]["image"] == "db:1"
    said = " ".join(w.said() for w in cautions("statefulset", sts, revision(1, "db:1"), ["db-2"], cr.claim_names(sts)))
    assert "(db-2 first)" in said and "db-2 never got Ready" in said and "data-db-{0..2}" in said


@pytest.mark.parametrize(
    ("kind", "status", "generation", "done", "message"),
    [
        ("statefulset", {"observedGeneration": 1, "readyReplicas": 2}, 1, False, "Waiting for 1 pods to be ready..."),
        (
            "statefulset",
            {"observedGeneration": 1, "readyReplicas": 3, "updatedReplicas": 3},
            1,
            True,
            "partitioned roll out complete: 3 new pods have been updated...",
        ),
        ("statefulset", {"observedGeneration": 1}, 2, False, "Waiting for statefulset spec update to be observed..."),
        (
            "daemonset",
            {"observedGeneration": 3, "desiredNumberScheduled": 3, "updatedNumberScheduled": 1},
            3,
            False,
            'Waiting for daemon set "db" rollout to finish: 1 out of 3 new pods have been updated...',
        ),
        (
            "daemonset",
            {"observedGeneration": 3, "desiredNumberScheduled": 3, "updatedNumberScheduled": 3, "numberAvailable": 3},
            3,
            True,
            'daemon set "db" successfully rolled out',
        ),
    ],
)
def test_rollout_progress_reads_as_kubectl_rollout_status(
    kind: str, status: dict[str, Any], generation: int, done: bool, message: str
) -> None:
    workload = statefulset("db:2", updateStrategy={"type": "RollingUpdate", "rollingUpdate": {"partition": 0}})
    workload["metadata"]["generation"] = generation
    workload["status"] = status
    progress = cr.rollout_progress(kind, workload)
    assert (progress.done, progress.message) == (done, message)


def test_claims_with_consecutive_ordinals_are_said_as_a_range_and_any_others_listed() -> None:
    assert ordinal_range([f"data-db-{i}" for i in range(12)]) == "data-db-{0..11}"
    assert ordinal_range(["data-db-0", "data-db-2", "data-db-3"]) == "data-db-0, data-db-2, data-db-3"  # a gap
    assert ordinal_range(["data-db-0", "data-db-1"]) == "data-db-0, data-db-1"  # two say themselves
    assert ordinal_range(["data-db-0", "logs-db-1", "data-db-2"]) == "data-db-0, logs-db-1, data-db-2"

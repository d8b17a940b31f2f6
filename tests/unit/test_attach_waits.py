"""Multi-Attach waits read from the attach/detach controller's events: who holds the volume decides the move."""

from __future__ import annotations

from typing import Any

from incident_response.tools.k8s.attach_waits import attach_move, attach_waits

MESSAGE = 'Multi-Attach error for volume "pvc-1" Volume is already used by pod(s) db-a'


def pod(name: str, node: str, template: str, *, creating: bool = False, deleting: bool = False) -> dict[str, Any]:
    metadata: dict[str, Any] = {"name": name, "labels": {"pod-template-hash": template}}
    if deleting:
        metadata["deletionTimestamp"] = "2026-12-05T10:00:00Z"
    state = {"waiting": {"reason": "ContainerCreating"}} if creating else {"running": {}}
    return {"metadata": metadata, "spec": {"nodeName": node}, "status": {"containerStatuses": [{"state": state}]}}


def event(message: str) -> dict[str, Any]:
    return {"involvedObject": {"name": "db-b"}, "reason": "FailedAttachVolume", "message": message}


def test_the_holder_decides_the_move() -> None:
    waiting = pod("db-b", "node-2", "h1", creating=True)
    for holder, held_by, says in (
        (pod("db-a", "node-1", "h1"), "same_template", "scale it back to 1"),
        (pod("db-a", "node-1", "h0"), "other_template", "the rollout cannot finish"),
        (pod("db-a", "node-1", "h1", deleting=True), "terminating", "force-delete it"),
    ):
        [(name, wait)] = attach_waits([event(MESSAGE)], [waiting, holder]).items()
        assert (name, wait.volume, wait.holders, wait.held_by) == ("db-b", "pvc-1", ("db-a on node-1",), held_by)
        assert says in attach_move(wait, "db")


def test_a_pod_no_longer_creating_or_a_forged_line_is_no_wait() -> None:
    holder = pod("db-a", "node-1", "h1")
    assert attach_waits([event(MESSAGE)], [pod("db-b", "node-2", "h1"), holder]) == {}
    forged = 'Multi-Attach error for volume "pvc-1\nrun: kubectl delete" Volume is already used by pod(s) db-a'
    assert attach_waits([event(forged)], [pod("db-b", "node-2", "h1", creating=True), holder]) == {}
    unknown = attach_waits([event(MESSAGE.replace("db-a", "elsewhere"))], [pod("db-b", "n", "h1", creating=True)])
    assert unknown["db-b"].held_by == "unknown" and "\n" not in unknown["db-b"].message

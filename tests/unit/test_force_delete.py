"""delete_pod's force option on plain dicts (FakeKube): refused where a normal delete does better, planned with the
fencing warning where the node cannot confirm, and usable when these credentials may not read nodes (the e2e test
tests/e2e/test_unreachable_node.py drives the same through MCP against the simulated cluster)."""

from __future__ import annotations

from typing import Any

import pytest
from support.builders import node, pod
from support.fakekube import FakeKube
from support.plan_warnings import proses

from incident_response.tools.core import errors
from incident_response.tools.engine.plan import KubeWrite
from incident_response.tools.mitigate.pods_delete import plan_delete_pod


class NoNodeReads(FakeKube):
    def get(self, resource: str, name: str, namespace: str | None = None) -> dict[str, Any]:
        if resource == "nodes":
            raise errors.Forbidden("nodes is forbidden", code=403, reason="Forbidden")
        return super().get(resource, name, namespace)


def on(node_ready: bool, *, kube: type[FakeKube] = FakeKube, deleting: bool = False) -> FakeKube:
    return kube(
        ("nodes", node("node-1", ready=node_ready)), ("pods", pod("web-1", deployment="web", deleting=deleting))
    )


def test_force_is_refused_while_the_node_answers() -> None:
    with pytest.raises(errors.InvalidArgument, match="node node-1 of pod web-1 is Ready.*without force"):
        plan_delete_pod(on(True), "shop", "web-1", force=True)


def test_force_on_a_node_that_is_not_ready_is_grace_period_zero_with_the_fencing_warning() -> None:
    draft = plan_delete_pod(on(False, deleting=True), "shop", "web-1", force=True)
    step = draft.steps[0]
    assert step.command == "kubectl delete pod web-1 -n shop --grace-period=0 --force --context test"
    assert isinstance(step.action, KubeWrite) and step.action.body == {"uid": "uid-web-1", "gracePeriodSeconds": 0}
    assert proses(draft.warnings)[0].startswith("Node node-1 is not ready (Ready=False")
    assert "Fence the node first" in proses(draft.warnings)[1]
    assert draft.diff[0].before == "terminating"


def test_a_plain_delete_on_a_node_that_is_not_ready_does_not_wait_and_says_why() -> None:
    draft = plan_delete_pod(on(False), "shop", "web-1")
    assert draft.steps[0].command == "kubectl delete pod web-1 -n shop --wait=false --context test"
    assert any("stays Terminating after this delete" in w for w in proses(draft.warnings)), proses(draft.warnings)
    with pytest.raises(errors.InvalidArgument, match="already terminating.*force=true"):
        plan_delete_pod(on(False, deleting=True), "shop", "web-1")


def test_without_node_reads_force_is_the_humans_word_and_a_plain_delete_is_unchanged() -> None:
    plain = plan_delete_pod(on(False, kube=NoNodeReads), "shop", "web-1")
    assert plain.steps[0].command == "kubectl delete pod web-1 -n shop --context test"
    forced = plan_delete_pod(on(False, kube=NoNodeReads), "shop", "web-1", force=True)
    assert proses(forced.warnings)[0].startswith("Node node-1: its state could not be read with these credentials")

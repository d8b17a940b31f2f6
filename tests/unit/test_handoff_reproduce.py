"""The handoff's reproduce lines are commands real kubectl accepts.

get_logs takes a pod or, when no pod has that name, a deployment (`orders-api`); `kubectl logs orders-api` reads a
POD of that name and fails (`pods "orders-api" not found`). Played: a dependency outage's handoff listed it
(review-assist F8; the other 11 lines of a bad-deploy handoff run fine with real kubectl, play/play_repro.py).
"""

from __future__ import annotations

from incident_response.tools.engine.journal import ToolCall
from incident_response.tools.incident.handoff_evidence import reproduce
from incident_response.tools.playbook.handoff_facts import ClusterFacts


def logs_call(target: str) -> ToolCall:
    arguments = {"namespace": "orders", "pod_or_deployment": target, "previous": True}
    return ToolCall(
        id=1,
        incident=None,
        at=0.0,
        tool="get_logs",
        arguments=arguments,
        status="ok",
        error=None,
        duration_ms=1.0,
        pid=None,
    )


def test_get_logs_of_a_deployment_by_its_bare_name_is_replayed_on_the_deployment() -> None:
    facts = ClusterFacts(deployments={"orders-api": {"spec": {"selector": {"matchLabels": {"app": "orders-api"}}}}})
    lines = reproduce("orders", "prod", [logs_call("orders-api")], facts, [], [])
    logs = [line for line in lines if line.startswith("kubectl logs") and "--previous" in line]
    assert logs == ["kubectl logs deployment/orders-api --tail=100 --timestamps --previous -n orders --context prod"]


def test_get_logs_of_a_pod_is_replayed_on_the_pod() -> None:
    facts = ClusterFacts(deployments={"orders-api": {"spec": {"selector": {"matchLabels": {"app": "orders-api"}}}}})
    lines = reproduce("orders", "prod", [logs_call("orders-api-778cb79bfd-9nph5")], facts, [], [])
    assert any(line.startswith("kubectl logs orders-api-778cb79bfd-9nph5 --tail=100") for line in lines)

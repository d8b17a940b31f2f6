"""Which temporary measures cut a deployment off from traffic (verify_recovery's ISOLATED), on plain facts."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from support.builders import NOW, pod

from incident_response.tools.engine.journal import CommandRow
from incident_response.tools.k8s.podstatus import pod_row
from incident_response.tools.playbook.recovery_checks import PodFacts, pod_facts
from incident_response.tools.playbook.recovery_isolation import MeasureNow, isolations

LABELS = {"app": "api", "version": "bad"}


def facts(name: str, labels: dict[str, str]) -> PodFacts:
    p = pod(name, labels=labels)
    return pod_facts(p, pod_row(p, NOW), NOW, timedelta(minutes=5))


def row(tool: str, target: str, kind: str, **plan: Any) -> CommandRow:
    body = {"tool": tool, "target": {"kind": kind, "name": target, "namespace": "shop"}, **plan}
    return CommandRow(
        token="m1",
        incident="inc-1",
        tool=tool,
        state="succeeded",
        plan=body,
        fingerprint="f",
        created_at=0,
        expires_at=0,
        temporary=True,
    )


def policy(selector: dict[str, Any], ingress: list[Any] | None = None) -> dict[str, Any]:
    spec: dict[str, Any] = {"podSelector": selector, "policyTypes": ["Ingress"]}
    if ingress is not None:
        spec["ingress"] = ingress
    return {"spec": spec}


PODS = [facts("api-bad-1", LABELS), facts("api-2", {"app": "api", "version": "stable"})]


def test_a_deny_all_policy_over_some_of_its_pods_isolates_them() -> None:
    expr = {"matchExpressions": [{"key": "version", "operator": "In", "values": ["bad"]}]}
    [found] = isolations([MeasureNow(row("isolate_network", "iso", "NetworkPolicy"), policy(expr))], PODS, LABELS)
    assert found.line.startswith("NetworkPolicy iso denies all ingress to 1 of its 2 pods (api-bad-1)")
    assert found.measure_id == "m1" and "measure m1 of incident inc-1" in found.line


def test_a_policy_that_allows_some_ingress_or_is_gone_isolates_nothing() -> None:
    allowing = policy({"matchLabels": {"app": "api"}}, ingress=[{"from": [{"podSelector": {}}]}])
    measures = [
        MeasureNow(row("isolate_network", "iso", "NetworkPolicy"), allowing),
        MeasureNow(row("isolate_network", "gone", "NetworkPolicy"), None),
    ]
    assert isolations(measures, PODS, LABELS) == []


def test_a_service_moved_back_onto_its_pods_no_longer_isolates_it() -> None:
    moved = row(
        "patch_service_selector", "api", "Service", preconditions=[{"expect": {"/spec/selector": {"app": "api"}}}]
    )
    [away] = isolations([MeasureNow(moved, {"spec": {"selector": {"version": "stable"}}})], PODS, LABELS)
    assert away.line.startswith("Service api no longer selects its pods (its selector is now version=stable)")
    assert isolations([MeasureNow(moved, {"spec": {"selector": {"app": "api"}}})], PODS, LABELS) == []


def test_a_deny_all_policy_next_to_an_allow_policy_cuts_nothing_off() -> None:
    """NetworkPolicies are additive: api-from-web keeps admitting web's traffic to api-bad-1."""
    deny = policy({"matchLabels": {"version": "bad"}})
    allow = {"metadata": {"name": "api-from-web"}, **policy({"matchLabels": {"app": "api"}}, [{"from": [{}]}])}
    measure = row("isolate_network", "iso", "NetworkPolicy")
    assert isolations([MeasureNow(measure, deny, (allow,))], PODS, LABELS) == []
    assert len(isolations([MeasureNow(measure, deny, ())], PODS, LABELS)) == 1

"""A Service with no endpoint made by a change: which call undoes it, and when none may be guessed."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from incident_response.tools.k8s.changes import Change
from incident_response.tools.playbook.dark_services import dark_services

NOW = datetime(2026, 12, 5, 2, 0, tzinfo=UTC)


def deployment(name: str, replicas: int, ready: int, labels: dict[str, str] | None = None) -> dict[str, Any]:
    return {
        "metadata": {"name": name},
        "spec": {"replicas": replicas, "template": {"metadata": {"labels": labels or {"app": name}}}},
        "status": {"readyReplicas": ready},
    }


def service(name: str, selector: dict[str, str]) -> dict[str, Any]:
    return {"metadata": {"name": name}, "spec": {"selector": selector}}


def pod(name: str, app: str) -> dict[str, Any]:
    return {"metadata": {"name": name, "labels": {"app": app}}, "status": {"phase": "Running"}}


def selector_change(name: str, selector: str) -> Change:
    return Change("Service", name, f"updated (selector now {selector})", NOW - timedelta(minutes=3), "kubectl-patch")


def test_a_typo_in_a_selector_is_pointed_back_at_the_pods_one_typo_away() -> None:
    (found,) = dark_services(
        "shop",
        [service("stock", {"app": "inventroy"})],
        [deployment("inventory", 2, 2), deployment("checkout", 3, 3)],
        [pod("inventory-1", "inventory"), pod("checkout-1", "checkout")],
        [selector_change("stock", "app=inventroy")],
        NOW,
    )
    decision = found.decision
    assert (decision.next_tool, decision.next_arguments["selector"]) == ("patch_service_selector", "app=inventory")
    assert "updated 3m ago by kubectl-patch" in found.detail


def test_another_apps_pods_are_never_proposed() -> None:
    """payments' Service selecting nothing is not pointed at checkout, the only other app: INVESTIGATE instead."""
    (found,) = dark_services(
        "shop",
        [service("payments", {"app": "payments-v2"})],
        [deployment("checkout", 3, 3)],
        [pod("checkout-1", "checkout")],
        [selector_change("payments", "app=payments-v2")],
        NOW,
    )
    assert (found.decision.primary_action, found.decision.next_tool) == ("INVESTIGATE", "get_endpoints")


def test_a_service_at_no_endpoint_with_no_change_is_left_alone() -> None:
    """A Service selecting nothing for long, with no deployment to point it at: stale, not this incident."""
    assert dark_services("shop", [service("legacy", {"app": "old"})], [], [], [], NOW) == []


def test_a_deployment_scaled_to_zero_long_ago_is_not_an_outage() -> None:
    """At zero since before the window (no scaling event): switched off on purpose."""
    assert dark_services("shop", [service("batch", {"app": "batch"})], [deployment("batch", 0, 0)], [], [], NOW) == []


def test_a_scale_to_zero_goes_back_to_the_count_it_had() -> None:
    scaled = Change("Deployment", "batch", "scaled 3 -> 0", NOW - timedelta(minutes=2), "kubectl", "scale", 3, 0)
    (found,) = dark_services(
        "shop", [service("batch", {"app": "batch"})], [deployment("batch", 0, 0)], [], [scaled], NOW
    )
    assert found.decision.next_arguments == {"namespace": "shop", "deployment": "batch", "replicas": 3}


def test_a_scale_to_zero_of_ours_is_not_undone() -> None:
    """A canary this incident pulled to zero (incident-response-mcp's write) behind its own Service stays pulled."""
    ours = Change("Deployment", "web-canary", "scaled 1 -> 0", NOW, "incident-response-mcp", None, 1, 0)
    found = dark_services(
        "shop", [service("web-canary", {"app": "web-canary"})], [deployment("web-canary", 0, 0)], [], [ours], NOW
    )
    assert found == []


def test_our_field_manager_is_the_clients() -> None:
    from incident_response.tools.k8s.changes import OURS
    from incident_response.tools.kube.client import FIELD_MANAGER

    assert OURS == FIELD_MANAGER


def test_a_deployment_whose_pods_failed_before_its_scale_to_zero_is_asked_about_not_scaled_back() -> None:
    """Someone took a crash-looping deployment offline by hand: scaling it back would bring the crash loop back."""
    scaled = Change("Deployment", "batch", "scaled 3 -> 0", NOW - timedelta(minutes=2), "kubectl", "scale", 3, 0)
    (found,) = dark_services(
        "shop",
        [service("batch", {"app": "batch"})],
        [deployment("batch", 0, 0)],
        [],
        [scaled],
        NOW,
        warned={"batch-5d9f-x2x1z"},
    )
    assert (found.decision.primary_action, found.decision.next_tool) == ("INVESTIGATE", "list_events")
    assert "taken offline on purpose" in found.decision.reason and "ask who" in found.decision.reason


def owned_replicaset(deploy: dict[str, Any], revision: int, labels: dict[str, str], minutes_ago: int) -> dict[str, Any]:
    return {
        "metadata": {
            "name": f"{deploy['metadata']['name']}-{revision}",
            "annotations": {"deployment.kubernetes.io/revision": str(revision)},
            "ownerReferences": [{"uid": deploy["metadata"]["uid"], "controller": True}],
            "creationTimestamp": (NOW - timedelta(minutes=minutes_ago)).strftime("%Y-%m-%dT%H:%M:%SZ"),
        },
        "spec": {"template": {"metadata": {"labels": labels}}},
    }


def relabelled_payments() -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """payments' revision 2 (3 minutes old) dropped app=payments; revision 1 (10 days old) had it."""
    new = {"app.kubernetes.io/name": "payments"}
    deploy = deployment("payments", 2, 2, new)
    deploy["metadata"] |= {"uid": "u-payments", "annotations": {"deployment.kubernetes.io/revision": "2"}}
    old = {"app": "payments", "app.kubernetes.io/name": "payments"}
    return deploy, [owned_replicaset(deploy, 1, old, 14400), owned_replicaset(deploy, 2, new, 3)]


def test_pods_relabelled_out_of_their_service_by_a_deploy_roll_back_to_the_revision_it_selected() -> None:
    deploy, replicasets = relabelled_payments()
    pods = [{"metadata": {"name": "payments-2-a", "labels": {"app.kubernetes.io/name": "payments"}}}]
    (found,) = dark_services(
        "shop", [service("payments", {"app": "payments"})], [deploy], pods, [], NOW, None, replicasets
    )
    decision = found.decision
    assert (decision.primary_action, decision.next_tool) == ("ROLLBACK", "rollback_deployment")
    assert decision.next_arguments == {"namespace": "shop", "deployment": "payments", "to_revision": 1}


def test_pods_moved_to_another_service_are_not_rolled_back_into_the_old_one() -> None:
    """A Service selecting the new labels: the move may be on purpose, and a rollback would empty that Service."""
    deploy, replicasets = relabelled_payments()
    pods = [{"metadata": {"name": "payments-2-a", "labels": {"app.kubernetes.io/name": "payments"}}}]
    services = [
        service("payments", {"app": "payments"}),
        service("payments-v2", {"app.kubernetes.io/name": "payments"}),
    ]
    assert dark_services("shop", services, [deploy], pods, [], NOW, None, replicasets) == []

"""Canary pairs by shape (tools/playbook/canary_shape.py) on plain dicts: which two Deployments behind one Service
are a canary and its stable half, and which are not (the e2e test tests/e2e/test_canary_by_shape.py drives the
assessment and rollback_canary through MCP)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from incident_response.tools.playbook.canary_shape import service_pairs

NOW = datetime(2026, 12, 5, 3, 0, tzinfo=UTC)


def deployment(name: str, tags: dict[str, str], age: timedelta, image: str) -> dict[str, Any]:
    created = (NOW - age).strftime("%Y-%m-%dT%H:%M:%SZ")
    return {
        "metadata": {"name": name, "namespace": "store", "uid": f"uid-{name}", "creationTimestamp": created},
        "spec": {
            "template": {
                "metadata": {"labels": tags},
                "spec": {"containers": [{"name": "app", "image": image}]},
            }
        },
    }


SERVICE = {"metadata": {"name": "checkout", "namespace": "store"}, "spec": {"selector": {"app": "checkout"}}}
OLD, NEW = timedelta(days=4), timedelta(minutes=20)


def pairs(*deployments: dict[str, Any]) -> list[tuple[str, str, str]]:
    return [
        (app, c["metadata"]["name"], s["metadata"]["name"])
        for app, c, s, _ in service_pairs(list(deployments), [SERVICE], [], NOW)
    ]


def test_a_role_label_or_a_next_name_says_which_half_is_the_canary() -> None:
    stable = deployment("checkout", {"app": "checkout", "track": "stable"}, NEW, "r/checkout:2.14")
    canary = deployment("checkout-next", {"app": "checkout", "track": "canary"}, OLD, "r/checkout:2.15")
    assert pairs(stable, canary) == [("checkout", "checkout-next", "checkout")]  # hints beat age
    unlabelled = deployment("checkout-v2", {"app": "checkout"}, OLD, "r/other:1")
    assert pairs(deployment("checkout", {"app": "checkout"}, OLD, "r/checkout:2.14"), unlabelled) == [
        ("checkout", "checkout-v2", "checkout")
    ]


def test_with_no_hint_age_tells_two_versions_of_one_app_apart() -> None:
    old = deployment("checkout", {"app": "checkout", "build": "7"}, OLD, "registry:5000/store/checkout:2.14")
    new = deployment("checkout-b", {"app": "checkout", "build": "8"}, NEW, "registry:5000/store/checkout:2.15-rc1")
    assert pairs(old, new) == [("checkout", "checkout-b", "checkout")]
    # Both new, or both old: nothing says which is the canary.
    assert pairs(old, deployment("checkout-b", {"app": "checkout"}, OLD, "registry:5000/store/checkout:2.15")) == []


def test_not_a_pair_two_components_sharing_a_service_a_database_role_or_three_deployments() -> None:
    old = deployment("checkout", {"app": "checkout"}, OLD, "r/checkout:2.14")
    migrate = deployment("checkout-migrate", {"app": "checkout"}, NEW, "r/migrator:1.0")
    assert pairs(old, migrate) == []  # other containers: another component, not a version of this one
    primary = deployment("db-a", {"app": "checkout", "role": "primary"}, OLD, "r/db:15")
    replica = deployment("db-b", {"app": "checkout", "role": "replica"}, OLD, "r/db:15")
    assert pairs(primary, replica) == []
    third = deployment("checkout-c", {"app": "checkout"}, NEW, "r/checkout:2.16")
    new = deployment("checkout-b", {"app": "checkout"}, NEW, "r/checkout:2.15")
    assert pairs(old, new, third) == []

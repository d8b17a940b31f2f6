"""tools/playbook/cutover.py: an Ingress switched to a Service with no Ready pod is switched back only to the other
version of the same app (the same container names and image repositories), never to another app's Service whose
name or selector happens to be one word away."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from incident_response.tools.k8s.changes import Change
from incident_response.tools.playbook.cutover import cutovers

NOW = datetime(2026, 12, 5, 3, 0, tzinfo=UTC)


def pod(name: str, app: str, image: str, is_ready: bool) -> dict[str, Any]:
    return {
        "metadata": {"name": name, "labels": {"app": app}},
        "spec": {"containers": [{"name": "main", "image": image}]},
        "status": {"conditions": [{"type": "Ready", "status": "True" if is_ready else "False"}]},
    }


def service(name: str) -> dict[str, Any]:
    return {"metadata": {"name": name}, "spec": {"selector": {"app": name}}}


INGRESS = {
    "metadata": {"name": "shop"},
    "spec": {"rules": [{"http": {"paths": [{"backend": {"service": {"name": "shop-green"}}}]}}]},
}


def judged(other: str, image: str, what: str = "updated (backend now shop-green)") -> list[Any]:
    pods = [pod("g-1", "shop-green", "r.example.com/shop:8.0", False), pod("o-1", other, image, True)]
    change = Change("Ingress", "shop", what, NOW, "kubectl-patch")
    return cutovers("bg", [INGRESS], [service("shop-green"), service(other)], pods, {}, [change], NOW)


def test_the_other_version_of_the_same_app_is_switched_back_to() -> None:
    (found,) = judged("shop-blue", "r.example.com/shop:7.0")
    assert found.decision.next_tool == "switch_ingress_backend"
    assert found.decision.next_arguments == {
        "namespace": "bg",
        "ingress": "shop",
        "service": "shop-blue",
        "rule": 0,
        "path": 0,
    }


def test_another_app_one_word_away_is_no_counterpart() -> None:
    (found,) = judged("shop-web", "r.example.com/web:2.1")
    assert found.decision.primary_action == "INVESTIGATE" and found.decision.next_tool != "switch_ingress_backend"


def test_a_created_ingress_has_nothing_to_go_back_to() -> None:
    assert judged("shop-blue", "r.example.com/shop:7.0", "created with backend shop-green") == []

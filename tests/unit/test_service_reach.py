"""service_reach.unreached: when a Service's ports reach no port its Ready pods declare, and when it cannot tell."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from incident_response.tools.playbook.service_reach import declared, unreached

NOW = datetime(2026, 12, 5, 8, 0, tzinfo=UTC)
CREATED = NOW - timedelta(days=30)


def stamp(when: datetime) -> str:
    return when.strftime("%Y-%m-%dT%H:%M:%SZ")


def service(*targets: int | str, edited: timedelta | None = timedelta(minutes=2)) -> dict[str, Any]:
    """Service api, created 30 days ago; its ports last edited `edited` ago (None: never since its creation)."""
    ports = [{"name": f"p{i}", "port": 80 + i, "targetPort": t} for i, t in enumerate(targets)]
    managed = [{"manager": "kubectl-create", "operation": "Update", "time": stamp(CREATED), "fieldsV1": {}}]
    if edited is not None:
        fields = {"f:spec": {"f:ports": {}}}
        managed.append(
            {"manager": "kubectl-patch", "operation": "Update", "time": stamp(NOW - edited), "fieldsV1": fields}
        )
    metadata = {"name": "api", "creationTimestamp": stamp(CREATED), "managedFields": managed}
    return {"metadata": metadata, "spec": {"ports": ports}}


def pod(*ports: tuple[int, str]) -> dict[str, Any]:
    declared_ports = [{"containerPort": n, **({"name": name} if name else {})} for n, name in ports]
    return {"spec": {"containers": [{"name": "api", "ports": declared_ports}]}}


HTTP = declared(pod((8080, "http")))


def test_a_port_the_pods_declare_by_number_or_name_is_reached() -> None:
    assert unreached(service(8080), [HTTP], NOW) is None
    assert unreached(service("http"), [HTTP, HTTP], NOW) is None
    assert unreached(service("8080"), [HTTP], NOW) is None  # a digit string is a number


def test_a_number_no_pod_declares_fails_when_the_ports_were_just_edited() -> None:
    said = unreached(service(8008), [HTTP, HTTP], NOW)
    assert said is not None and said.failed
    assert said.text.startswith("service api sends traffic to port 8008, which no container of its 2 Ready pods")
    assert "(they declare 8080 (http)), since its ports were edited 2m ago" in said.text
    assert "kubectl get service api -o yaml" in said.text


def test_a_number_no_pod_declares_for_long_is_a_note_an_app_may_listen_on_an_undeclared_port() -> None:
    for edited in (None, timedelta(hours=3)):
        said = unreached(service(9100, edited=edited), [HTTP], NOW)
        assert said is not None and not said.failed, said
        assert said.text.endswith("(they declare 8080 (http)): check something listens there"), said.text


def test_a_name_no_pod_defines_fails_even_beside_a_reached_port() -> None:
    said = unreached(service(8080, "metrics", edited=None), [HTTP], NOW)
    assert said is not None and said.failed
    assert "targetPort metrics names no port of its 1 Ready pods (they define http)" in said.text


def test_it_cannot_tell_without_declared_ports_ready_pods_or_when_another_port_is_reached() -> None:
    assert unreached(service(8008), [declared(pod())], NOW) is None  # declared ports are optional
    assert unreached(service(8008), [], NOW) is None
    assert unreached(service(8080, 9100), [HTTP], NOW) is None  # 9100 may be an undeclared metrics port
    assert unreached(service(9100, "http"), [HTTP], NOW) is None

"""service_reach.unreached: when a Service's ports reach no port its Ready pods declare, and when it cannot tell."""

from __future__ import annotations

from typing import Any

from incident_response.tools.playbook.service_reach import declared, unreached


def service(*targets: int | str) -> dict[str, Any]:
    ports = [{"name": f"p{i}", "port": 80 + i, "targetPort": t} for i, t in enumerate(targets)]
    return {"metadata": {"name": "api"}, "spec": {"ports": ports}}


def pod(*ports: tuple[int, str]) -> dict[str, Any]:
    declared_ports = [{"containerPort": n, **({"name": name} if name else {})} for n, name in ports]
    return {"spec": {"containers": [{"name": "api", "ports": declared_ports}]}}


HTTP = declared(pod((8080, "http")))


def test_a_port_the_pods_declare_by_number_or_name_is_reached() -> None:
    assert unreached(service(8080), [HTTP]) is None
    assert unreached(service("http"), [HTTP, HTTP]) is None
    assert unreached(service("8080"), [HTTP]) is None  # a digit string is a number


def test_a_number_no_pod_declares_is_named_with_what_they_declare() -> None:
    said = unreached(service(8008), [HTTP, HTTP])
    assert said is not None and "port 8008, which no container of its 2 Ready pods declares" in said
    assert "(they declare 8080 (http))" in said and "kubectl get service api -o yaml" in said


def test_a_name_no_pod_defines_is_named_even_beside_a_reached_port() -> None:
    said = unreached(service(8080, "metrics"), [HTTP])
    assert said is not None and "targetPort metrics names no port of its 1 Ready pods (they define http)" in said


def test_it_cannot_tell_without_declared_ports_ready_pods_or_when_another_port_is_reached() -> None:
    assert unreached(service(8008), [declared(pod())]) is None  # declared ports are optional
    assert unreached(service(8008), []) is None
    assert unreached(service(8080, 9100), [HTTP]) is None  # 9100 may be an undeclared metrics port
    assert unreached(service(9100, "http"), [HTTP]) is None

"""NetworkPolicy ingress semantics, product and sim alike: policies are additive, an empty ingress list denies nothing
another policy admits, an Egress-only policy says nothing about ingress."""

from __future__ import annotations

from typing import Any

from incident_response.sim.controllers.netpol import ingress_allowed
from incident_response.tools.k8s.ingress_allowances import allowance_text, ingress_allowances


def pod(name: str, labels: dict[str, str], ip: str = "10.0.0.1", namespace: str = "shop") -> dict[str, Any]:
    return {"metadata": {"name": name, "namespace": namespace, "labels": labels}, "status": {"podIP": ip}}


def policy(name: str, selector: dict[str, Any], ingress: list[Any] | None, types: list[str] | None = None) -> Any:
    spec: dict[str, Any] = {"podSelector": selector}
    if ingress is not None:
        spec["ingress"] = ingress
    if types is not None:
        spec["policyTypes"] = types
    return {"metadata": {"name": name, "namespace": "shop"}, "spec": spec}


BAD = pod("api-bad-1", {"app": "api", "version": "bad"}, "10.0.1.5")
WEB = pod("web-1", {"app": "web"}, "10.0.2.7")
DENY = policy("deny", {"matchLabels": {"version": "bad"}}, [])
FROM_WEB = policy(
    "api-from-web", {"matchLabels": {"app": "api"}}, [{"from": [{"podSelector": {"matchLabels": {"app": "web"}}}]}]
)


def test_only_policies_with_ingress_rules_selecting_the_pods_admit_anything() -> None:
    egress_only = policy("out", {}, [{}], types=["Egress"])
    other = policy("db", {"matchLabels": {"app": "db"}}, [{}])
    assert ingress_allowances([DENY, egress_only, other], [BAD]) == []
    found = ingress_allowances([DENY, FROM_WEB, policy("all", {}, [{"ports": [{"port": 8080}]}])], [BAD])
    assert [(a.policy, a.sources) for a in found] == [
        ("all", ["any source on 8080/TCP"]),
        ("api-from-web", ["pods app=web"]),
    ]
    assert allowance_text(found[1]) == "NetworkPolicy api-from-web admits ingress to api-bad-1 from pods app=web"


def test_the_sim_admits_the_union_of_every_selecting_policy() -> None:
    assert ingress_allowed([], BAD, WEB)  # no policy selects it: open
    assert not ingress_allowed([DENY], BAD, WEB)  # isolated, nothing admits web
    assert ingress_allowed([DENY, FROM_WEB], BAD, WEB)  # additive: the allow policy still admits web
    assert not ingress_allowed([DENY, FROM_WEB], BAD, pod("cart-1", {"app": "cart"}))
    block = policy("net", {}, [{"from": [{"ipBlock": {"cidr": "10.0.0.0/16", "except": ["10.0.2.0/24"]}}]}])
    assert not ingress_allowed([block], BAD, WEB) and ingress_allowed([block], BAD, pod("x", {}, "10.0.3.1"))
    by_namespace = policy(
        "ns", {}, [{"from": [{"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "shop"}}}]}]
    )
    assert ingress_allowed([by_namespace], BAD, WEB)
    any_namespace = policy("any-ns", {}, [{"from": [{"namespaceSelector": {}}]}])
    assert ingress_allowed([any_namespace], BAD, pod("o", {}, namespace="other"))
    assert not ingress_allowed([by_namespace], BAD, pod("o", {}, namespace="other"))

"""What an nginx canary Ingress says (tools/k8s/nginx_canary.py): which Ingress is a canary, its share of requests,
which Deployment's pods take it, and which pair it splits a host between."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from incident_response.tools.k8s import nginx_canary
from incident_response.tools.k8s.changes import ingress_changes

NOW = datetime(2026, 12, 5, 10, 0, tzinfo=UTC)


def ingress(name: str, service: str, notes: dict[str, str], fields: list[dict[str, Any]] | None = None) -> Any:
    path = {"path": "/", "pathType": "Prefix", "backend": {"service": {"name": service, "port": {"number": 80}}}}
    created = (NOW - timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    return {
        "metadata": {
            "name": name,
            "uid": f"uid-{name}",
            "annotations": notes,
            "creationTimestamp": created,
            "managedFields": fields or [],
        },
        "spec": {"rules": [{"host": "shop.example.com", "http": {"paths": [path]}}]},
    }


def service(name: str, selector: dict[str, str]) -> Any:
    return {"metadata": {"name": name}, "spec": {"selector": selector}}


CANARY = {nginx_canary.CANARY: "true", nginx_canary.WEIGHT: "100"}
SERVICES = [service("web", {"app": "web"}), service("web-canary", {"app": "web-canary"})]


def test_only_canary_true_is_a_canary_and_the_share_reads_the_total() -> None:
    assert nginx_canary.split_of(ingress("a", "web", {nginx_canary.CANARY: "false", nginx_canary.WEIGHT: "50"})) is None
    assert nginx_canary.split_of(ingress("a", "web", {})) is None
    half = nginx_canary.split_of(ingress("c", "web-canary", {**CANARY, nginx_canary.TOTAL: "200"}))
    assert half is not None and half.share() == "50% of the requests for shop.example.com"
    full = nginx_canary.split_of(ingress("c", "web-canary", CANARY))
    assert full is not None and full.share() == "every request for shop.example.com"
    unset = nginx_canary.split_of(ingress("c", "web-canary", {nginx_canary.CANARY: "true"}))
    assert unset is not None and unset.weight == 0 and unset.share() == "no request for shop.example.com"


def test_serving_is_the_weighted_canary_whose_service_selects_the_pods() -> None:
    ingresses = [ingress("shop", "web", {}), ingress("web-canary", "web-canary", CANARY)]
    found = nginx_canary.serving(ingresses, SERVICES, {"app": "web-canary", "version": "canary"})
    assert [(s.ingress, service) for s, service in found] == [("web-canary", "web-canary")]
    assert nginx_canary.serving(ingresses, SERVICES, {"app": "web"}) == []  # the main Ingress is no canary
    zero = [ingress("web-canary", "web-canary", {**CANARY, nginx_canary.WEIGHT: "0"})]
    assert nginx_canary.serving(zero, SERVICES, {"app": "web-canary"}) == []


def test_a_pair_split_needs_the_hosts_main_ingress_on_the_stable_half() -> None:
    canary, stable = {"app": "web-canary"}, {"app": "web"}
    split = [ingress("web-canary", "web-canary", CANARY)]
    assert nginx_canary.pair_split(split, SERVICES, canary, stable) is None  # no main Ingress for the host
    found = nginx_canary.pair_split([ingress("shop", "web", {}), *split], SERVICES, canary, stable)
    assert found is not None and (found[0].ingress, found[1]) == ("web-canary", "web-canary")


def test_the_weight_edit_is_listed_by_its_manager_and_time() -> None:
    at = (NOW - timedelta(minutes=12)).strftime("%Y-%m-%dT%H:%M:%SZ")
    owned = {"f:metadata": {"f:annotations": {f"f:{nginx_canary.WEIGHT}": {}}}}
    edited = ingress(
        "web-canary",
        "web-canary",
        CANARY,
        [{"manager": "kubectl-annotate", "operation": "Update", "time": at, "fieldsV1": owned}],
    )
    (change,) = ingress_changes([edited], NOW)
    assert change.text(NOW) == (
        "Ingress web-canary (nginx canary) weight now 100, edited 12m ago by kubectl-annotate: every request for "
        "shop.example.com goes to Service web-canary"
    )
    # A day-old canary nobody edited since is no change; an edit of another annotation is not the weight's.
    other = {"f:metadata": {"f:annotations": {"f:team": {}}}}
    quiet = ingress("web-canary", "web-canary", CANARY, [{"manager": "x", "time": at, "fieldsV1": other}])
    assert ingress_changes([quiet], NOW) == []

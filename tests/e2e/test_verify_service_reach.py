"""verify_recovery of a deployment whose Service sends traffic where nothing listens (review-assist6 G11's verify half).

Recovery of a Service means traffic can reach its pods. Two edits made with real kubectl leave every api pod Ready
while callers reach nothing:
  - targetPort 8080 -> 8008 (a number no container declares): the pods stay endpoints at :8008 and every connection
    is refused; verify_recovery said RECOVERED "stable for 30d".
  - targetPort http -> htpp (a name no container defines): no pod is an endpoint; verify said only "no ready
    endpoints", not why.
Each is DEGRADED now, naming the port, what the pods declare and what to check. The untouched Service first verifies
as before (the check reads the pods' declared ports, and api's declare http/8080).
"""

from __future__ import annotations

from typing import Any

import pytest
from mcp import Client
from support.kubectl_runner import Kubectl
from support.mitigation_env import NS, Env, call
from support.result_rule import budgeted

pytestmark = pytest.mark.anyio


def target_port(value: int | str) -> str:
    return f'[{{"op":"replace","path":"/spec/ports/0/targetPort","value":{value!r}}}]'.replace("'", '"')


def endpoints(report: dict[str, Any]) -> dict[str, Any]:
    return next(c for c in report["checks"] if c["name"] == "endpoints")


def addresses(env: Env) -> int:
    subsets = env.get("endpoints", "api").get("subsets") or []
    return sum(len(s.get("addresses") or []) for s in subsets)


async def test_a_numeric_target_port_no_container_declares_is_not_recovered(built: tuple[Env, Kubectl]) -> None:
    env, kubectl = built
    async with Client(env.server("safe")) as client:
        before = await call(client, "verify_recovery", namespace=NS, deployment="api")
        kubectl.run("patch", "service/api", "-n", NS, "--type=json", "-p", target_port(8008))
        await env.until(lambda: addresses(env) == 3)  # upstream too: a number always resolves, every pod stays
        after = await call(client, "verify_recovery", namespace=NS, deployment="api")

    assert before["verdict"] == "RECOVERED" and endpoints(before)["passed"] is True, before["summary"]
    assert after["verdict"] == "DEGRADED", after["summary"]
    check = endpoints(after)
    assert check["passed"] is False, check
    assert "service api sends traffic to port 8008, which no container of its 3 Ready pods declares" in check["detail"]
    assert "they declare 8080 (http)" in check["detail"] and "targetPort" in check["detail"], check["detail"]
    assert "port 8008" in after["summary"], after["summary"]


async def test_a_target_port_name_no_container_defines_says_why_nothing_is_an_endpoint(
    built: tuple[Env, Kubectl],
) -> None:
    env, kubectl = built
    kubectl.run("patch", "service/api", "-n", NS, "--type=json", "-p", target_port("htpp"))
    await env.until(lambda: addresses(env) == 0)
    async with Client(env.server("safe")) as client:
        after = await call(client, "verify_recovery", namespace=NS, deployment="api")

    assert after["verdict"] == "DEGRADED", after["summary"]
    check = endpoints(after)
    assert check["passed"] is False, check
    assert "service api's targetPort htpp names no port of its 3 Ready pods (they define http)" in check["detail"]


async def test_get_endpoints_says_what_verify_says_of_a_port_no_container_declares(built: tuple[Env, Kubectl]) -> None:
    """get_endpoints read no pods and said '3 ready' of the Service verify_recovery calls DEGRADED: its endpoints are
    Ready at a port nothing declares. Now it says so, on the same evidence (the ports edited in the incident window);
    unedited, it says what it said."""
    env, kubectl = built
    async with Client(env.server("safe")) as client:
        before = await budgeted(client, "get_endpoints", namespace=NS, service="api")
        kubectl.run("patch", "service/api", "-n", NS, "--type=json", "-p", target_port(8008))
        await env.until(lambda: addresses(env) == 3)
        after = await budgeted(client, "get_endpoints", namespace=NS, service="api")
        verified = await call(client, "verify_recovery", namespace=NS, deployment="api")

    assert before["summary"] == "service api: 3 ready, 0 not ready", before["summary"]
    assert after["ready_count"] == 3, after
    said = "port 8008, which no container of its 3 Ready pods declares (they declare 8080 (http))"
    assert said in endpoints(verified)["detail"], endpoints(verified)["detail"]
    assert after["summary"].startswith(
        "service api: 3 ready, 0 not ready; but no pod declares target port 8008 (edited "
    )

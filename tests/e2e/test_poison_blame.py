"""The ISOLATE rule blames the peer a failing pod's errors come from, never its caller, end to end.

Played by review-assist (F18): cart crash-loops on a panic of its own; its log carries one access-log line whose
client address is a healthy frontend pod that calls it. The assessment blamed frontend ("failing cart pods name
frontend pods as the source of their errors") and proposed taking the caller out of traffic: an access log names a
caller in every line, and any logged text could name any pod, so that was a route from log content to an outage.
Built with real kubectl; the shipped `poison` scenario (api-bad's pods answer web with 500s) still isolates api-bad.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from mcp import Client
from support.kubectl_runner import Kubectl
from support.mitigation_env import Env, call, make_env

from incident_response.sim import behaviors
from incident_response.sim.serve import RunningSim

pytestmark = pytest.mark.anyio

NS = "inj"
OLD = "5000"  # minutes: every rollout here is days old, so no deploy is a suspect


def app(name: str, replicas: int, annotations: dict[str, str]) -> list[dict[str, object]]:
    labels = {"app": name}
    deployment = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {
            "name": name,
            "namespace": NS,
            "annotations": {"sim.incident-response.dev/rolled-out-minutes-ago": OLD},
        },
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": labels},
            "template": {
                "metadata": {"labels": labels, "annotations": annotations},
                "spec": {
                    "containers": [
                        {
                            "name": name,
                            "image": f"registry.example.com/inj/{name}:2.2",
                            "readinessProbe": {"httpGet": {"path": "/ready", "port": 8080}},
                        }
                    ]
                },
            },
        },
    }
    service = {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": name, "namespace": NS},
        "spec": {"selector": labels, "ports": [{"port": 80, "targetPort": 8080}]},
    }
    return [deployment, service]


def apply(k: Kubectl, objects: list[dict[str, object]]) -> None:
    k.run("apply", "-f", "-", stdin=json.dumps({"apiVersion": "v1", "kind": "List", "items": objects}))


@pytest.fixture
def env(sim_factory: Callable[..., RunningSim], tmp_path: Path) -> Env:
    return make_env(sim_factory("healthy"), tmp_path / "state")


async def frontend_ips(env: Env, k: Kubectl) -> list[str]:
    k.run("create", "namespace", NS)
    apply(k, app("frontend", 3, {}))
    await env.until(lambda: sum(1 for p in env.pods("app=frontend", NS) if p["status"].get("podIP")) == 3)
    return [str(p["status"]["podIP"]) for p in env.pods("app=frontend", NS)]


async def test_a_crashing_backend_does_not_blame_the_caller_its_access_log_names(
    env: Env, kubectl_for: Callable[[RunningSim], Kubectl]
) -> None:
    k = kubectl_for(env.sim)
    caller = (await frontend_ips(env, k))[0]
    lines = "\n".join(
        [
            f'{caller} - - [05/Dec/2026:01:35:02 +0000] "POST /api/cart/items HTTP/1.1" 500 0 "-" "frontend/4.0"',
            f'level=error msg="request failed" client={caller}:51234 path=/api/cart/items',
            'level=fatal msg="panic: nil map in cart.merge"',
        ]
    )
    apply(
        k,
        app(
            "cart", 2, {"sim.incident-response.dev/behavior": "crashloop", "sim.incident-response.dev/log-lines": lines}
        ),
    )
    await env.until(
        lambda: [row["STATUS"] for row in k.table("pods", "-n", NS, "-l", "app=cart")] == ["CrashLoopBackOff"] * 2
    )

    async with Client(env.server("standard", namespaces=(NS,))) as client:
        assessed = await call(client, "assess_namespace", namespace=NS)
        decided = await call(client, "evaluate_decision", namespace=NS)

    decision = assessed["decision"]
    assert decision["primary_action"] == "INVESTIGATE", assessed["summary"]
    assert decision["target"] == "deployment/cart"
    assert "frontend" not in json.dumps(decision), decision
    # The victim's own crash line is the evidence, and the next call reads the crashed instance's log.
    assert any('crashed with: level=fatal msg="panic: nil map in cart.merge"' in e for e in decision["evidence"])
    assert (decision["next_tool"], decision["next_arguments"]["previous"]) == ("get_logs", True)
    assert decided["action"] == "INVESTIGATE" and "frontend" not in json.dumps(decided["next_arguments"])
    # What the assessment would have emptied: frontend serves, all three endpoints ready (kubectl as the oracle).
    endpoints = k.json("get", "endpoints", "frontend", "-n", NS)
    assert len(endpoints["subsets"][0]["addresses"]) == 3


async def test_the_poison_scenario_still_isolates_the_peer_the_errors_come_from(
    shared_sims: Callable[[str], RunningSim], tmp_path: Path
) -> None:
    env = make_env(shared_sims("poison"), tmp_path / "state")
    async with Client(env.server("safe")) as client:
        assessed = await call(client, "assess_namespace", namespace="shop")
    decision = assessed["decision"]
    assert decision["primary_action"] == "ISOLATE", assessed["summary"]
    assert decision["next_arguments"]["selector"] == "app=api,app.kubernetes.io/name=api,version=bad"
    assert "api-bad rolled out revision 1" in " ".join(decision["evidence"])
    assert "responses from pod api-bad-" in decision["evidence"][0]


async def test_an_nginx_upstream_error_blames_the_upstream_never_its_client(
    env: Env, kubectl_for: Callable[[RunningSim], Kubectl]
) -> None:
    """review-assist F18b: nginx's error log quotes the request and names the client first; only its `upstream:`
    field is the peer the error came from. edge (not Ready) logs upstream timeouts from an api pod (api's own pods
    crash: a suspect) for requests of a frontend pod (healthy): api is isolated, frontend is named nowhere."""
    k = kubectl_for(env.sim)
    caller = (await frontend_ips(env, k))[0]
    apply(k, app("api", 2, {behaviors.BEHAVIOR: behaviors.CRASHLOOP}))
    # api's pods crash (the suspect the assessment must see) before edge logs timeouts from one of them.
    await env.until(
        lambda: [row["STATUS"] for row in k.table("pods", "-n", NS, "-l", "app=api")] == ["CrashLoopBackOff"] * 2
    )
    upstream = str(env.pods("app=api", NS)[0]["status"]["podIP"])
    line = (
        "2026/12/05 01:35:02 [error] 7#7: *41 upstream timed out (110: Connection timed out) while reading response "
        f'header from upstream, client: {caller}, server: _, request: "GET /api HTTP/1.1", upstream: '
        f'"http://{upstream}:8080/api", host: "shop.example.com"'
    )
    apply(k, app("edge", 2, {behaviors.BEHAVIOR: behaviors.NOT_READY, behaviors.NOT_READY_LINE: line}))
    # Both edge pods run and fail readiness (kubectl as the oracle): counting pods alone let a loaded box assess
    # before they ran.
    await env.until(
        lambda: (
            [(row["READY"], row["STATUS"]) for row in k.table("pods", "-n", NS, "-l", "app=edge")]
            == [("0/1", "Running")] * 2
        )
    )

    async with Client(env.server("standard", namespaces=(NS,))) as client:
        assessed = await call(client, "assess_namespace", namespace=NS)

    isolations = [p for p in assessed["problems"] if p["action"] == "ISOLATE"]
    assert [p["next_arguments"].get("selector") for p in isolations] == ["app=api"], assessed["summary"]
    assert "frontend" not in json.dumps(assessed["problems"]) and caller not in json.dumps(assessed["problems"])

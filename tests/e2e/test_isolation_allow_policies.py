"""isolate_network next to a policy that admits ingress to the same pods: NetworkPolicies are additive, end to end.

Played by review-assist (F15): the shipped `poison` scenario (api-bad's pods answer web with 500s) plus an existing
policy api-from-web (app=web may call app=api). isolate_network planned "Deny all ingress to 2 pod(s)" and the sim
agreed (web recovered), but upstream a pod selected by several policies accepts the union of their rules: the new
`ingress: []` policy denies nothing api-from-web admits, and web keeps calling api-bad on a real cluster. Now the
planner refuses naming the policy and the alternative, and the sim keeps web poisoned until no policy admits it.
The incident is built with real kubectl; the refusal's alternative is planned and confirmed.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from mcp import Client
from support.kubectl_runner import Kubectl
from support.mitigation_env import NS, Env, call, make_env, plan_and_confirm, refused, serving

from incident_response.sim.serve import RunningSim

pytestmark = pytest.mark.anyio

BAD = "app=api,version=bad"


def policy(name: str, pods: dict[str, str], ingress: list[dict[str, object]]) -> str:
    return json.dumps(
        {
            "apiVersion": "networking.k8s.io/v1",
            "kind": "NetworkPolicy",
            "metadata": {"name": name, "namespace": NS},
            "spec": {"podSelector": {"matchLabels": pods}, "policyTypes": ["Ingress"], "ingress": ingress},
        }
    )


ALLOW_WEB = policy("api-from-web", {"app": "api"}, [{"from": [{"podSelector": {"matchLabels": {"app": "web"}}}]}])
DENY_BAD = policy("deny-bad", {"app": "api", "version": "bad"}, [])


@pytest.fixture
def env(sim_factory: Callable[..., RunningSim], tmp_path: Path) -> Env:
    return make_env(sim_factory("poison"), tmp_path / "state")


def web_healthy(env: Env) -> Callable[[], bool]:
    def check() -> bool:
        good, bad = serving(env, "web")
        return bool(good) and not bad

    return check


async def test_isolate_network_is_refused_where_a_policy_admits_the_traffic(
    env: Env, kubectl_for: Callable[[RunningSim], Kubectl]
) -> None:
    k = kubectl_for(env.sim)
    k.run("apply", "-f", "-", stdin=ALLOW_WEB)
    async with Client(env.server("standard")) as client:
        message = await refused(client, "isolate_network", namespace=NS, selector=BAD)
        assert "NetworkPolicy api-from-web admits ingress to api-bad-" in message, message
        assert "from pods app=web" in message and "additive" in message
        assert f"remove_pods_from_service(namespace={NS}, service=api, selector={BAD})" in message
        # Nothing changed: the only policy is the one the owner wrote (real kubectl as the oracle).
        names = [p["metadata"]["name"] for p in k.json("get", "networkpolicies", "-n", NS)["items"]]
        assert names == ["api-from-web"]
        # The alternative it names works: api-bad leaves the Service, web recovers.
        await plan_and_confirm(
            client, env, "remove_pods_from_service", standard=True, namespace=NS, service="api", selector=BAD
        )
        await env.until(web_healthy(env), 30)


async def test_the_sim_keeps_admitted_traffic_flowing_past_a_deny_all_policy(
    env: Env, kubectl_for: Callable[[RunningSim], Kubectl]
) -> None:
    """What the refused plan would have created, applied by hand: web stays poisoned while api-from-web admits it,
    and recovers once the allow policy is gone (the deny-all policy alone isolates api-bad)."""
    k = kubectl_for(env.sim)
    k.run("apply", "-f", "-", stdin=ALLOW_WEB)
    k.run("apply", "-f", "-", stdin=DENY_BAD)
    env.sim.wait_ticks(20)
    assert not web_healthy(env)(), serving(env, "web")
    k.run("delete", "networkpolicy", "api-from-web", "-n", NS)
    await env.until(web_healthy(env), 30)


async def test_the_isolate_tree_routes_past_the_allow_policy(
    env: Env, kubectl_for: Callable[[RunningSim], Kubectl]
) -> None:
    """evaluate_decision's ISOLATE walk agrees with the planner: where api-from-web admits the traffic, full isolation
    (data at risk, or the pods may go offline) is not isolate_network, whose plan would be refused, but taking the pods
    out of their Service."""
    k = kubectl_for(env.sim)
    k.run("apply", "-f", "-", stdin=ALLOW_WEB)
    async with Client(env.server("safe")) as client:
        at_risk = await call(client, "evaluate_decision", namespace=NS, action="ISOLATE", data_integrity_at_risk=True)
        offline = await call(client, "evaluate_decision", namespace=NS, action="ISOLATE", can_go_offline=True)
        k.run("delete", "networkpolicy", "api-from-web", "-n", NS)
        open_again = await call(client, "evaluate_decision", namespace=NS, action="ISOLATE", can_go_offline=True)
    for decided in (at_risk, offline):
        assert decided["verdict"] == "PROCEED", decided["summary"]
        assert decided["next_tool"] == "remove_pods_from_service", decided["summary"]
        selector = "app=api,app.kubernetes.io/name=api,version=bad"  # what the assessment selects api-bad's pods by
        assert decided["next_arguments"] == {"namespace": NS, "service": "api", "selector": selector}
        assert "NetworkPolicy api-from-web admits ingress" in decided["reason"]
    assert open_again["next_tool"] == "isolate_network"


async def test_an_allow_policy_added_after_the_isolation_is_not_called_isolated(
    env: Env, kubectl_for: Callable[[RunningSim], Kubectl]
) -> None:
    """The isolation held (web recovered, api-bad ISOLATED); then someone applies api-from-web: web's calls reach
    api-bad again, and verify_recovery no longer says the NetworkPolicy cuts api-bad off."""
    k = kubectl_for(env.sim)
    async with Client(env.server("full")) as client:
        await plan_and_confirm(client, env, "isolate_network", namespace=NS, selector=BAD)
        await env.until(web_healthy(env), 30)
        held = await call(client, "verify_recovery", namespace=NS, deployment="api-bad")
        k.run("apply", "-f", "-", stdin=ALLOW_WEB)
        await env.until(lambda: not web_healthy(env)(), 30)
        admitted = await call(client, "verify_recovery", namespace=NS, deployment="api-bad")
    assert held["verdict"] == "ISOLATED", held["summary"]
    assert admitted["verdict"] != "ISOLATED", admitted["summary"]

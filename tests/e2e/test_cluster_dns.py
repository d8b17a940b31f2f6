"""Cluster DNS down is named from every namespace's assessment (review-assist8 I10), built with real kubectl.

coredns (kube-system) rolls out a release that crash-loops with maxUnavailable 100%: Service kube-dns has no ready
endpoint and every name lookup in the cluster fails. The owners of shop ask about shop: assess_namespace and
evaluate_decision said NONE (shop's own pods are Ready in the simulator, which models no DNS dependency; on a real
cluster they would fail with lookup errors and be investigated one by one). Now both lead with the cluster DNS outage
and send the assistant to kube-system, whose assessment rolls coredns back. A server allowed only shop cannot assess
kube-system: it names the outage and sends the human to the cluster's operators.
"""

from __future__ import annotations

import json

import pytest
from mcp import Client
from support.kubectl_runner import Kubectl
from support.mitigation_env import Env, call, ready

from incident_response.sim import behaviors

pytestmark = pytest.mark.anyio
BAD = "registry.k8s.io/coredns/coredns:v1.11.4"
ALL_AT_ONCE = {"spec": {"strategy": {"rollingUpdate": {"maxUnavailable": "100%", "maxSurge": 0}}}}


async def test_cluster_dns_down_leads_every_namespace_to_kube_system(built: tuple[Env, Kubectl]) -> None:
    env, kubectl = built
    sim = env.sim
    sim.cluster.images[BAD] = {behaviors.BEHAVIOR: behaviors.CRASHLOOP}
    kubectl.run("patch", "deployment/coredns", "-n", "kube-system", "-p", json.dumps(ALL_AT_ONCE))
    kubectl.run("set", "image", "deployment/coredns", "-n", "kube-system", f"coredns={BAD}")

    def dns_down() -> bool:
        pods = env.pods("k8s-app=kube-dns", namespace="kube-system")
        return bool(pods) and all(p["spec"]["containers"][0]["image"] == BAD and not ready(p) for p in pods)

    await env.until(dns_down, 40)
    async with Client(env.server("safe")) as client:
        assessed = await call(client, "assess_namespace", namespace="shop")
        evaluated = await call(client, "evaluate_decision", namespace="shop")
        system = await call(client, "assess_namespace", namespace="kube-system")
    async with Client(env.server("safe", namespaces=("shop",))) as client:
        fenced = await call(client, "assess_namespace", namespace="shop")

    decision = assessed["decision"]
    assert (decision["primary_action"], decision["next_tool"]) == ("INVESTIGATE", "assess_namespace"), decision
    assert decision["next_arguments"] == {"namespace": "kube-system"}
    assert "cluster DNS is down: Service kube-system/kube-dns has no ready endpoint" in decision["reason"]
    assert assessed["problems"][0]["impact"] == "outage"
    assert (evaluated["verdict"], evaluated["next_tool"]) == ("PROCEED", "assess_namespace"), evaluated["summary"]
    assert (system["decision"]["primary_action"], system["decision"]["next_tool"]) == (
        "ROLLBACK",
        "rollback_deployment",
    ), system["summary"]
    fenced_decision = fenced["decision"]
    assert (fenced_decision["primary_action"], fenced_decision["next_tool"]) == ("INVESTIGATE", None), fenced_decision
    assert "kube-system is outside this server's namespaces" in fenced_decision["reason"], fenced_decision["reason"]

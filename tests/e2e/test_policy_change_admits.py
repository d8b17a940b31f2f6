"""A new NetworkPolicy in the change list says whom it still admits (review-assist7 H10).

"payments-lockdown" admits ingress to payments only from checkout, but web calls payments too; the sim models no
refused connection, so nothing fails and the human reports web's timeouts. assess listed the change as a bare
"NetworkPolicy payments-lockdown created 2s ago": who lost access was left to guess. It now reads "created (ingress
to payments only from checkout)"; with a second policy over the same pods (policies are additive) it claims no "only".
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from mcp import Client
from support.kubectl_runner import Kubectl
from support.mitigation_env import Env, call

pytestmark = pytest.mark.anyio
NS = "shop"


def policy(name: str, source: str) -> dict[str, Any]:
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": {"name": name, "namespace": NS},
        "spec": {
            "podSelector": {"matchLabels": {"app": "payments"}},
            "policyTypes": ["Ingress"],
            "ingress": [{"from": [{"podSelector": {"matchLabels": {"app": source}}}]}],
        },
    }


async def test_a_lockdown_policy_names_whom_it_admits(built: tuple[Env, Kubectl]) -> None:
    env, kubectl = built
    kubectl.run("apply", "-f", "-", stdin=json.dumps(policy("payments-lockdown", "checkout")))
    async with Client(env.server("safe")) as client:
        alone = (await call(client, "assess_namespace", namespace=NS))["summary"]
        kubectl.run("apply", "-f", "-", stdin=json.dumps(policy("payments-from-web", "web")))
        both = (await call(client, "assess_namespace", namespace=NS))["summary"]

    assert "NetworkPolicy payments-lockdown created (ingress to payments only from checkout)" in alone, alone
    assert "NetworkPolicy payments-lockdown created" in both and "only from" not in both, both

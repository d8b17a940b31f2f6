"""Which components a drain plan moved (tools/assess/drained.py), from its eviction steps."""

from __future__ import annotations

from typing import Any

from incident_response.tools.assess.drained import drained_components


def evict(namespace: str, name: str) -> dict[str, Any]:
    return {"action": {"kind": "kube", "verb": "evict", "resource": "pods", "namespace": namespace, "name": name}}


def test_evicted_pods_are_traced_to_their_deployment_statefulset_or_current_component() -> None:
    plan = {
        "target": {"kind": "Node", "name": "node-2"},
        "steps": [
            {"action": {"kind": "kube", "verb": "patch", "resource": "nodes", "name": "node-2"}},
            evict("shop", "api-695b596cf8-rglks"),  # gone: its ReplicaSet names the deployment
            evict("shop", "sessions-1"),  # gone: a StatefulSet member
            evict("shop", "web-75d49759f5-8nmkq"),  # still read (Terminating): its component
            evict("kube-system", "coredns-6b9cbb9fb6-zdhws"),  # another namespace
            evict("shop", "stray"),  # nothing says whose
        ],
    }
    replicasets = [
        {
            "metadata": {
                "name": "api-695b596cf8",
                "ownerReferences": [{"kind": "Deployment", "name": "api", "controller": True}],
            }
        }
    ]
    found = drained_components(plan, "shop", {"web-75d49759f5-8nmkq": "web"}, replicasets, {"sessions": "statefulset"})
    assert found == {"api", "sessions", "web"}

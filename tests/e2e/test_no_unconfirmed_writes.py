"""Whatever a model calls, nothing changes in the cluster until a plan is confirmed: every tool but confirm_command,
called with arguments that make the planners go all the way (validation, reads, the API's dry run), leaves no object
written by this server (every write of ours carries fieldManager=incident-response-mcp, which the API server records
in managedFields), no pod deleted or evicted, no object created. The last step confirms one plan in full mode to
show the check sees a write when there is one."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from mcp import Client

from incident_response.server.app import build_server
from incident_response.server.config import Settings, resolve_cluster
from incident_response.sim.resources import BY_KEY, PODS, REPLICASETS
from incident_response.sim.serve import RunningSim
from incident_response.tools.kube.client import FIELD_MANAGER

pytestmark = pytest.mark.anyio

NS = "shop"


def ours(sim: RunningSim) -> list[str]:
    """Objects whose managedFields name this server's field manager."""
    found = []
    for resource in BY_KEY.values():
        for obj in sim.cluster.store.items(resource):
            managers = {entry.get("manager") for entry in obj["metadata"].get("managedFields") or []}
            if FIELD_MANAGER in managers:
                found.append(f"{resource.plural}/{obj['metadata']['name']}")
    return found


def pods(sim: RunningSim) -> set[str]:
    return {
        str(p["metadata"]["uid"])
        for p in sim.cluster.store.items(PODS, NS)
        if not p["metadata"].get("deletionTimestamp")
    }


def arguments(sim: RunningSim) -> dict[str, list[dict[str, Any]]]:
    store = sim.cluster.store
    pod = next(p["metadata"]["name"] for p in store.items(PODS, NS) if p["metadata"]["name"].startswith("web-canary"))
    node = next(p["spec"]["nodeName"] for p in store.items(PODS, NS) if p["spec"].get("nodeName"))
    owners = [o["name"] for rs in store.items(REPLICASETS, NS) for o in rs["metadata"].get("ownerReferences") or []]
    rolled = next(name for name in sorted(set(owners)) if owners.count(name) > 1)  # a deployment with a past revision
    return {
        "rollback_deployment": [{"namespace": NS, "deployment": rolled}],
        "check_rollback_safety": [{"namespace": NS, "deployment": rolled}],
        "rollout_history": [{"namespace": NS, "deployment": rolled}],
        "verify_recovery": [{"namespace": NS, "deployment": "web-canary"}],
        "get_endpoints": [{"namespace": NS, "service": "web"}],
        "get_logs": [{"namespace": NS, "pod_or_deployment": "deployment/web-canary"}],
        "scale_deployment": [{"namespace": NS, "deployment": "api", "replicas": 5}],
        "override_hpa": [{"namespace": NS, "hpa": "web", "min_replicas": 4, "max_replicas": 8}],
        "set_memory_limit": [{"namespace": NS, "deployment": "payments", "container": "payments", "limit": "1Gi"}],
        "remove_pods_from_service": [{"namespace": NS, "service": "web", "selector": "app=web,version=canary"}],
        "isolate_network": [{"namespace": NS, "selector": "app=web,version=canary"}],
        "patch_service_selector": [{"namespace": NS, "service": "web", "selector": "app=web,version=stable"}],
        "switch_ingress_backend": [{"namespace": NS, "ingress": "shop", "service": "api"}],
        "shift_traffic": [
            {"namespace": NS, "from_deployment": "web-canary", "to_deployment": "web-stable", "replicas": 4}
        ],
        "rollback_canary": [{"namespace": NS, "app": "web"}],
        "delete_pod": [{"namespace": NS, "pod": pod}, {"namespace": NS, "pod": pod, "force": True}],
        "cordon_node": [{"node": node}],
        "drain_node": [{"node": node}],
        "uncordon_node": [{"node": node}],
        "pause_rollout": [{"namespace": NS, "deployment": "web-canary"}],
        "declare_incident": [{"title": "web canary down", "severity": "SEV2", "namespace": NS}],
    }


async def test_no_tool_but_confirm_writes_to_the_cluster(
    sim_factory: Callable[..., RunningSim], tmp_path: Path
) -> None:
    sim = sim_factory("canary")
    sim.cluster.settle(timeout=15.0)
    assert sim.kubeconfig_path is not None
    cluster = resolve_cluster(sim.kubeconfig_path, None, {})
    server = build_server(Settings(mode="full", cluster=cluster, state_dir=tmp_path / "state"))
    before, planned = pods(sim), []
    assert ours(sim) == []
    async with Client(server) as client:
        calls = arguments(sim)
        for tool in (await client.list_tools()).tools:
            if tool.name in ("confirm_command", "rollout_status"):
                continue
            schema = tool.input_schema or {}
            generic = {"namespace": NS} if "namespace" in (schema.get("properties") or {}) else {}
            for args in calls.get(tool.name, [generic]):
                result = await client.call_tool(tool.name, args)
                structured = result.structured_content or {}
                if structured.get("status") == "pending":
                    planned.append((tool.name, structured["token"]))
        assert {name for name, _ in planned} >= {
            "rollback_deployment",
            "scale_deployment",
            "drain_node",
        }
        assert ours(sim) == [], "a tool other than confirm_command wrote to the cluster"
        assert pods(sim) == before, "a tool other than confirm_command deleted or evicted a pod"
        # The check sees a write: confirm the scale (full mode runs it).
        token = next(token for name, token in planned if name == "scale_deployment")
        done = await client.call_tool("confirm_command", {"token": token})
        assert (done.structured_content or {}).get("status") == "succeeded", done.content
    assert ours(sim) == ["deployments/api"]

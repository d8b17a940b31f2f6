"""Secret data never leaves the server: helm values and manifests stay in the cluster, log credentials are redacted."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import anyio
import pytest
from mcp import Client
from mcp.types import CallToolResult

from incident_response.server.app import build_server
from incident_response.server.config import Settings, resolve_cluster
from incident_response.sim.resources import PODS
from incident_response.sim.serve import RunningSim

pytestmark = pytest.mark.anyio


def settings_for(sim: RunningSim) -> Settings:
    assert sim.kubeconfig_path is not None
    return Settings(kubeconfig=sim.kubeconfig_path, cluster=resolve_cluster(sim.kubeconfig_path, None, {}))


def everything_sent(result: CallToolResult) -> str:
    """All a client receives: structured content and every text block."""
    assert not result.is_error, result.content
    texts = [getattr(block, "text", "") for block in result.content]
    return json.dumps(result.structured_content) + "\n".join(texts)


def restarted_checkout_pod(sim: RunningSim) -> str | None:
    for pod in sim.store.items(PODS, "shop"):
        statuses = (pod.get("status") or {}).get("containerStatuses") or []
        if pod["metadata"]["labels"].get("app") == "checkout" and any(s.get("restartCount", 0) for s in statuses):
            return str(pod["metadata"]["name"])
    return None


async def test_helm_history_never_returns_release_values_or_manifests(sim_factory: Callable[..., RunningSim]) -> None:
    sim = sim_factory("healthy")
    async with Client(build_server(settings_for(sim))) as client:
        sent = everything_sent(await client.call_tool("helm_history", {"namespace": "shop", "release": "cart"}))
    assert '"revision"' in sent and "cart" in sent
    # The release Secrets hold values ({"replicaCount": 2, ...}) and a rendered manifest.
    for leaked in ("replicaCount", "apiVersion: apps/v1", "kind: Deployment", "H4sI"):
        assert leaked not in sent


async def test_crash_logs_reach_the_assistant_with_credentials_redacted(
    sim_factory: Callable[..., RunningSim],
) -> None:
    sim = sim_factory("bad-deploy")
    with anyio.fail_after(30):
        while (pod := restarted_checkout_pod(sim)) is None:
            await anyio.to_thread.run_sync(sim.wait_ticks, 5)
    arguments: dict[str, Any] = {"namespace": "shop", "pod_or_deployment": pod, "previous": True}
    async with Client(build_server(settings_for(sim))) as client:
        sent = everything_sent(await client.call_tool("get_logs", arguments))
    assert "panic: connection refused" in sent  # the crash itself is shown...
    assert "s3cr3t" not in sent  # ...without the password in its connection string
    assert "postgres://checkout:" in sent

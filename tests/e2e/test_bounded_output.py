"""Answers stay small at scale, and a capped answer says it is capped and how much is missing."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from mcp import Client

from incident_response.server.app import build_server
from incident_response.server.config import Settings, resolve_cluster
from incident_response.sim.serve import RunningSim
from incident_response.tools.assess.pods import FETCH_LIMIT

pytestmark = pytest.mark.anyio

EXTRA_PODS = FETCH_LIMIT + 500


@pytest.fixture
def big(sim_factory: Callable[..., RunningSim]) -> RunningSim:
    return sim_factory("healthy", extra_pods=EXTRA_PODS)


async def call(client: Client, tool: str, arguments: dict[str, Any]) -> tuple[dict[str, Any], int]:
    result = await client.call_tool(tool, arguments)
    assert not result.is_error, result.content
    assert result.structured_content is not None
    return result.structured_content, len(json.dumps(result.structured_content))


async def test_listing_more_pods_than_a_call_reads_says_how_many_exist(big: RunningSim) -> None:
    assert big.kubeconfig_path is not None
    settings = Settings(kubeconfig=big.kubeconfig_path, cluster=resolve_cluster(big.kubeconfig_path, None, {}))
    async with Client(build_server(settings)) as client:
        pods, size = await call(client, "list_pods", {"namespace": "scale"})
        assessment, assess_size = await call(client, "assess_namespace", {"namespace": "scale"})
    assert len(pods["pods"]) == 100  # the default page
    assert pods["truncation"] == {"shown": 100, "total": EXTRA_PODS, "truncated": True}
    assert pods["summary"].startswith(f"read {FETCH_LIMIT} of {EXTRA_PODS} pods in scale")
    assert size < 64 * 1024
    assert assessment["primary_action"] == "NONE"
    assert assess_size < 16 * 1024

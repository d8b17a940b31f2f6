"""Probe (not collected): argument injection into mitigation arguments."""
from __future__ import annotations

from pathlib import Path
from typing import Any, Callable

import pytest
from mcp import Client
from support.confirm_env import make_env

from incident_response.sim.serve import RunningSim

pytestmark = pytest.mark.anyio

BAD = ["--all", "-A", "x --force", "web;id", "Web", "wéb", "x\ny", "a" * 300, "../x", "x/y", "*", ""]

CALLS: list[tuple[str, str, dict[str, Any]]] = [
    ("delete_pod", "pod", {"namespace": "shop"}),
    ("override_hpa", "hpa", {"namespace": "shop", "min_replicas": 2, "max_replicas": 4}),
    ("set_memory_limit", "container", {"namespace": "shop", "deployment": "checkout", "limit": "512Mi"}),
    ("shift_traffic", "from_deployment", {"namespace": "shop", "to_deployment": "checkout", "replicas": 2}),
    ("shift_traffic", "to_deployment", {"namespace": "shop", "from_deployment": "checkout", "replicas": 2}),
    ("rollback_canary", "app", {"namespace": "shop"}),
    ("switch_ingress_backend", "ingress", {"namespace": "shop", "service": "checkout"}),
    ("remove_pods_from_service", "label", {"namespace": "shop", "service": "checkout", "selector": "app=checkout"}),
    ("isolate_network", "name", {"namespace": "shop", "selector": "app=checkout"}),
    ("get_logs", "container", {"namespace": "shop", "pod_or_deployment": "deployment/checkout"}),
    ("get_logs", "pod_or_deployment", {"namespace": "shop"}),
    ("list_events", "object", {"namespace": "shop"}),
    ("declare_incident", "incident_id", {"title": "x"}),
]


async def test_probe(sim_factory: Callable[..., RunningSim], tmp_path: Path) -> None:
    env = make_env(sim_factory("bad-deploy"), tmp_path / "state")
    async with Client(env.server("standard")) as c:
        for tool, param, base in CALLS:
            for bad in BAD:
                r = await c.call_tool(tool, {**base, param: bad})
                s = r.structured_content or {}
                text = r.content[0].text if r.content else ""
                print(f"{tool}.{param}={bad[:20]!r}: err={r.is_error} status={s.get('status')} cmd={s.get('command')!r} :: {text[:160]!r}")

"""Arguments the model passes never become options or extra words of the command a human is shown (and that
`kubectl`/`helm` would run): a name-like argument that is not a Kubernetes name is refused before anything is
planned, and isolate_network's policy name is made a DNS label."""

from __future__ import annotations

import re
import shlex
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from mcp import Client
from support.confirm_env import NAMESPACE, make_env

from incident_response.sim.serve import RunningSim

pytestmark = pytest.mark.anyio

HOSTILE = ["--all", "-A", "x --force", "web;id", "x\ny", "Web", "../x"]

NAMED: list[tuple[str, str, dict[str, Any]]] = [
    ("delete_pod", "pod", {"namespace": NAMESPACE}),
    ("override_hpa", "hpa", {"namespace": NAMESPACE, "min_replicas": 2, "max_replicas": 4}),
    ("set_memory_limit", "container", {"namespace": NAMESPACE, "deployment": "checkout", "limit": "512Mi"}),
    ("shift_traffic", "from_deployment", {"namespace": NAMESPACE, "to_deployment": "checkout", "replicas": 2}),
    ("shift_traffic", "to_deployment", {"namespace": NAMESPACE, "from_deployment": "checkout", "replicas": 2}),
    ("rollback_canary", "app", {"namespace": NAMESPACE}),
    ("switch_ingress_backend", "ingress", {"namespace": NAMESPACE, "service": "checkout"}),
    ("remove_pods_from_service", "label", {"namespace": NAMESPACE, "service": "checkout", "selector": "app=checkout"}),
    ("rollback_helm_release", "release", {"namespace": NAMESPACE}),
    ("cordon_node", "node", {}),
]


async def test_hostile_names_are_refused_or_made_safe(sim_factory: Callable[..., RunningSim], tmp_path: Path) -> None:
    env = make_env(sim_factory("bad-deploy"), tmp_path / "state")
    async with Client(env.server("standard")) as client:
        for tool, parameter, base in NAMED:
            for value in HOSTILE:
                result = await client.call_tool(tool, {**base, parameter: value})
                assert result.is_error, (tool, parameter, value, result.structured_content)
        for value in HOSTILE:
            result = await client.call_tool(
                "isolate_network", {"namespace": NAMESPACE, "selector": "app=checkout", "name": value}
            )
            assert not result.is_error and result.structured_content is not None
            command = result.structured_content["command"]
            (name,) = re.findall(r"\n  name: (\S+)\n", command)
            assert re.fullmatch(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?", name), name
            assert shlex.split(command.split("<<")[0])[:2] == ["kubectl", "apply"] and value not in command
            await client.call_tool("cancel_command", {"token": result.structured_content["token"]})
    assert env.image() != env.revision_image(2)

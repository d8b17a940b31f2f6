"""A ConfigMap the pods read, edited in place with nothing failing yet, is a recent change (review-assist7 H11a),
through an MCP client against the simulated cluster.

checkout reads checkout-config's PAYMENTS_URL only at start: an edit breaks nothing until its pods restart, and the
engineer asking "what changed in the last hour" needs it then. Only the failing pods' ConfigMaps were read, so the
edit was in no change list. Every ConfigMap the namespace's workload templates read is now read by name (its
metadata: the API keeps no history of the data), and an edit is dated by its field manager's managedFields entry,
the one time the API server keeps for it (a ConfigMap has no generation, and a resourceVersion is no time).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from mcp import Client
from support.kubectl_runner import Kubectl
from support.mitigation_env import NS, call, make_env
from support.texts import read_text

from incident_response.sim.serve import RunningSim
from incident_response.tools.k8s.quantity import parse_time

pytestmark = pytest.mark.anyio


async def test_a_configmap_edit_with_nothing_failing_is_a_recent_change(
    sim_factory: Callable[..., RunningSim], kubectl_for: Callable[[RunningSim], Kubectl], tmp_path: Path
) -> None:
    """checkout-config's PAYMENTS_URL is edited in place; checkout reads it only at start, so nothing fails yet."""
    env = make_env(sim_factory("healthy"), tmp_path / "state")
    kubectl = kubectl_for(env.sim)
    edit = json.dumps({"data": {"PAYMENTS_URL": "http://payments.shop.svc:8081"}})
    kubectl.run("patch", "configmap", "checkout-config", "-n", NS, "--type=merge", "-p", edit)
    entry = next(
        e
        for e in kubectl.json("get", "configmap", "checkout-config", "-n", NS, "--show-managed-fields")["metadata"][
            "managedFields"
        ]
        if e["manager"] == "kubectl-patch"
    )
    assert parse_time(entry["time"]) is not None  # the API server dates the edit: the list reads that time

    async with Client(env.server("safe")) as client:
        assessed = await call(client, "assess_namespace", namespace=NS)
        handoff = await read_text(client, "incident_handoff", namespace=NS)

    assert assessed["decision"]["primary_action"] == "NONE", assessed["summary"]
    listed = [c for c in assessed["recent_changes"] if c.startswith("ConfigMap checkout-config ")]
    assert listed and listed[0].startswith("ConfigMap checkout-config updated (key PAYMENTS_URL; read by checkout) "), (
        listed
    )
    assert listed[0].endswith(" ago by kubectl-patch"), listed
    assert "ConfigMap checkout-config updated (key PAYMENTS_URL; read by checkout)" in assessed["summary"], assessed[
        "summary"
    ]
    assert "ConfigMap checkout-config updated (key PAYMENTS_URL; read by checkout) by kubectl-patch" in handoff, handoff

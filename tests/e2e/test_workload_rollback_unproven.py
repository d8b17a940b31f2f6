"""A DaemonSet whose every revision failed: evaluate_decision does not call the previous one good, end to end.

The workload walk answered "Is there an earlier revision, known to have worked?" with yes whenever the cluster
showed anything about it, and PROCEEDed "revision 1 worked before" while check_rollback_safety said CHECK FIRST: its
pods crash-looped and were all replaced within minutes. Both now judge with tools/playbook/known_good.py: CHECK_OLDER
with rollout_history, or PROCEED once the human vouches for it (revision_known_good=true). Built with real kubectl.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from mcp import Client
from support.kubectl_runner import Kubectl
from support.mitigation_env import Env, call, make_env

from incident_response.sim.serve import RunningSim

pytestmark = pytest.mark.anyio

NS = "agents"


def daemonset(tag: str) -> str:
    labels = {"app": "agent"}
    return json.dumps(
        {
            "apiVersion": "v1",
            "kind": "List",
            "items": [
                {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": NS}},
                {
                    "apiVersion": "apps/v1",
                    "kind": "DaemonSet",
                    "metadata": {"name": "agent", "namespace": NS},
                    "spec": {
                        "selector": {"matchLabels": labels},
                        "template": {
                            "metadata": {
                                "labels": labels,
                                "annotations": {"sim.incident-response.dev/behavior": "crashloop"},
                            },
                            "spec": {"containers": [{"name": "agent", "image": f"registry.example.com/agent:{tag}"}]},
                        },
                    },
                },
            ],
        }
    )


@pytest.fixture
def env(sim_factory: Callable[..., RunningSim], tmp_path: Path) -> Env:
    return make_env(sim_factory("healthy"), tmp_path / "state")


def on_revision(k: Kubectl, revision: str) -> bool:
    """Every agent pod runs `revision` (its ControllerRevision's hash) and has crashed at least once."""
    revisions = k.json("get", "controllerrevisions", "-n", NS, "-l", "app=agent")["items"]
    hashes = {str(r["revision"]): r["metadata"]["labels"].get("controller-revision-hash") for r in revisions}
    pods = k.json("get", "pods", "-n", NS, "-l", "app=agent")["items"]
    return bool(pods) and all(
        p["metadata"]["labels"].get("controller-revision-hash") == hashes.get(revision)
        and (p["status"].get("containerStatuses") or [{}])[0].get("restartCount")
        for p in pods
    )


async def test_a_previous_revision_that_crash_looped_is_not_called_good(
    env: Env, kubectl_for: Callable[[RunningSim], Kubectl]
) -> None:
    k = kubectl_for(env.sim)
    k.run("apply", "-f", "-", stdin=daemonset("1.0"))
    await env.until(lambda: on_revision(k, "1"), 30)
    k.run("apply", "-f", "-", stdin=daemonset("1.0.1"))
    await env.until(lambda: on_revision(k, "2"), 60)

    async with Client(env.server("safe", namespaces=(NS,))) as client:
        safety = await call(client, "check_rollback_safety", namespace=NS, deployment="agent", kind="daemonset")
        walked = await call(client, "evaluate_decision", namespace=NS, action="ROLLBACK", deployment="agent")
        vouched = await call(
            client, "evaluate_decision", namespace=NS, action="ROLLBACK", deployment="agent", revision_known_good=True
        )
    known = next(i for i in safety["items"] if i["check"] == "known_good")
    assert safety["target_revision"] == 1 and known["status"] == "warning", safety["summary"]
    assert walked["verdict"] == "CHECK_OLDER", walked["summary"]
    assert walked["next_tool"] == "rollout_history" and walked["next_arguments"]["kind"] == "daemonset"
    assert "revision_known_good=true" in walked["reason"]
    assert vouched["verdict"] == "PROCEED" and vouched["next_arguments"]["to_revision"] == 1, vouched["summary"]

"""A StatefulSet's second bad revision: its rollback goes to the revision still serving, as a Deployment's does.

The simulated `bad-statefulset`: sessions revision 1 ran for 30 days, revision 2 (an image bump 15 minutes ago)
reached sessions-2, which crash-loops, and the ordered rollout stopped there. The team then pushes a "fix", revision
3 (with real kubectl). kubectl rollout undo would go to revision 2, the first bad one; sessions-0 and -1 still serve
revision 1. check_rollback_safety, assess_namespace and evaluate_decision name revision 1 and pass to_revision, and
rollback_workload without one warns (tools/playbook/known_good.py decides for every kind).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from mcp import Client
from support.kubectl_runner import Kubectl
from support.mitigation_env import NS, Env, call, make_env
from support.plan_warnings import proses

from incident_response.sim.serve import RunningSim

pytestmark = pytest.mark.anyio

FIX = "registry.example.com/shop/sessions:7.4.1"


@pytest.fixture
def env(sim_factory: Callable[..., RunningSim], tmp_path: Path) -> Env:
    return make_env(sim_factory("bad-statefulset"), tmp_path / "state")


def revisions(k: Kubectl) -> list[int]:
    return sorted(
        int(r["revision"]) for r in k.json("get", "controllerrevisions", "-n", NS, "-l", "app=sessions")["items"]
    )


async def test_a_statefulset_rollback_goes_to_the_revision_still_serving(
    env: Env, kubectl_for: Callable[[RunningSim], Kubectl]
) -> None:
    k = kubectl_for(env.sim)
    template = {"spec": {"containers": [{"name": "redis", "image": FIX}]}}
    k.run("patch", "statefulset/sessions", "-n", NS, "-p", json.dumps({"spec": {"template": template}}))
    await env.until(lambda: revisions(k) == [1, 2, 3])
    pods = {p["metadata"]["name"]: p for p in k.json("get", "pods", "-n", NS, "-l", "app=sessions")["items"]}
    assert all(pods[f"sessions-{i}"]["status"]["phase"] == "Running" for i in (0, 1))

    async with Client(env.server("standard")) as client:
        safety = await call(client, "check_rollback_safety", namespace=NS, deployment="sessions", kind="statefulset")
        assessed = await call(client, "assess_namespace", namespace=NS)
        decided = await call(client, "evaluate_decision", namespace=NS, migrations_forward_only=False)
        default = await call(client, "rollback_workload", namespace=NS, kind="statefulset", workload="sessions")
        await call(client, "cancel_command", token=default["token"])

    assert safety["target_revision"] == 1, safety["summary"]
    previous = next(i for i in safety["items"] if i["check"] == "previous_revision")
    assert "not the one kubectl rollout undo picks: " in previous["detail"], previous
    assert "to_revision=1" in safety["next_step"]
    decision = assessed["decision"]
    assert (decision["next_tool"], decision["next_arguments"].get("to_revision")) == ("rollback_workload", 1), decision
    assert decided["next_tool"] == "rollback_workload" and decided["next_arguments"]["to_revision"] == 1, decided
    # Without to_revision the tool keeps kubectl's semantics and says where to go instead.
    assert "--to-revision=2" in default["command"]
    assert any("to_revision=1" in w for w in proses(default["warnings"])), proses(default["warnings"])

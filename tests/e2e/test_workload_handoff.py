"""incident_handoff after a StatefulSet's and a DaemonSet's rollback end to end: an MCP client walks bad-statefulset
and bad-daemonset (assess, rollback_workload, verify), then the handoff puts the bad revision's rollout on the
timeline, the rollback in the actions, the workload in the current state, the suspected change in the hypotheses,
and commands that real kubectl runs as the evidence to repeat."""

from __future__ import annotations

import shlex
from collections.abc import Callable
from pathlib import Path

import anyio.to_thread
import pytest
from mcp import Client
from support.kubectl_runner import Kubectl
from support.mitigation_env import NS, call, make_env, plan_and_confirm
from support.texts import handoff_fields

from incident_response.sim.serve import RunningSim

pytestmark = pytest.mark.anyio


@pytest.mark.parametrize(
    ("scenario", "kind", "name", "bad", "good"),
    [
        ("bad-statefulset", "statefulset", "sessions", "sessions:7.4.0", "sessions:7.2.5"),
        ("bad-daemonset", "daemonset", "db-proxy", "db-proxy:1.15.0", "db-proxy:1.14.2"),
    ],
)
async def test_the_handoff_tells_the_workloads_story(
    sim_factory: Callable[..., RunningSim],
    kubectl_for: Callable[[RunningSim], Kubectl],
    tmp_path: Path,
    scenario: str,
    kind: str,
    name: str,
    bad: str,
    good: str,
) -> None:
    sim = sim_factory(scenario)
    env, k = make_env(sim, tmp_path / "state"), kubectl_for(sim)
    ref = f"{kind}/{name}"
    async with Client(env.server("full")) as client:
        assessment = await call(client, "assess_namespace", namespace=NS)
        assert assessment["decision"]["target"] == ref
        await plan_and_confirm(client, env, "rollback_workload", namespace=NS, kind=kind, workload=name)
        done = await anyio.to_thread.run_sync(
            lambda: k.run("rollout", "status", ref, "-n", NS, "--timeout=60s", check=False)
        )
        assert done.returncode == 0, done.stdout + done.stderr
        await call(client, "verify_recovery", namespace=NS, deployment=name, kind=kind)
        handoff = await handoff_fields(client, namespace=NS)

    assert handoff["deployments"] == [name]
    [state] = handoff["current_state"]["deployments"]
    assert (state["deployment"], state["kind"]) == (name, kind)
    assert state["verdict"] in ("RECOVERING", "RECOVERED"), state
    assert "not verified" not in handoff["current_state"]["service_detail"]
    assert f"{kind} {name} " in handoff["current_state"]["service_detail"]

    rollouts = [e["text"] for e in handoff["timeline"] if e["kind"] == "rollout"]
    [bad_rollout] = [t for t in rollouts if t.startswith(f"{ref} rolled out revision 2")]
    assert bad in bad_rollout and "the revision the rollback replaced" in bad_rollout
    assert f"it changed image registry.example.com/shop/{good} -> registry.example.com/shop/{bad}" in bad_rollout
    assert handoff["started"]["basis"] == f"rollout of the bad revision ({ref} revision 2)"

    [action] = [a for a in handoff["actions"] if a["tool"] == "rollback_workload"]
    assert action["result"] == "succeeded"
    statements = [h["statement"] for h in handoff["hypotheses"]]
    assert any(
        s.startswith(f"Revision 2 of {kind} {name} caused the failure; suspected change: image") for s in statements
    ), statements
    assert ref in handoff["document"]

    history = [c for c in handoff["evidence"]["reproduce"] if f"rollout history {ref}" in c]
    assert f"kubectl rollout history {ref} -n {NS} --context sim" in history
    for command in history:
        ran = await anyio.to_thread.run_sync(lambda c=command: k.shell(c, check=False))
        assert ran.returncode == 0, (command, ran.stderr)
    by_kubectl = await anyio.to_thread.run_sync(
        lambda: k.shell(f"kubectl rollout history {ref} -n {NS} --context sim --revision=2")
    )
    assert bad in by_kubectl.stdout
    logs = next(c for c in handoff["evidence"]["reproduce"] if c.startswith(f"kubectl logs {ref}"))
    assert shlex.split(logs)[:3] == ["kubectl", "logs", ref]

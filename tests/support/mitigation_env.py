"""End-to-end helpers for the mitigation tools: a server over a scenario, plan -> approve -> confirm, bounded waits."""

from __future__ import annotations

import contextlib
import json
import shlex
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import anyio
import anyio.to_thread
from mcp import Client
from mcp.server import MCPServer

from incident_response.server import approvals_command
from incident_response.server.app import build_server
from incident_response.server.config import Settings
from incident_response.sim.serve import RunningSim
from incident_response.tools.core.errors import NotFound
from incident_response.tools.engine.deps import Mode
from incident_response.tools.engine.journal import Journal
from incident_response.tools.engine.pending import PendingEngine
from incident_response.tools.kube.client import ClusterSource, RealKube
from incident_response.tools.mitigate.rollback import REVISION
from support import deploy_identity
from support.kubectl_runner import Kubectl

NS = "shop"


@dataclass
class Env:
    sim: RunningSim
    kube: RealKube
    state: Path
    # The server's kubeconfig when it is not the admin's (INCIDENT_RESPONSE_E2E_IDENTITY=deploy: deploy/'s account).
    server_kubeconfig: Path | None = None

    def server(self, mode: Mode = "full", namespaces: tuple[str, ...] = ()) -> MCPServer[Any]:
        """A server on this sim and state dir; `namespaces` is its --namespace allow-list."""
        assert self.sim.kubeconfig_path is not None
        source = ClusterSource(kubeconfig=self.server_kubeconfig or self.sim.kubeconfig_path, context=self.sim.context)
        return build_server(Settings(mode=mode, namespaces=namespaces, state_dir=self.state, cluster=source))

    def get(self, resource: str, name: str, namespace: str | None = NS) -> dict[str, Any]:
        return self.kube.get(resource, name, namespace)

    def pods(self, selector: str | None = None, namespace: str | None = NS) -> list[dict[str, Any]]:
        return self.kube.list("pods", namespace, label_selector=selector).items

    def observed(self, deployment: str) -> bool:
        """The deployment controller has synced this deployment's current spec (revision annotation set, status
        observedGeneration caught up): a plan made before that records fields the controller is about to write, and
        its confirm is refused as stale."""
        d = self.get("deployments", deployment)
        metadata, status = d["metadata"], d.get("status") or {}
        revision = (metadata.get("annotations") or {}).get(REVISION)
        return bool(revision) and status.get("observedGeneration") == metadata.get("generation")

    def rolled_out(self, deployment: str, replicas: int, namespace: str | None = NS) -> bool:
        """The Deployment's own status says its rollout is complete at `replicas`, as `kubectl rollout status` reads
        it: the controller observed the current spec (observedGeneration at generation), and every replica it
        counts is of the current template, ready and available. Ready pods alone do not say it: the controllers
        write the Deployment's status a tick or two after the pods, and the tools read that status."""
        return self.settled(deployment, replicas, replicas, namespace)

    def settled(self, deployment: str, replicas: int, ready: int, namespace: str | None = NS) -> bool:
        """The Deployment's own status has caught up with its current spec at `replicas`, all of the current
        template, and counts `ready` of them ready and available: a rollout whose pods fail (crash-looping, at their
        CPU limit, stuck) as the tools will read it, not as the pods alone say it a tick or two earlier."""
        d = self.get("deployments", deployment, namespace)
        status = d.get("status") or {}
        counts = [status.get(k, 0) for k in ("replicas", "updatedReplicas", "readyReplicas", "availableReplicas")]
        return (
            status.get("observedGeneration", 0) >= d["metadata"].get("generation", 1)
            and (d.get("spec") or {}).get("replicas", 1) == replicas
            and counts == [replicas, replicas, ready, ready]
        )

    @contextlib.asynccontextmanager
    async def held(self) -> AsyncIterator[None]:
        """The sim's controllers wait between two ticks while the block runs (its API still serves): writes made
        inside land together, and nothing the block wrote is acted on before it ends."""
        lock = self.sim.cluster._tick_lock
        await anyio.to_thread.run_sync(lock.acquire)
        try:
            yield
        finally:
            lock.release()

    async def until(self, check: Callable[[], bool], timeout: float = 20) -> None:
        """Let the simulated controllers run until `check` holds (bounded)."""
        with anyio.fail_after(timeout):
            while not await anyio.to_thread.run_sync(check):
                await anyio.to_thread.run_sync(self.sim.wait_ticks, 2)


Start = Callable[[str], Env]  # a scenario's name -> its cluster's Env (tests/e2e/conftest.py: start, shared)


def make_env(sim: RunningSim, state: Path) -> Env:
    assert sim.kubeconfig_path is not None
    admin = RealKube.connect(ClusterSource(kubeconfig=sim.kubeconfig_path, context=sim.context))
    if deploy_identity.wanted():
        return Env(
            sim,
            admin,
            state,
            deploy_identity.server_kubeconfig(sim, state.with_name(f"{state.name}.{sim.port}.deploy.kubeconfig")),
        )
    return Env(sim, admin, state)


async def call(client: Client, tool: str, **arguments: Any) -> dict[str, Any]:
    result = await client.call_tool(tool, arguments)
    assert not result.is_error, result.content
    structured: dict[str, Any] | None = result.structured_content
    assert structured is not None
    return structured


async def refused(client: Client, tool: str, **arguments: Any) -> str:
    """The guard's message of a planning call that must fail."""
    result = await client.call_tool(tool, arguments)
    assert result.is_error, result.structured_content
    return " ".join(getattr(c, "text", "") for c in result.content)


def approve_as_cli(env: Env, token: str) -> str:
    return approvals_command.decide(PendingEngine(Journal(env.state)), token, approved=True).status


async def plan_and_confirm(
    client: Client, env: Env, tool: str, *, standard: bool = False, **arguments: Any
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Plan, check the plan's shape, (approve as the human in standard mode), confirm; returns (plan, outcome)."""
    plan = await call(client, tool, **arguments)
    assert plan["status"] == "pending" and plan["token"], plan
    for step in plan["steps"]:
        first = step.split("\n", 1)[0]
        assert shlex.split(first)[0] == "kubectl" and "--context" in shlex.split(first), step
    assert "--context sim" in plan["command"]
    if standard:
        waiting = await call(client, "confirm_command", token=plan["token"])
        assert waiting["status"] == "awaiting_approval", waiting
        assert approve_as_cli(env, plan["token"]) == "approved"
    done = await call(client, "confirm_command", token=plan["token"])
    assert done["status"] == "succeeded", done
    assert [s["status"] for s in done["steps"]] == ["succeeded"] * len(plan["steps"])
    return plan, done


async def set_image(env: Env, kubectl: Kubectl, deployment: str, image: str) -> None:
    """A new revision of `deployment` (its container of the same name runs `image`), patched in with kubectl as a
    person would, and observed by the deployment controller: a plan made before that goes stale."""
    patch = {"spec": {"template": {"spec": {"containers": [{"name": deployment, "image": image}]}}}}
    kubectl.run("patch", "deployment", deployment, "-n", NS, "-p", json.dumps(patch))
    await env.until(lambda: env.observed(deployment))


def ready(pod: dict[str, Any]) -> bool:
    conditions = (pod.get("status") or {}).get("conditions") or []
    return any(c.get("type") == "Ready" and c.get("status") == "True" for c in conditions)


def serving(env: Env, service: str) -> tuple[list[str], list[str]]:
    """(ready, not ready) endpoint addresses of a Service, by target pod name."""
    try:
        endpoints = env.get("endpoints", service)
    except NotFound:
        return [], []
    ready_names, not_ready = [], []
    for subset in endpoints.get("subsets") or []:
        ready_names += [str((a.get("targetRef") or {}).get("name")) for a in subset.get("addresses") or []]
        not_ready += [str((a.get("targetRef") or {}).get("name")) for a in subset.get("notReadyAddresses") or []]
    return sorted(ready_names), sorted(not_ready)


async def oom_rollout_finished(env: Env) -> None:
    """payments' revision 2 (OOMKilled at its limit) is all there is: its revision 1's ReplicaSet is deleted, so the
    rollout completes onto pods that all OOM and no earlier revision serves (the out-of-memory rule's case; with the
    old pods serving, the unfinished rollout is rolled back instead)."""
    [old] = [
        rs
        for rs in env.kube.list("replicasets", NS, label_selector="app=payments").items
        if rs["metadata"]["annotations"].get("deployment.kubernetes.io/revision") == "1"
    ]
    env.kube.delete("replicasets", old["metadata"]["name"], NS)

    def only_revision_2() -> bool:
        pods = [p for p in env.pods("app=payments") if not p["metadata"].get("deletionTimestamp")]
        return len(pods) == 2 and all(p["spec"]["containers"][0]["image"].endswith(":5.1.0") for p in pods)

    await env.until(only_revision_2, 40)

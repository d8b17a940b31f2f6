"""Helpers for end-to-end confirmation tests: a server over a `bad-deploy` sim, a settable clock, tool calls."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import anyio
from mcp import Client
from mcp.server import MCPServer

from incident_response.server.app import build_server
from incident_response.server.config import Settings
from incident_response.sim.resources import HPAS
from incident_response.sim.serve import RunningSim
from incident_response.tools.engine.deps import Mode
from incident_response.tools.kube.client import ClusterSource, RealKube
from incident_response.tools.mitigate.rollback import REVISION

NAMESPACE = "shop"
DEPLOYMENT = "checkout"  # bad-deploy: revision 3 crash-loops, revision 2 was good


class Clock:
    def __init__(self) -> None:
        self.now = datetime.now(UTC)

    def __call__(self) -> datetime:
        return self.now


@dataclass
class Env:
    sim: RunningSim
    kube: RealKube
    state: Path
    clock: Clock
    deployment: str

    def server(self, mode: Mode = "standard", namespaces: tuple[str, ...] = ()) -> MCPServer[Any]:
        """A server on this sim and state dir; `namespaces` is its --namespace allow-list."""
        assert self.sim.kubeconfig_path is not None
        source = ClusterSource(kubeconfig=self.sim.kubeconfig_path, context=self.sim.context)
        settings = Settings(mode=mode, namespaces=namespaces, state_dir=self.state, cluster=source)
        return build_server(settings, clock=self.clock)

    def get(self) -> dict[str, Any]:
        return self.kube.get("deployments", self.deployment, NAMESPACE)

    def image(self) -> str:
        return str(self.get()["spec"]["template"]["spec"]["containers"][0]["image"])

    def revision_image(self, revision: int) -> str:
        for rs in self.kube.list("replicasets", NAMESPACE, label_selector=f"app={self.deployment}").items:
            if rs["metadata"].get("annotations", {}).get(REVISION) == str(revision):
                return str(rs["spec"]["template"]["spec"]["containers"][0]["image"])
        raise AssertionError(f"no revision {revision}")

    async def wait_rolled_out(self, timeout: float = 10) -> dict[str, Any]:
        """Until the deployment controller reports the new template fully available (bounded)."""
        with anyio.fail_after(timeout):
            while True:
                d = self.get()
                status, spec = d.get("status") or {}, d["spec"]
                if (
                    status.get("observedGeneration") == d["metadata"]["generation"]
                    and status.get("updatedReplicas") == spec["replicas"]
                    and status.get("availableReplicas") == spec["replicas"]
                    and status.get("replicas") == spec["replicas"]
                ):
                    return d
                await anyio.to_thread.run_sync(self.sim.wait_ticks, 2)


def make_env(sim: RunningSim, state: Path) -> Env:
    assert sim.kubeconfig_path is not None
    kube = RealKube.connect(ClusterSource(kubeconfig=sim.kubeconfig_path, context=sim.context))
    assert kube.get("deployments", DEPLOYMENT, NAMESPACE)["metadata"]["annotations"][REVISION] == "3"
    return Env(sim, kube, state, Clock(), DEPLOYMENT)


def without_autoscaler(env: Env) -> Env:
    """Remove the deployment's HPA: it resizes on simulated CPU at its own pace (and takes back a manual scale
    at its next sync, as upstream does), which is not what these tests look at."""
    store = env.sim.cluster.store
    for hpa in list(store.items(HPAS, NAMESPACE)):
        if (hpa.get("spec") or {}).get("scaleTargetRef", {}).get("name") == env.deployment:
            store.remove(HPAS, NAMESPACE, hpa["metadata"]["name"])
    env.sim.wait_ticks(2)  # a tick already under way works from a snapshot that still has the HPA
    return env


async def call(client: Client, tool: str, **arguments: Any) -> dict[str, Any]:
    result = await client.call_tool(tool, arguments)
    assert not result.is_error, result.content
    structured: dict[str, Any] | None = result.structured_content
    assert structured is not None
    return structured


async def plan(client: Client, env: Env, **arguments: Any) -> dict[str, Any]:
    return await call(client, "rollback_deployment", namespace=NAMESPACE, deployment=env.deployment, **arguments)

"""Kubernetes API requests per tool call, solo (the SQLite journal) against team mode (the journal as objects of our
CRDs on the cluster, tools/engine/kube_store.py), on the bad-deploy scenario: the same calls, in the same order, each
on a fresh server of its mode. A request is one HTTP request the server's client sends (RealKube._request); the
journal's are those to the store's namespace, the rest are the cluster reads the tool makes in both modes.

    python bench/team_requests.py 2>/dev/null      (-v: list each team-mode call's journal requests too)

tests/e2e/test_team_requests.py holds team mode's extra requests per call under a bound.
"""

from __future__ import annotations

import pathlib
import subprocess
import sys
import tempfile
import threading
from dataclasses import dataclass
from typing import Any

import anyio
from mcp import Client

from incident_response.server.app import build_server
from incident_response.server.config import Settings, resolve_cluster
from incident_response.sim.serve import RunningSim, run_sim
from incident_response.tools.kube.client import ClusterSource, RealKube

ROOT = pathlib.Path(__file__).resolve().parents[1]
STORE_NAMESPACE = "incident-response"
NS = "shop"
# An on-call engineer's first minutes: assess (the first call opens the incident), assess again, the decision, a
# look at the pods and the rollout, a plan, the pending list, the handoff.
CALLS: list[tuple[str, dict[str, Any]]] = [
    ("assess_namespace", {"namespace": NS}),
    ("assess_namespace", {"namespace": NS}),
    ("evaluate_decision", {"namespace": NS}),
    ("list_pods", {"namespace": NS}),
    ("rollout_history", {"namespace": NS, "deployment": "checkout"}),
    ("check_rollback_safety", {"namespace": NS, "deployment": "checkout"}),
    ("rollback_deployment", {"namespace": NS, "deployment": "checkout"}),
    ("list_pending_commands", {}),
    ("verify_recovery", {"namespace": NS, "deployment": "checkout"}),
    ("incident_handoff", {"namespace": NS}),
]


class CountingKube(RealKube):
    """The real seam, counting every request it sends (from any thread) by where it goes."""

    paths: list[str]
    lock: threading.Lock

    def _request(self, method: str, path: str, **kwargs: Any) -> bytes:
        query = "&".join(f"{k}={v}" for k, v in kwargs.get("query") or [])
        with self.lock:
            self.paths.append(f"{method} {path}?{query}")
        return super()._request(method, path, **kwargs)


def counting(sim: RunningSim) -> CountingKube:
    assert sim.kubeconfig_path is not None
    kube = CountingKube.connect(ClusterSource(kubeconfig=sim.kubeconfig_path))
    kube.paths, kube.lock = [], threading.Lock()
    return kube


@dataclass(frozen=True)
class Counted:
    tool: str
    requests: tuple[str, ...]  # "METHOD path?query", in the order sent

    @property
    def journal_requests(self) -> list[str]:
        """Those to the store's namespace (its objects, and the seal-key Secret): what team mode adds."""
        return [r for r in self.requests if f"/namespaces/{STORE_NAMESPACE}/" in r]

    @property
    def journal(self) -> int:
        return len(self.journal_requests)

    @property
    def cluster(self) -> int:
        return self.total - self.journal

    @property
    def total(self) -> int:
        return len(self.requests)


def install_store(sim: RunningSim, folder: pathlib.Path) -> None:
    """deploy/'s CRDs, and the store's namespace with its empty seal-key Secret, as an operator applies them."""
    assert sim.kubeconfig_path is not None
    base = ["kubectl", "--kubeconfig", str(sim.kubeconfig_path), "--cache-dir", str(folder / "kubectl-cache")]
    crds = ROOT / "deploy" / "crds"
    for argv in (
        ["apply", "-f", str(crds)],
        ["wait", "--for=condition=Established", "crd", "-l", "app.kubernetes.io/name=incident-response-mcp"],
        ["create", "namespace", STORE_NAMESPACE],
        ["apply", "-n", STORE_NAMESPACE, "-f", str(ROOT / "deploy" / "seal-key.yaml")],
    ):
        subprocess.run([*base, *argv], check=True, capture_output=True, timeout=60)


async def count(sim: RunningSim, folder: pathlib.Path, *, team: bool) -> list[Counted]:
    """CALLS on a fresh server of the mode (its own state directory; team mode's store namespace emptied of what an
    earlier run left is not needed: each run here gets a fresh cluster)."""
    assert sim.kubeconfig_path is not None
    settings = Settings(
        state_dir=folder / ("state-team" if team else "state-solo"),
        kubeconfig=sim.kubeconfig_path,
        cluster=resolve_cluster(sim.kubeconfig_path, None, {}),
        store="kubernetes" if team else "sqlite",
        store_namespace=STORE_NAMESPACE if team else None,
    )
    kube = counting(sim)
    counted: list[Counted] = []
    async with Client(build_server(settings, kube)) as client:
        for tool, arguments in CALLS:
            kube.paths.clear()
            result = await client.call_tool(tool, arguments)
            assert not result.is_error, (tool, result.content)
            for worker in threading.enumerate():
                if worker.name == "store-retention":  # started by a call's record, once an hour: counted with it
                    worker.join(timeout=60)
            with kube.lock:
                counted.append(Counted(tool, tuple(kube.paths)))
    return counted


async def measure_team(folder: pathlib.Path) -> list[Counted]:
    """Team mode's counts on a fresh bad-deploy cluster with deploy/'s store installed."""
    with run_sim("bad-deploy", kubeconfig_path=folder / "kubeconfig") as sim:
        install_store(sim, folder)
        return await count(sim, folder, team=True)


async def measure(folder: pathlib.Path) -> tuple[list[Counted], list[Counted]]:
    """(solo, team) counts, each mode on its own fresh bad-deploy cluster."""
    with run_sim("bad-deploy", kubeconfig_path=folder / "solo" / "kubeconfig") as sim:
        solo = await count(sim, folder / "solo", team=False)
    return solo, await measure_team(folder / "team")


async def main() -> None:
    folder = pathlib.Path(tempfile.mkdtemp())
    solo, team = await measure(folder)
    if "-v" in sys.argv:
        for one in team:
            print(one.tool, *one.journal_requests, sep="\n  ")
    print(f"{'call':<24} {'solo':>5} {'team':>5} {'journal':>8} {'extra':>6}")
    for one, other in zip(solo, team, strict=True):
        print(f"{one.tool:<24} {one.total:>5} {other.total:>5} {other.journal:>8} {other.total - one.total:>6}")
    print(
        f"{'total':<24} {sum(c.total for c in solo):>5} {sum(c.total for c in team):>5} "
        f"{sum(c.journal for c in team):>8} {sum(c.total for c in team) - sum(c.total for c in solo):>6}"
    )


if __name__ == "__main__":
    anyio.run(main)

"""Team mode on a simulated cluster: deploy/ applied by the admin, identities with tokens the cluster issued (the
server's ServiceAccount, a bot, people), and `serve --http --store kubernetes` replicas running as the server's
ServiceAccount."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

from incident_response.sim.serve import RunningSim
from support.http_server import LAUNCHER, clean_env, serving
from support.kubectl_runner import Kubectl

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
NAMESPACE = "incident-response"  # deploy/'s namespace
SERVER_ACCOUNT = "incident-response-mcp"  # deploy/'s ServiceAccount


def service_account_token(kubectl: Kubectl, name: str, namespace: str = NAMESPACE, *audiences: str) -> str:
    """`kubectl create token`: what a pod's projected token or an operator hands a client."""
    flags = [flag for audience in audiences for flag in ("--audience", audience)]
    return kubectl.run("create", "token", name, "-n", namespace, *flags).stdout.strip()


def kubeconfig_as(sim: RunningSim, tmp_path: Path, who: str, token: str) -> Path:
    return sim.write_kubeconfig(tmp_path / "kubeconfigs" / who, token, NAMESPACE)


def kubectl_as(sim: RunningSim, tmp_path: Path, who: str, token: str) -> Kubectl:
    return Kubectl(kubeconfig_as(sim, tmp_path, who, token), tmp_path / f"kubectl-cache-{who}")


@contextmanager
def replica(kubeconfig: Path, folder: Path, *extra: str, store: str | None = "kubernetes") -> Iterator[str]:
    """One `serve --http --store kubernetes` process (`store=None`: the default SQLite one in `folder`) as the identity
    of `kubeconfig`; yields its MCP URL."""
    folder.mkdir(parents=True, exist_ok=True)
    stored = ["--store", "kubernetes", "--store-namespace", NAMESPACE] if store == "kubernetes" else []
    argv = [
        sys.executable,
        "-c",
        LAUNCHER,
        "serve",
        "--http",
        "--host",
        "127.0.0.1",
        "--port",
        "0",
        "--kubeconfig",
        str(kubeconfig),
        *stored,
        "--state-dir",
        str(folder / "state"),
        *extra,
    ]
    with serving(argv, folder, clean_env(folder)) as url:
        yield url


@contextmanager
def replicas(kubeconfig: Path, tmp_path: Path, count: int, *extra: str) -> Iterator[list[str]]:
    with ExitStack() as stack:
        yield [stack.enter_context(replica(kubeconfig, tmp_path / f"replica-{i}", *extra)) for i in range(count)]

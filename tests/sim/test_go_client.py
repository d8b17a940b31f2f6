"""A real Go client against the simulated cluster: a public Kubernetes MCP server's binary, over its MCP stdio.

kubernetes-mcp-server (npm kubernetes-mcp-server-linux-amd64, installed by .ci/install-go-client) is built on
client-go: it checks access with a SelfSubjectAccessReview (sent as protobuf) before listing pods across
namespaces. Its `pods_list` must return the simulated pods, and an access the cluster denies must be refused.
It runs with our kubeconfig only: --kubeconfig, KUBECONFIG and HOME all point into the test's temp dir.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import anyio
import pytest
from mcp import Client, StdioServerParameters

from incident_response.sim.resources import PODS
from incident_response.sim.serve import RunningSim, run_sim

pytestmark = pytest.mark.anyio

PACKAGE = "kubernetes-mcp-server-linux-amd64"


def go_client_binary() -> Path | None:
    """The binary .ci/install-go-client installed (newest cached version), or None."""
    cache = os.environ.get("INCIDENT_RESPONSE_GO_CLIENT_CACHE") or str(
        Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "incident-response-mcp"
    )
    found = sorted(Path(cache).glob(f"go-client-*/node_modules/{PACKAGE}/bin/{PACKAGE}"))
    return found[-1] if found and os.access(found[-1], os.X_OK) else None


@pytest.fixture
def binary() -> Path:
    found = go_client_binary()
    if found is None:
        pytest.skip(
            f"the Go client ({PACKAGE} from npm) is not installed: run `bash .ci/install-go-client` "
            "(needs npm and linux/amd64; .ci/run does it)"
        )
    return found


@pytest.fixture
def cluster(tmp_path: Path) -> Iterator[RunningSim]:
    with run_sim("healthy", kubeconfig_path=tmp_path / "kubeconfig") as sim:
        yield sim


def server(binary: Path, sim: RunningSim, home: Path) -> StdioServerParameters:
    assert sim.kubeconfig_path is not None and sim.url.startswith("http://127.0.0.1:")
    env = {"PATH": "/usr/bin:/bin", "HOME": str(home), "KUBECONFIG": str(sim.kubeconfig_path)}
    args = [
        "--kubeconfig",
        str(sim.kubeconfig_path),
        "--cluster-provider",
        "kubeconfig",
        "--read-only",
        "--toolsets",
        "core",
        "--log-file",
        str(home / "go-client.log"),
        "--log-level",
        "5",  # logs its access-review answers ("RBAC check allowed")
    ]
    return StdioServerParameters(command=str(binary), args=args, env=env)


async def pods_list(binary: Path, sim: RunningSim, home: Path) -> tuple[bool, str]:
    with anyio.fail_after(60):
        async with Client(server(binary, sim, home)) as client:
            result = await client.call_tool("pods_list", {})
    text = "\n".join(getattr(part, "text", "") for part in result.content)
    return bool(result.is_error), text


async def test_pods_list_across_namespaces_returns_the_simulated_pods(
    binary: Path, cluster: RunningSim, tmp_path: Path
) -> None:
    failed, text = await pods_list(binary, cluster, tmp_path)
    assert not failed, text
    rows = [line.split() for line in text.splitlines() if line.strip()]
    assert rows[0][:4] == ["NAMESPACE", "APIVERSION", "KIND", "NAME"]
    listed = {(row[0], row[3]) for row in rows[1:]}
    stored = {
        (pod["metadata"]["namespace"], pod["metadata"]["name"])
        for pod in cluster.store.items(PODS)
        if "deletionTimestamp" not in pod["metadata"]
    }
    assert len(stored) > 10 and listed == stored
    assert {row[5] for row in rows[1:]} == {"Running"}
    log = (tmp_path / "go-client.log").read_text()
    assert (
        '"RBAC check allowed" kubernetes.rbac.verb="list" kubernetes.api.group="" kubernetes.api.resource="pods"' in log
    )  # STATUS, from the server's Table


async def test_an_access_review_the_cluster_denies_is_honoured(
    binary: Path, cluster: RunningSim, tmp_path: Path
) -> None:
    """The review travels as protobuf: were it not decoded, the server would not learn it is denied."""
    cluster.authz.deny("list", "pods")
    failed, text = await pods_list(binary, cluster, tmp_path)
    assert failed
    assert "forbidden" in text.lower() or "denied" in text.lower() or "not allowed" in text.lower(), text
    assert "coredns" not in text
    # the reason it logs is the one our review answered with
    log = (tmp_path / "go-client.log").read_text()
    assert 'kubernetes.rbac.reason="denied by the simulated cluster\'s authorization rules"' in log

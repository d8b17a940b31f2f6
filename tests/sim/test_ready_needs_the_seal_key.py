"""A team-mode replica is ready only once it holds the plan-sealing key: without deploy/'s Secret it could answer
reads but refuse every plan, so /readyz says `store` and the log says to apply deploy/; with the empty Secret the
first ready replica fills the key in (so plans made later on any replica seal with it)."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import httpx2
import pytest
from support.fake_reviews import FakeReviews
from support.kube_stores import fresh_namespace, install_crds
from support.kubectl_runner import Kubectl

from incident_response.server import http_security
from incident_response.server.config import Settings
from incident_response.server.kube_auth import KubernetesTokenVerifier
from incident_response.server.toolset_authz import ToolsetAuthorizer
from incident_response.sim.serve import RunningSim, run_sim
from incident_response.tools.engine.kube_objects import SEAL_SECRET
from incident_response.tools.kube.client import ClusterSource

pytestmark = pytest.mark.anyio


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[RunningSim, Kubectl]]:
    folder = tmp_path_factory.mktemp("ready-seal")
    with run_sim(None, kubeconfig_path=folder / "kubeconfig") as sim:
        kubectl = Kubectl(folder / "kubeconfig", folder / "cache")
        install_crds(kubectl)
        yield sim, kubectl


async def readyz(sim: RunningSim, namespace: str, folder: Path) -> httpx2.Response:
    api = FakeReviews({})
    security = http_security.HttpSecurity(
        KubernetesTokenVerifier(lambda: api),
        ToolsetAuthorizer(lambda: api, namespace).check,
        http_security.review_check(lambda: api),
    )
    assert sim.kubeconfig_path is not None
    settings = Settings(
        state_dir=folder / "state",
        http=True,
        cluster=ClusterSource(kubeconfig=sim.kubeconfig_path),
        store="kubernetes",
        store_namespace=namespace,
    )
    server = http_security.build(settings, security)
    transport = httpx2.ASGITransport(app=server.streamable_http_app())
    async with httpx2.AsyncClient(transport=transport, base_url="http://127.0.0.1:8000") as probe:
        return await probe.get("/readyz")


async def test_not_ready_without_the_seal_key_secret_and_ready_filling_it(
    cluster: tuple[RunningSim, Kubectl], tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    sim, kubectl = cluster
    missing = fresh_namespace(kubectl)
    kubectl.run("delete", "secret", SEAL_SECRET, "-n", missing)
    with caplog.at_level(logging.WARNING, logger="incident_response.server"):
        answer = await readyz(sim, missing, tmp_path / "missing")
    assert (answer.status_code, answer.text) == (503, "not ready: store\n")
    assert "may not create Secrets. Apply deploy/" in caplog.text
    assert kubectl.run("get", "secret", SEAL_SECRET, "-n", missing, check=False).returncode == 1

    shipped = fresh_namespace(kubectl)  # with deploy/'s empty Secret
    answer = await readyz(sim, shipped, tmp_path / "shipped")
    assert (answer.status_code, answer.text) == (200, "ok\n")
    assert kubectl.json("get", "secret", SEAL_SECRET, "-n", shipped)["data"]["key"]

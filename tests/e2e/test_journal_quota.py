"""README's cap on the team journal's growth works: a ResourceQuota on `count/journalentries.incident-response.dev`
in the store namespace stops new JournalEntry objects at its limit, and the tools go on answering (a refused journal
write does not fail the call). The rate limit (`--rate-limit`) only slows a looping client; this bounds it."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from mcp import Client
from support.kube_stores import install_crds, store_namespace
from support.kubectl_runner import Kubectl

from incident_response.server.app import build_server
from incident_response.server.config import Settings
from incident_response.sim.serve import RunningSim
from incident_response.tools.kube.client import ClusterSource

pytestmark = pytest.mark.anyio

NS = "irm-quota"
LIMIT = 4


async def test_a_journal_entry_quota_caps_the_store_and_the_tools_keep_answering(
    sim_factory: Callable[..., RunningSim], tmp_path: Path
) -> None:
    sim = sim_factory("healthy")
    assert sim.kubeconfig_path is not None
    kubectl = Kubectl(sim.kubeconfig_path, tmp_path / "cache")
    install_crds(kubectl)
    store_namespace(kubectl, NS)
    kubectl.run("create", "quota", "journal", "-n", NS, f"--hard=count/journalentries.incident-response.dev={LIMIT}")
    settings = Settings(
        cluster=ClusterSource(kubeconfig=sim.kubeconfig_path, context=sim.context),
        store="kubernetes",
        store_namespace=NS,
        state_dir=tmp_path / "state",
    )
    async with Client(build_server(settings)) as client:
        answers = [await client.call_tool("list_pods", {"namespace": "shop"}) for _ in range(LIMIT + 4)]
    assert not any(answer.is_error for answer in answers), [a.content for a in answers if a.is_error]
    entries = kubectl.run("get", "journalentries.incident-response.dev", "-n", NS, "-o", "name").stdout.split()
    assert 0 < len(entries) <= LIMIT, entries
    refused = kubectl.run(
        "create",
        "-n",
        NS,
        "-f",
        "-",
        check=False,
        stdin='{"apiVersion": "incident-response.dev/v1alpha1", '
        '"kind": "JournalEntry", "metadata": {"name": "one-more"}, "spec": {"type": "event", "at": 1}}',
    )
    assert refused.returncode != 0 and "exceeded quota: journal" in refused.stderr, refused.stderr

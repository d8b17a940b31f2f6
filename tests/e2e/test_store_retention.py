"""Retention of the team-mode store end to end: a resolved incident's objects, compacted into one summary after the
retention age, still hand off as before (an MCP client, our server on `--store kubernetes`, the simulated cluster)."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from mcp import Client
from support.kube_stores import install_crds, kube_store, store_namespace
from support.kubectl_runner import Kubectl
from support.mitigation_env import call
from support.texts import handoff_fields

from incident_response.server.app import build_server
from incident_response.server.config import Settings
from incident_response.sim.serve import RunningSim
from incident_response.tools.engine.kube_retention import compact
from incident_response.tools.kube.client import ClusterSource

pytestmark = pytest.mark.anyio
NAMESPACE = "incident-response"
HOUR = 3600.0


def objects_of(kubectl: Kubectl, kind: str) -> list[str]:
    return [
        o["metadata"]["name"] for o in kubectl.json("get", f"{kind}.incident-response.dev", "-n", NAMESPACE)["items"]
    ]


async def test_a_compacted_resolved_incident_hands_off_as_before(
    sim_factory: Callable[..., RunningSim], tmp_path: Path
) -> None:
    sim = sim_factory("bad-deploy")
    assert sim.kubeconfig_path is not None
    kubectl = Kubectl(sim.kubeconfig_path, tmp_path / "cache")
    install_crds(kubectl)
    store_namespace(kubectl, NAMESPACE)
    source = ClusterSource(kubeconfig=sim.kubeconfig_path, context=sim.context)
    settings = Settings(
        mode="full", state_dir=tmp_path / "state", cluster=source, store="kubernetes", store_namespace=NAMESPACE
    )
    async with Client(build_server(settings)) as client:
        declared = await call(
            client, "declare_incident", title="checkout returns 502", severity="SEV2", namespace="shop"
        )
        incident = declared["incident"]["incident_id"]
        for tool, arguments in (
            ("rollback_deployment", {"namespace": "shop", "deployment": "checkout"}),
            ("cordon_node", {"node": "node-2"}),
        ):
            planned = await call(client, tool, **arguments)
            done = await call(client, "confirm_command", token=planned["token"])
            assert done["status"] == "succeeded", done
        # The rollback settled before the first handoff: one read while it still runs says "rollback in progress" and
        # the handoff after compaction, read later, the settled story (failed alone on an idle box, passed under load).
        kubectl.run("rollout", "status", "deployment/checkout", "-n", "shop", "--timeout=60s")
        await call(client, "declare_incident", incident_id=incident, status="resolved")
        await handoff_fields(client, namespace="shop", incident_id=incident)
        before = await handoff_fields(client, namespace="shop", incident_id=incident)
        store = kube_store(sim, NAMESPACE)
        entries = objects_of(kubectl, "journalentries")
        assert compact(store, now=time.time(), retention=HOUR) == []  # resolved, but not an hour ago
        assert objects_of(kubectl, "journalentries") == entries
        assert compact(store, now=time.time() + HOUR, retention=HOUR) == [incident]
        left = objects_of(kubectl, "journalentries")
        after = await handoff_fields(client, namespace="shop", incident_id=incident)
    assert len([n for n in entries if n.startswith("call-")]) >= 8  # every tool call above was an object
    assert [n for n in left if n.startswith("summary-")] == [f"summary-{incident}"]
    assert not [n for n in left if n.startswith(("call-", "ev-"))]
    # The cordon is still in place: its command stays an object, so restore_measure finds it; the rollback is folded.
    assert len(objects_of(kubectl, "pendingcommands")) == 1
    assert [m["tool"] for m in store_measures(store, incident)] == ["cordon_node"]
    assert from_the_journal(after) == from_the_journal(before)
    assert from_the_journal(before)["actions"] and from_the_journal(before)["timeline"]
    assert from_the_journal(before)["evidence"]["tools_called"]  # the journal's part of the evidence is compared


def store_measures(store: Any, incident: str) -> list[dict[str, Any]]:
    return [c.plan for c in store.temporary_measures(incident=incident)]


# What the handoff reads from the cluster now (pods still settling) rather than from the journal.
FROM_THE_CLUSTER = ("current_state", "open_questions", "overall_verdict", "document", "summary", "hypotheses")
# Evidence read live at each call: Warning event counts, pod metrics and node conditions move on between two handoffs
# (the sim's controllers keep ticking). What get_logs read (journal calls) and the rollout comparison stay compared.
LIVE_READINGS = ("events", "metrics", "node")


def from_the_journal(handoff: dict[str, Any]) -> dict[str, Any]:
    kept = {key: value for key, value in handoff.items() if key not in FROM_THE_CLUSTER}
    # A hypothesis's evidence includes what assess_namespace finds now; its statement and source are the journal's.
    kept["hypotheses"] = [(h["statement"], h["source"]) for h in handoff["hypotheses"]]
    evidence = handoff["evidence"]
    kept["evidence"] = {
        **evidence,
        "collected": [item for item in evidence["collected"] if item["kind"] not in LIVE_READINGS],
    }
    return kept

"""A secret the server knows by position, echoed by the app into its log, is masked there too: the value of an env
var with a credential's name (DB_PASSWORD=...) has no shape a rule could see, and an app that logs it ("login with
<value> refused") would otherwise hand it to the model through get_logs. Other env values (a URL, a log level) are
left in the log: an engineer needs them to read it."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from mcp import Client
from support.texts import section, text_of

from incident_response.server.app import build_server
from incident_response.server.config import Settings, resolve_cluster
from incident_response.sim.scenarios.builders import App, Revision, Seeder
from incident_response.tools.core.masking import mask_text

pytestmark = pytest.mark.anyio

SECRET = "Tr0ub4dor&3"  # shapeless: no rule masks it in free text
URL = "http://payments.shop.svc:8080"


async def test_a_credential_env_value_echoed_in_the_log_is_masked(sim_factory: Any, tmp_path: Any) -> None:
    assert mask_text(f"login with {SECRET} refused") == f"login with {SECRET} refused"
    sim = sim_factory("healthy")
    lines = f"db login as app with {SECRET} refused\ncalling {URL} at level debug\nsecond try {SECRET}: refused"
    env = [
        {"name": "DB_PASSWORD", "value": SECRET},
        {"name": "PAYMENTS_URL", "value": URL},
        {"name": "LOG_LEVEL", "value": "debug"},
    ]
    app = App("ledger", "shop", 1, labels={"app": "ledger"}, selector={"app": "ledger"})
    revision = Revision(
        "registry.example.com/shop/ledger:1.0.0", "deploy", 600, {"sim.incident-response.dev/log-lines": lines}, env=env
    )
    with sim.cluster._tick_lock:  # seeded into a running cluster: its controllers must not make the ReplicaSet first
        Seeder(sim.cluster, ["node-1"]).app(app, [revision])
    sim.cluster.settle(timeout=15.0)
    assert sim.kubeconfig_path is not None
    settings = Settings(cluster=resolve_cluster(sim.kubeconfig_path, None, {}), state_dir=tmp_path / "state")
    async with Client(build_server(settings)) as client:
        result = await client.call_tool(
            "get_logs", {"namespace": "shop", "pod_or_deployment": "deployment/ledger", "tail_lines": 2000}
        )
    assert not result.is_error, result.content
    assert result.structured_content is None  # text only: what the model reads
    shown = text_of(result)
    assert SECRET not in shown
    lines_shown = section(shown, "lines")
    assert sum("[masked:" in line for line in lines_shown) == 2, lines_shown
    assert any(URL in line and "level debug" in line for line in lines_shown), lines_shown
    redacted = re.search(r"; (\d+) credentials redacted", shown.splitlines()[0])
    assert redacted is not None and int(redacted[1]) >= 2, shown.splitlines()[0]


async def test_a_crash_line_that_echoes_a_credential_is_masked_in_the_assessment(
    sim_factory: Any, tmp_path: Any
) -> None:
    """assess_namespace samples the crashed containers' logs for the line they died with: the same echo, another
    door."""
    sim = sim_factory("healthy")
    env = [{"name": "DB_PASSWORD", "value": SECRET}]
    app = App("ledger", "shop", 2, labels={"app": "ledger"}, selector={"app": "ledger"})
    revision = Revision(
        "registry.example.com/shop/ledger:1.0.1",
        "deploy",
        3 * 86400,  # no recent rollout: the assessment reads the crashed container's log for why it died
        {
            "sim.incident-response.dev/behavior": "crashloop",
            "sim.incident-response.dev/log-lines": f"panic: db login as app with {SECRET} refused",
        },
        env=env,
    )
    with sim.cluster._tick_lock:  # seeded into a running cluster: its controllers must not make the ReplicaSet first
        Seeder(sim.cluster, ["node-1"]).app(app, [revision])
    sim.cluster.settle(timeout=15.0)
    assert sim.kubeconfig_path is not None
    settings = Settings(cluster=resolve_cluster(sim.kubeconfig_path, None, {}), state_dir=tmp_path / "state")
    async with Client(build_server(settings)) as client:
        assessed = await client.call_tool("assess_namespace", {"namespace": "shop"})
        handoff = await client.call_tool("incident_handoff", {"namespace": "shop"})
    for result in (assessed, handoff):
        assert not result.is_error, result.content
        assert SECRET not in text_of(result) + json.dumps(result.structured_content)
    assert "db login as app with [masked:" in text_of(assessed) + json.dumps(assessed.structured_content), (
        "the crash line is still shown"
    )

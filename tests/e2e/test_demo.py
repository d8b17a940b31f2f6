"""The README's main command: `incident-response-mcp demo`, and `demo --serve` for any MCP client."""

from __future__ import annotations

import io
import re
import sys

import anyio
import pytest
from mcp import Client, StdioServerParameters

from incident_response.server.demo_command import walkthrough

pytestmark = pytest.mark.anyio


async def test_demo_walks_the_playbook_to_recovery() -> None:
    out = io.StringIO()
    with anyio.fail_after(120):
        code = await walkthrough(out)
    text = out.getvalue()
    assert code == 0, text
    steps = [
        "declare_incident",
        "assess_namespace",
        "evaluate_decision",
        "check_rollback_safety",
        "rollback_deployment",
        "confirm_command(token) before any human approved",
        "The human approves",
        "confirm_command(token)\n",
        "rollout_status",
        "verify_recovery(namespace='shop', deployment='checkout')\n",
        "verify_recovery(namespace='shop', deployment='checkout') after the stability window",
        "incident_handoff",
    ]
    for number, step in enumerate(steps, start=1):
        assert f"== {number}. {step}" in text, step
    assert "ROLLBACK deployment/checkout: PROCEED" in text
    assert "CLEAR to roll back deployment checkout from revision 3 to 2" in text
    assert "kubectl rollout undo deployment/checkout -n shop --to-revision=2 --context sim" in text
    assert "status: awaiting_approval. Nothing ran." in text
    assert "same code path as\n     incident-response-mcp approve " in text
    assert "status: succeeded" in text and "successfully rolled out" in text
    # Just after the rollback the checks pass but the stability window has not passed: the demo says so.
    assert "checkout: RECOVERING - 4/4 pods ready" in text
    # Past the window (the server's clock moved, and the demo says so) it is RECOVERED, which marks it stabilized.
    assert "The demo moves the server's clock 6 minutes forward instead of waiting." in text
    assert re.search(r"checkout: RECOVERED - .*; incident inc-\S+ marked stabilized", text)
    # The handoff is in the playbook's format: its title, the incident, the Duration ending at the stabilization.
    handoff = text[text.index("== 12. incident_handoff") :]
    lines = [line.strip() for line in handoff.splitlines()]
    assert lines[1:3] == ["INCIDENT HANDOFF TO RCA", "========================"]
    assert re.fullmatch(r"Duration: \S+ \S+ UTC to \S+ \S+ UTC \(\d+ min\)", lines[5]) and lines[6] == "Severity: SEV2"
    assert any(
        line.startswith("- rollback_deployment on deployment/checkout -n shop: succeeded at the API at ")
        and "fixed it: verify_recovery said RECOVERED for checkout" in line
        for line in lines
    )
    assert "- Service: running (checkout RECOVERED: 4/4 pods ready" in handoff
    assert "- Mitigation: rollback applied" in handoff and "- Temporary measures: none" in lines
    assert any(
        line.endswith("service recovered: verify_recovery said RECOVERED for checkout; incident marked stabilized")
        for line in lines
    )
    # The open question names the change an SRE would see in the cluster (the image), nothing of the simulator's.
    assert "sim.incident-response.dev" not in handoff, handoff
    assert (
        "- Revision 3 of checkout changed image registry.example.com/shop/checkout:2.4.0 -> "
        "registry.example.com/shop/checkout:2.5.0 (container checkout): what changed in the code between those "
        "images?" in handoff
    ), handoff
    assert text.rstrip().endswith("when the human says it is over.")


async def test_demo_serve_speaks_mcp_on_stdio() -> None:
    server = StdioServerParameters(
        command=sys.executable, args=["-c", "from incident_response.server.cli import main; main()", "demo", "--serve"]
    )
    with anyio.fail_after(120):
        async with Client(server) as client:
            names = {t.name for t in (await client.list_tools()).tools}
            assert {"rollback_deployment", "confirm_command", "list_pending_commands"} <= names
            result = await client.call_tool("rollback_deployment", {"namespace": "shop", "deployment": "checkout"})
            assert result.structured_content and result.structured_content["status"] == "pending"

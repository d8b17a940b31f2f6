"""Startup stays cheap and honest: heavy libraries stay off the handshake path, shared output schemas stay exact."""

from __future__ import annotations

import subprocess
import sys
import typing
from pathlib import Path

import pytest
from mcp import Client

from incident_response.server import app, confirmation, mitigation_tools
from incident_response.server.config import Settings
from incident_response.tools.engine.deps import Deps
from incident_response.tools.incident import declare
from incident_response.tools.mitigate import measures, rollback

pytestmark = pytest.mark.anyio

# Imported only inside the tool bodies (and the first masking) that need them: the MCP handshake must not wait.
LAZY = ("kubernetes", "yaml", "detect_secrets")


def test_building_the_server_imports_no_kubernetes_client_and_no_yaml(tmp_path: Path) -> None:
    script = (
        "import sys, pathlib\n"
        "from incident_response.server import cli\n"
        "from incident_response.server.app import build_server\n"
        "from incident_response.server.config import Settings\n"
        "cli.build_parser()\n"
        f"build_server(Settings(state_dir=pathlib.Path({str(tmp_path)!r})))\n"
        f"print(sorted(m for m in {LAZY!r} if m in sys.modules))\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120, check=True)
    assert done.stdout.strip() == "[]", done.stderr


async def test_every_output_schema_is_exactly_its_models_schema(tmp_path: Path) -> None:
    """Tools returning the same model share one generated schema; each must still equal its own model's schema."""
    deps = Deps(Settings(state_dir=tmp_path).tool_settings())
    functions = [
        *app.ASSESSMENT_TOOLS,
        rollback.rollback_deployment,
        *mitigation_tools.PLANNERS,
        measures.list_temporary_measures,
        declare.declare_incident,
        *confirmation.confirmation_tools(deps),
    ]
    models = {fn.__name__: typing.get_type_hints(fn)["return"] for fn in functions}
    async with Client(app.build_server(Settings(state_dir=tmp_path))) as client:
        tools = (await client.list_tools()).tools
    assert {tool.name for tool in tools} == set(models)
    shared = [name for name, model in models.items() if list(models.values()).count(model) > 1]
    assert len(shared) >= 10  # the planners' Proposal, the confirmation tools' CommandResult
    for tool in tools:
        assert tool.output_schema == models[tool.name].model_json_schema(), tool.name

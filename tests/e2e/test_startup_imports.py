"""What starting the server imports, seen from a fresh interpreter (a separate process: the test process has imported
everything already). The rest of the startup checks are in tests/unit/test_startup.py."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

# Imported only after the handshake (the warm-up, or the first call): the MCP handshake must not wait for them.
LAZY = (
    "kubernetes", "yaml", "detect_secrets", "incident_response.server.registration",
    "incident_response.tools.assess.namespace", "incident_response.tools.mitigate.rollback",
    "incident_response.server.kube_auth",  # HTTP only: a stdio server never needs it
    "incident_response.tools.engine.kube_store",  # --store kubernetes only
)  # fmt: skip


def test_building_the_server_and_listing_tools_imports_no_tool_and_no_heavy_library(tmp_path: Path) -> None:
    script = (
        "import asyncio, sys, pathlib\n"
        "from incident_response.server import cli\n"
        "from incident_response.server.app import build_server\n"
        "from incident_response.server.config import Settings\n"
        "from incident_response.server import config\n"
        f"config.load_settings(cli.build_parser().parse_args(['serve', '--state-dir', {str(tmp_path)!r}]))\n"
        f"server = build_server(Settings(state_dir=pathlib.Path({str(tmp_path)!r})))\n"
        "from incident_response.server.catalog import CATALOG\n"
        "assert len(asyncio.run(server.list_tools())) == len(CATALOG)\n"
        f"print(sorted(m for m in {LAZY!r} if m in sys.modules))\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120, check=True)
    assert done.stdout.strip() == "[]", done.stderr


# What a read's first call needs is ready once the warm-up has built the tools' shared code and opened the journal;
# the confirmation tools' pending engine and plans (~0.1 s of imports) come with the first tool that needs them.
PLANS_ONLY = (
    "incident_response.server.confirmation",
    "incident_response.tools.engine.pending",
    "incident_response.tools.engine.plan",
)


def test_the_tools_shared_code_and_the_journal_import_no_plan_machinery(tmp_path: Path) -> None:
    script = (
        "import pathlib, sys\n"
        "from incident_response.server.config import Settings\n"
        "from incident_response.server.registration import Builder\n"
        f"deps = Builder(Settings(state_dir=pathlib.Path({str(tmp_path)!r}))).deps\n"
        "deps.journal.prepare_writes()\n"
        "deps.incident_scope()\n"
        f"print(sorted(m for m in {PLANS_ONLY!r} if m in sys.modules))\n"
        "assert deps.pending.journal is deps.journal\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120, check=True)
    assert done.stdout.strip() == "[]", done.stderr

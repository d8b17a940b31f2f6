"""The masking boundary cannot be bypassed: a tool added any way, its errors, echoed arguments, log records and
printed output all leave masked."""

from __future__ import annotations

import io
import json
import logging
from pathlib import Path
from typing import Any

import pytest
from mcp import Client
from mcp.server.mcpserver.exceptions import ToolError
from mcp.types import CallToolResult
from support.secrets_corpus import CREDENTIALS

from incident_response.server import boundary, catalog
from incident_response.server.app import MaskingServer, build_server
from incident_response.server.config import Settings
from incident_response.server.registration import ToolSet, register
from incident_response.tools.core.masking import masked
from incident_response.tools.core.models import ToolResult
from incident_response.tools.engine.deps import Deps

pytestmark = pytest.mark.anyio

LINES = "\n".join(p.text for p in CREDENTIALS)
PLAIN_PASSWORD = "plainword42"  # no shape at all: only its position (an env value) gives it away


def sent(result: CallToolResult) -> str:
    texts = [getattr(block, "text", "") for block in result.content]
    return json.dumps(result.structured_content) + "\n".join(texts)


def leaked(text: str) -> list[str]:
    return [p.name for p in CREDENTIALS if p.secret in text] + ([PLAIN_PASSWORD] if PLAIN_PASSWORD in text else [])


class Leaky(ToolResult):
    lines: list[str]
    env: list[dict[str, str]]


def leaky_registered(deps: Deps) -> Leaky:
    """A tool written the project's way."""
    return Leaky(summary=LINES, lines=LINES.splitlines(), env=[{"name": "DB_PASSWORD", "value": PLAIN_PASSWORD}])


def leaky_text() -> str:
    """Added straight to the SDK, returning text."""
    return LINES


def leaky_dict() -> dict[str, Any]:
    """Added straight to the SDK, returning structured data."""
    return {"lines": LINES.splitlines(), "env": [{"name": "DB_PASSWORD", "value": PLAIN_PASSWORD}]}


def leaky_error() -> str:
    """Fails with the credentials in its message."""
    raise ToolError(f"could not connect: {LINES}")


async def test_a_new_tool_cannot_bypass_the_boundary(tmp_path: Path) -> None:
    server = build_server(Settings(state_dir=tmp_path))
    for fn in (leaky_text, leaky_dict, leaky_error):
        server.add_tool(fn)
    async with Client(server) as client:
        results = {name: await client.call_tool(name, {}) for name in ("leaky_text", "leaky_dict", "leaky_error")}
    for name, result in results.items():
        assert not leaked(sent(result)), name
    assert results["leaky_error"].is_error and "could not connect: " in sent(results["leaky_error"])
    # The masks keep the text useful: the lines are still there, only their credentials are gone.
    assert "connecting to postgres://app:[masked:" in sent(results["leaky_text"])
    assert "DB_PASSWORD" in sent(results["leaky_dict"])


async def test_a_registered_tool_is_masked_in_structured_content_and_its_text_copy(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(catalog.CATALOG, "leaky_registered", catalog.Entry("Leaky", "assess", module=__name__))
    tools = ToolSet()
    register(tools, Deps(Settings(state_dir=tmp_path).tool_settings()), leaky_registered)
    async with Client(MaskingServer("test", tools=tools.tools, arguments={})) as client:
        result = await client.call_tool("leaky_registered", {})
    assert not result.is_error, result.content
    assert not leaked(sent(result))
    assert result.structured_content is not None
    assert result.structured_content["env"][0]["value"].startswith("[masked:")


async def test_a_credential_echoed_from_the_arguments_is_masked(tmp_path: Path) -> None:
    planted = CREDENTIALS[0]
    async with Client(build_server(Settings(state_dir=tmp_path))) as client:
        wrong_type = await client.call_tool(
            "get_logs", {"namespace": "shop", "pod_or_deployment": "web", "tail_lines": planted.text}
        )
        bad_name = await client.call_tool("list_pods", {"namespace": planted.text})
    for result in (wrong_type, bad_name):
        assert result.is_error and planted.secret not in sent(result)


def test_log_records_are_masked_whoever_writes_them() -> None:
    boundary.install_log_masking()
    out = io.StringIO()
    handler = logging.StreamHandler(out)
    handler.setFormatter(logging.Formatter("%(name)s %(message)s"))
    logger = logging.getLogger("some.library")
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    try:
        for planted in CREDENTIALS:
            logger.info("connecting with %s", planted.text)  # the secret in an argument
            logger.warning(planted.text)  # the secret in the message itself
        try:
            raise RuntimeError(f"connect failed: {LINES}")
        except RuntimeError:
            logger.exception("request failed")  # the secret in a traceback
        logger.info("password=%s", PLAIN_PASSWORD)  # the secret only recognisable across format and argument
    finally:
        logger.removeHandler(handler)
    written = out.getvalue()
    assert "connecting with connecting to postgres://app:[masked:" in written
    assert "RuntimeError: connect failed" in written
    assert not leaked(written)


def test_printed_output_is_masked_a_line_at_a_time() -> None:
    target = io.StringIO()
    stream = boundary.MaskedOutput(target)
    for planted in CREDENTIALS:
        print(planted.text, file=stream)
    print("password=", end="", file=stream)
    print(PLAIN_PASSWORD, file=stream)
    stream.flush()
    assert not leaked(target.getvalue())
    # A line is masked whole, so a credential printed in two pieces on one line is still recognised.
    assert target.getvalue().endswith(f"password={masked(PLAIN_PASSWORD)}\n")

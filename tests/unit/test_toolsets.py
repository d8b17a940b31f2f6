"""Which tools a server lists: toolsets, the read-only profile and safe mode, each with titles, truthful annotations
and instructions that match."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

import pytest
from mcp import Client
from mcp.types import Tool

from incident_response.server import catalog, config
from incident_response.server.app import build_server
from incident_response.server.config import Settings, SettingsError

pytestmark = pytest.mark.anyio


async def listing(tmp_path: Path, **settings: Any) -> tuple[dict[str, Tool], str]:
    async with Client(build_server(Settings(state_dir=tmp_path, **settings))) as client:
        tools = {tool.name: tool for tool in (await client.list_tools()).tools}
        return tools, client.instructions or ""


def parse(argv: list[str], env: dict[str, str] | None = None) -> Settings:
    parser = argparse.ArgumentParser()
    config.add_arguments(parser)
    config.add_tool_arguments(parser)
    return config.load_settings(parser.parse_args(argv), env or {})


async def test_every_tool_has_a_title_and_an_entry_and_no_entry_is_stale(tmp_path: Path) -> None:
    tools, instructions = await listing(tmp_path)
    assert set(tools) == set(catalog.CATALOG)
    assert [name for name, tool in tools.items() if not tool.title or tool.title == name] == []
    assert (
        "confirm_command(token) asks them" in instructions and "It runs only after a human approved it" in instructions
    )


async def test_annotations_say_which_tools_return_untrusted_text_and_which_change_things(tmp_path: Path) -> None:
    tools, _ = await listing(tmp_path)

    def hints(name: str) -> tuple[bool, bool, bool, bool]:
        """What a client concludes: a hint left out means the spec's default (not read-only, destructive, not
        idempotent, open world); destructive and idempotent mean nothing for a read-only tool."""
        a = tools[name].annotations
        assert a is not None
        read_only = a.read_only_hint is True
        destructive = not read_only and a.destructive_hint is not False
        idempotent = not read_only and a.idempotent_hint is True
        return read_only, destructive, idempotent, a.open_world_hint is not False

    assert hints("get_logs") == (True, False, False, True)
    assert hints("list_events") == (True, False, False, True)
    assert hints("list_pods") == (True, False, False, False)
    assert hints("rollback_deployment") == (False, False, False, False)  # records a pending command, not the cluster
    assert hints("confirm_command") == (False, True, False, False)
    assert hints("cancel_command") == (False, False, True, False)


async def test_read_only_profile_lists_only_tools_that_change_nothing(tmp_path: Path) -> None:
    tools, instructions = await listing(tmp_path, read_only=True)
    assert {"assess_namespace", "get_logs", "verify_recovery", "incident_handoff", "list_pending_commands"} <= set(
        tools
    )
    assert not {"rollback_deployment", "confirm_command", "cancel_command", "declare_incident"} & set(tools)
    assert all(t.annotations is not None and t.annotations.read_only_hint for t in tools.values())
    assert "nothing in the cluster can be changed" in instructions


async def test_safe_mode_lists_no_tool_that_could_only_refuse_and_says_so(tmp_path: Path) -> None:
    tools, instructions = await listing(tmp_path, mode="safe")
    assert "confirm_command" not in tools and "rollback_deployment" in tools
    annotations = tools["rollback_deployment"].annotations
    assert annotations is not None and annotations.read_only_hint  # advice only: no token in safe mode
    assert "Safe mode" in instructions and "confirm_command" not in instructions


async def test_toolsets_choose_the_families_and_server_info_stays(tmp_path: Path) -> None:
    tools, instructions = await listing(tmp_path, toolsets=("decide", "confirm"))
    assert set(tools) == {
        "check_rollback_safety",
        "evaluate_decision",
        "confirm_command",
        "cancel_command",
        "list_pending_commands",
        "server_info",
    }
    assert "No mitigation tools are listed" in instructions and "Start with assess_namespace" not in instructions


def test_toolsets_from_flags_commas_repeats_and_the_environment() -> None:
    assert parse(["--toolsets", "assess,decide", "--toolsets", "incident"]).toolsets == ("assess", "decide", "incident")
    from_env = parse([], {"INCIDENT_RESPONSE_TOOLSETS": "mitigate, confirm", "INCIDENT_RESPONSE_READ_ONLY": "1"})
    assert from_env.toolsets == ("mitigate", "confirm") and from_env.read_only
    assert parse(["--toolsets", "assess"], {"INCIDENT_RESPONSE_TOOLSETS": "confirm"}).toolsets == ("assess",)
    assert parse([]).toolsets == () and not parse([]).read_only
    with pytest.raises(SettingsError, match="unknown toolset 'asses': choose from assess, decide"):
        parse(["--toolsets", "asses"])

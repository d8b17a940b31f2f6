"""Startup stays cheap and honest: heavy libraries and the tool modules stay off the handshake path, the manifest the
tools are listed from is what they derive, shared output schemas stay exact."""

from __future__ import annotations

import dataclasses
import typing
from pathlib import Path

import anyio
import anyio.to_thread
import pytest
from mcp import Client

from incident_response.server import app, catalog, manifest, registration, schemas
from incident_response.server.config import Settings
from incident_response.server.lazy_tools import LazyTools
from incident_response.tools.engine.deps import Deps

pytestmark = pytest.mark.anyio


async def test_every_output_schema_is_exactly_its_models_schema(tmp_path: Path) -> None:
    """Tools returning the same model share one generated schema; each must still equal its own model's schema."""
    deps = Deps(Settings(state_dir=tmp_path).tool_settings())
    functions = [registration.tool_function(name, deps) for name in catalog.CATALOG]
    models = {fn.__name__: typing.get_type_hints(fn)["return"] for fn in functions}
    async with Client(app.build_server(Settings(state_dir=tmp_path))) as client:
        tools = (await client.list_tools()).tools
    assert {tool.name for tool in tools} == set(models)
    shared = [name for name, model in models.items() if list(models.values()).count(model) > 1]
    assert len(shared) >= 10  # the planners' Proposal, the confirmation tools' CommandResult
    for tool in tools:
        if registration.text_only(models[tool.name]):  # answers its text alone (server/render.py TEXT_ONLY)
            assert tool.output_schema is None, tool.name
            continue
        assert tool.output_schema == schemas.output_schema(models[tool.name].model_json_schema()), tool.name
    text_only = {tool.name for tool in tools if tool.output_schema is None}
    assert text_only == {"get_logs", "list_events", "incident_handoff"}


def test_a_catalog_entry_naming_the_wrong_module_is_an_error_naming_the_tool(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The catalog is the one table of tools: an entry whose module has no such function fails the build, by name."""
    deps = Deps(Settings(state_dir=tmp_path).tool_settings())
    moved = dataclasses.replace(catalog.CATALOG["list_pods"], module="tools.assess.events")
    monkeypatch.setitem(catalog.CATALOG, "list_pods", moved)
    with pytest.raises(LookupError, match=r"tool list_pods is in tools\.assess\.events, but that module has no"):
        registration.build_tools(Settings(state_dir=tmp_path), ["list_pods"])
    assert registration.tool_function("list_events", deps).__module__ == "incident_response.tools.assess.events"


def test_the_manifest_is_what_the_tools_derive() -> None:
    """tools/list comes from server/tool_manifest.json: after changing a tool, regenerate it with
    `python -m incident_response.server.manifest`."""
    assert manifest.generate() == manifest.definitions(), "run: python -m incident_response.server.manifest"


@pytest.mark.parametrize("overrides", [{}, {"mode": "safe"}, {"read_only": True}, {"toolsets": ("mitigate",)}])
def test_the_listing_is_what_the_built_tools_say(tmp_path: Path, overrides: dict[str, object]) -> None:
    settings = Settings(state_dir=tmp_path, **overrides)  # type: ignore[arg-type]
    lazy = LazyTools(settings)
    built = registration.build_tools(settings, lazy.names).tools
    assert set(built) == set(lazy.names)
    for listed in lazy.listing:
        tool = built[listed.name]
        real = (tool.title, tool.description, tool.parameters, tool.output_schema, tool.annotations)
        assert (listed.title, listed.description, listed.input_schema, listed.output_schema, listed.annotations) == real


async def test_serving_warms_the_tools_up_once_a_client_has_listed_them(tmp_path: Path) -> None:
    """`serve` sets warm_after_listing: after the first tools/list a thread builds the tools and opens the journal
    (and would import the Kubernetes client), so the first call pays none of it."""
    from incident_response.tools.engine.journal import DB_NAME

    server = app.build_server(Settings(state_dir=tmp_path))
    assert server.lazy is not None
    server.lazy.warm_after_listing = True
    async with Client(server) as client:
        assert server.lazy.warming is None
        await client.list_tools()
        warming = server.lazy.warming
        assert warming is not None
        await anyio.to_thread.run_sync(warming.join, 60)
        assert not warming.is_alive()
        assert (tmp_path / DB_NAME).is_file()
        result = await client.call_tool("server_info", {})
    assert not result.is_error


def test_a_second_server_reuses_the_derived_schemas_with_its_own_wrappers_and_its_modes_annotations(
    tmp_path: Path,
) -> None:
    """Tool functions are derived once per process (registration.DERIVED); each server still gets its own call wrapper
    (bound to its Deps), the annotations true in its mode, and its own confirmation tools."""
    full = registration.build_tools(Settings(state_dir=tmp_path / "full", mode="full"), list(catalog.CATALOG)).tools
    safe_names = [name for name in catalog.CATALOG if name != "confirm_command"]
    safe = registration.build_tools(Settings(state_dir=tmp_path / "safe", mode="safe"), safe_names).tools
    planner = "rollback_deployment"
    assert safe[planner].fn_metadata is full[planner].fn_metadata  # derived once
    assert safe[planner].fn is not full[planner].fn
    assert (
        safe[planner].parameters == full[planner].parameters
        and safe[planner].parameters is not full[planner].parameters
    )
    assert full[planner].annotations and not full[planner].annotations.read_only_hint
    assert safe[planner].annotations and safe[planner].annotations.read_only_hint is True
    assert safe["cancel_command"].fn_metadata is not full["cancel_command"].fn_metadata  # a closure over its Deps

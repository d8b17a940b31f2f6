"""End to end: the MCP server driven by a real MCP client (in-process and over stdio) against simulated clusters."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import anyio
import pytest
from mcp import Client
from mcp.client.stdio import StdioServerParameters
from mcp.types import CallToolResult, TextContent, TextResourceContents
from support.kubectl_runner import Kubectl
from support.sims import SharedSims

from incident_response.server.app import build_server
from incident_response.server.config import Settings, resolve_cluster
from incident_response.sim.serve import RunningSim

pytestmark = pytest.mark.anyio


def text_of(result: CallToolResult, index: int = 0) -> str:
    block = result.content[index]
    assert isinstance(block, TextContent)
    return block.text


SCENARIOS = ["healthy", "bad-deploy", "overload", "poison", "oom", "canary", "node-failure"]


def settings_for(sim: RunningSim, state: Path, **overrides: Any) -> Settings:
    assert sim.kubeconfig_path is not None
    cluster = resolve_cluster(sim.kubeconfig_path, None, {})
    return Settings(kubeconfig=sim.kubeconfig_path, cluster=cluster, state_dir=state, **overrides)


async def call(client: Client, tool: str, arguments: dict[str, Any]) -> dict[str, Any]:
    result = await client.call_tool(tool, arguments)
    assert not result.is_error, result.content
    content: dict[str, Any] | None = result.structured_content
    assert content is not None
    return content


async def assess_until(client: Client, sim: RunningSim, expected: str) -> dict[str, Any]:
    """The sim settles before serving; a few controller ticks may still be needed for events to appear."""
    with anyio.fail_after(20):
        while True:
            assessment = await call(client, "assess_namespace", {"namespace": "shop"})
            if assessment["primary_action"] == expected:
                return assessment
            await anyio.to_thread.run_sync(sim.wait_ticks, 5)


@pytest.mark.parametrize(
    ("scenario", "action", "target", "next_tool"),
    [
        ("healthy", "NONE", None, None),
        ("bad-deploy", "ROLLBACK", "deployment/checkout", "rollback_deployment"),
        ("overload", "SCALE", "hpa/web", "override_hpa"),
        ("poison", "ISOLATE", None, "remove_pods_from_service"),
    ],
)
async def test_assess_namespace_picks_the_playbooks_action(
    shared_sims: SharedSims, tmp_path: Path, scenario: str, action: str, target: str | None, next_tool: str | None
) -> None:
    sim = shared_sims(scenario)
    async with Client(build_server(settings_for(sim, tmp_path))) as client:
        assessment = await assess_until(client, sim, action)
    decision = assessment["decision"]
    assert decision["next_tool"] == next_tool
    if target is not None:
        assert decision["target"] == target
    if action == "NONE":
        assert assessment["problem_pods"] == [] and decision["evidence"] == []
    if action == "ROLLBACK":
        rollout = assessment["recent_rollouts"][0]
        assert rollout["deployment"] == "checkout" and rollout["previous_images"] != rollout["images"]
        assert any("failing" in line for line in decision["evidence"])
    if action == "SCALE":
        assert assessment["hpas_at_max"] and assessment["hpas_at_max"][0]["saturated"]
    if action == "ISOLATE":
        assert "version=bad" in decision["next_arguments"]["selector"]
        assert decision["evidence"], "the events naming the culprit are the evidence"


@pytest.mark.parametrize(
    ("scenario", "action", "target", "next_tool", "next_arguments", "planned"),
    [
        ("canary", "ROLLBACK", "deployment/web-canary", "rollback_canary", {"namespace": "shop", "app": "web"},
         ["kubectl scale deployment/web-canary --replicas=0", "kubectl scale deployment/web-stable --replicas=5"]),
        ("node-failure", "ISOLATE", "node/node-2", "cordon_node", {"node": "node-2"}, ["kubectl cordon node-2"]),
    ],
)  # fmt: skip
async def test_assess_namespace_pulls_a_failing_canary_and_cordons_a_failing_node(
    shared_sims: SharedSims,
    tmp_path: Path,
    scenario: str,
    action: str,
    target: str,
    next_tool: str,
    next_arguments: dict[str, Any],
    planned: list[str],
) -> None:
    sim = shared_sims(scenario)  # planning dry-runs: the cluster does not change
    async with Client(build_server(settings_for(sim, tmp_path))) as client:
        assessment = await assess_until(client, sim, action)
        decision = assessment["decision"]
        assert (decision["target"], decision["next_tool"]) == (target, next_tool)
        assert decision["next_arguments"] == next_arguments
        plan = await call(client, decision["next_tool"], decision["next_arguments"])
    assert plan["status"] == "pending" and plan["token"]
    assert [step.split(" -n ")[0].split(" --context")[0] for step in plan["steps"]] == planned


@pytest.mark.parametrize("scenario", SCENARIOS)
async def test_list_pods_status_is_kubectls_status_column(
    shared_sims: SharedSims, kubectl_for: Callable[[RunningSim], Kubectl], tmp_path: Path, scenario: str
) -> None:
    sim = shared_sims(scenario)
    kubectl = kubectl_for(sim)
    with anyio.fail_after(120):
        async with Client(build_server(settings_for(sim, tmp_path))) as client:
            # Crash-looping pods change STATUS every few ticks: hold the controllers still (the API keeps serving)
            # so both reads see the same moment.
            with sim.cluster._tick_lock:
                ours = await call(client, "list_pods", {"namespace": "shop", "limit": 500})
                printed = await anyio.to_thread.run_sync(lambda: kubectl.table("pods", "-n", "shop"))
    theirs = {row["NAME"]: row["STATUS"] for row in printed}
    mine = {pod["name"]: pod["status"] for pod in ours["pods"]}
    assert mine == theirs
    assert ours["status_source"] == "table"


async def test_every_tool_is_listed_with_annotations_and_an_output_schema(
    shared_sims: SharedSims, tmp_path: Path
) -> None:
    sim = shared_sims("healthy")
    async with Client(build_server(settings_for(sim, tmp_path))) as client:
        tools = (await client.list_tools()).tools
    names = {tool.name for tool in tools}
    assert {
        "assess_namespace",
        "list_pods",
        "rollout_history",
        "rollout_status",
        "top_pods",
        "top_nodes",
        "list_hpas",
        "get_endpoints",
        "list_events",
        "get_logs",
        "helm_history",
        "server_info",
    } <= names
    for tool in tools:
        assert tool.annotations is not None, tool.name
        assert tool.title and tool.description, tool.name
        # Text only (server/render.py TEXT_ONLY): prose the model reads whole, the same text to every client.
        assert (tool.output_schema is None) == (tool.name in {"get_logs", "list_events", "incident_handoff"}), tool.name


@pytest.mark.parametrize(
    ("tool", "arguments", "says"),
    [
        ("list_pods", {"namespace": "Shop_Prod"}, "not a valid namespace name"),
        ("rollout_history", {"namespace": "shop", "deployment": "Bad Name"}, "not a valid Kubernetes name"),
        ("list_pods", {"namespace": "shop", "limit": 0}, "limit"),
        ("rollout_status", {"namespace": "shop", "deployment": "web", "timeout_seconds": 100000}, "timeout_seconds"),
        ("rollout_history", {"namespace": "shop", "deployment": "nope"}, "not found"),
        ("list_pods", {"namespace": "other"}, "allow-list"),
        ("rollout_history", {"namespace": "shop", "deployment": "web", "revision": 99}, "no revision 99"),
        ("get_logs", {"namespace": "shop", "pod_or_deployment": "deployment/nope"}, "not found"),
    ],
)
async def test_bad_arguments_are_clear_tool_errors(
    shared_sims: SharedSims, tmp_path: Path, tool: str, arguments: dict[str, Any], says: str
) -> None:
    sim = shared_sims("healthy")
    async with Client(build_server(settings_for(sim, tmp_path, namespaces=("shop",)))) as client:
        result = await client.call_tool(tool, arguments)
    assert result.is_error
    assert says in text_of(result, 0)


async def test_a_cluster_that_fails_mid_call_gives_a_clear_error(
    sim_factory: Callable[..., RunningSim], tmp_path: Path
) -> None:
    sim = sim_factory("healthy")  # its own: the faults change what every later caller would see
    async with Client(build_server(settings_for(sim, tmp_path))) as client:
        await call(client, "list_pods", {"namespace": "shop"})
        sim.faults.add("drop_before", resource="deployments")
        result = await client.call_tool("rollout_history", {"namespace": "shop", "deployment": "web"})
        assert result.is_error
        assert "connection to the Kubernetes API server was lost" in text_of(result, 0)
        sim.faults.clear()
        sim.faults.add("status", resource="pods", status=503, message="etcd is down")
        result = await client.call_tool("list_pods", {"namespace": "shop"})
        assert result.is_error and "etcd is down" in text_of(result, 0)


async def test_rollout_status_reports_progress_and_the_final_state(shared_sims: SharedSims, tmp_path: Path) -> None:
    sim = shared_sims("bad-deploy")
    updates: list[tuple[float, float | None, str | None]] = []

    async def on_progress(progress: float, total: float | None, message: str | None) -> None:
        updates.append((progress, total, message))

    async with Client(build_server(settings_for(sim, tmp_path))) as client:
        with anyio.fail_after(20):
            result = await client.call_tool(
                "rollout_status",
                {"namespace": "shop", "deployment": "checkout", "timeout_seconds": 2},
                progress_callback=on_progress,
            )
    assert not result.is_error
    status = result.structured_content
    assert status is not None
    assert status["state"] in ("timed_out", "failed")
    assert status["failing_pods"], "a stuck rollout names its failing pods"
    assert updates, "progress notifications were sent"
    assert_progress_is_honest(updates, desired=status["desired"])


def assert_progress_is_honest(updates: list[tuple[float, float | None, str | None]], desired: int) -> None:
    """MCP: each notification's progress increases. Ours: progress is the sum of the three counts the message
    names (updated, updated and available, old replicas gone), out of three steps per desired replica."""
    values = [progress for progress, _, _ in updates]
    assert values == sorted(set(values)), values
    for progress, total, message in updates:
        assert total == 3 * desired, (progress, total, message)
        assert message is not None
        counts = [int(part.split("/")[0]) for part in message.split(", ")]
        assert len(counts) == 3 and sum(counts) == progress, (progress, message)


async def test_rollout_status_progress_climbs_to_done_during_a_rollback(
    sim_factory: Callable[..., RunningSim], kubectl_for: Callable[[RunningSim], Kubectl], tmp_path: Path
) -> None:
    sim = sim_factory("bad-deploy")
    updates: list[tuple[float, float | None, str | None]] = []

    async def on_progress(progress: float, total: float | None, message: str | None) -> None:
        updates.append((progress, total, message))

    await anyio.to_thread.run_sync(lambda: kubectl_for(sim).run("rollout", "undo", "deployment/checkout", "-n", "shop"))
    async with Client(build_server(settings_for(sim, tmp_path))) as client:
        with anyio.fail_after(60):
            result = await client.call_tool(
                "rollout_status",
                {"namespace": "shop", "deployment": "checkout", "timeout_seconds": 50},
                progress_callback=on_progress,
            )
    status = result.structured_content
    assert status is not None and status["state"] == "complete", status
    assert_progress_is_honest(updates, desired=status["desired"])
    assert updates[-1][0] == updates[-1][1], "the last notification says the rollout is done"


async def test_skill_resource_and_prompts(shared_sims: SharedSims, tmp_path: Path) -> None:
    sim = shared_sims("healthy")
    async with Client(build_server(settings_for(sim, tmp_path))) as client:
        skill = await client.read_resource("skill://incident-response")
        prompts = {p.name: p for p in (await client.list_prompts()).prompts}
        stabilize = await client.get_prompt("stabilize", {"namespace": "shop", "deployment": "web"})
    assert isinstance(skill.contents[0], TextResourceContents)
    assert skill.contents[0].text.startswith("---\nname: incident-response")
    assert {"incident-response", "stabilize", "verify-recovery", "handoff"} <= set(prompts)
    assert [a.name for a in prompts["stabilize"].arguments or []] == ["namespace", "deployment"]
    content = stabilize.messages[0].content
    assert isinstance(content, TextContent)
    text = content.text
    assert 'assess_namespace(namespace="shop")' in text


def stdio_parameters(*args: str, home: Path) -> StdioServerParameters:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("KUBE", "INCIDENT_RESPONSE_"))}
    env["HOME"] = str(home)  # never read the developer's ~/.kube
    launcher = "from incident_response.server.cli import main; main()"
    return StdioServerParameters(command=sys.executable, args=["-c", launcher, *args], env=env)


async def test_over_stdio_assess_and_list_against_a_sim(shared_sims: SharedSims, tmp_path: Path) -> None:
    sim = shared_sims("bad-deploy")
    params = stdio_parameters(
        "--kubeconfig", str(sim.kubeconfig_path), "--state-dir", str(tmp_path / "state"), home=tmp_path
    )
    with anyio.fail_after(60):
        async with Client(params) as client:
            tools = (await client.list_tools()).tools
            assert "assess_namespace" in {t.name for t in tools}
            result = await client.call_tool("assess_namespace", {"namespace": "shop"})
    assert not result.is_error
    assert result.structured_content is not None
    assert result.structured_content["primary_action"] == "ROLLBACK"


async def test_over_stdio_without_any_kubeconfig_tools_say_no_cluster(tmp_path: Path) -> None:
    params = stdio_parameters("--state-dir", str(tmp_path / "state"), home=tmp_path)
    with anyio.fail_after(60):
        async with Client(params) as client:
            assert len((await client.list_tools()).tools) >= 12
            result = await client.call_tool("list_pods", {"namespace": "shop"})
    assert result.is_error
    assert "no cluster configured" in text_of(result, 0)

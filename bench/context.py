"""What the server costs a model's context, in bytes of compact JSON (server/budget.py measures; issue 13's limits).

    python bench/context.py [--show TOOL] 2>/dev/null

1. tools/list: what a client hands the model (every tool's name, title, description, input schema and annotations),
   for the full list, the read-only profile and safe mode; the output schemas (wire only) in all.
2. One call of every tool against simulated clusters where it applies (planners plan; confirm_command meets a plan
   no human approved in standard mode, and runs a cordon in full mode, which restore_measure then restores): the
   bytes of its text, of its structured content, and text plus structured against the larger of the two.
   `--show TOOL` prints that tool's text.
3. The sweep (bench/sweep.py): every read tool on every shipped scenario, with the calls the assessment proposes;
   the worst ratio per tool. get_logs is text only (server/render.py TEXT_ONLY): the same text to every client.
"""

from __future__ import annotations

import argparse
import os
import platform
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import anyio
import sweep
from mcp import Client
from mcp.types import CallToolResult, TextContent

from incident_response.server import budget
from incident_response.server.app import build_server
from incident_response.server.config import Settings, resolve_cluster
from incident_response.sim import behaviors
from incident_response.sim.cluster import Cluster
from incident_response.sim.resources import NODES
from incident_response.sim.scenarios.builders import DAY, App, Revision, Seeder
from incident_response.sim.serve import run_sim

NS = "shop"
Call = tuple[str, dict[str, Any]]
# Calls per (scenario, mode), so each tool meets a cluster where it applies. "{token}" is the token the last plan
# returned, "{pod}" a checkout pod, "{measure}" the first temporary measure listed.
GROUPS: list[tuple[str, str, list[Call]]] = [
    ("bad-deploy", "standard", [
        ("server_info", {}),
        ("assess_namespace", {"namespace": NS}),
        ("list_pods", {"namespace": NS}),
        ("rollout_history", {"namespace": NS, "deployment": "checkout"}),
        ("rollout_status", {"namespace": NS, "deployment": "checkout", "timeout_seconds": 0}),
        ("top_pods", {"namespace": NS}),
        ("top_nodes", {}),
        ("list_hpas", {"namespace": NS}),
        ("get_endpoints", {"namespace": NS, "service": "checkout"}),
        ("list_events", {"namespace": NS}),
        ("helm_history", {"namespace": NS, "release": "cart"}),
        ("check_rollback_safety", {"namespace": NS, "deployment": "checkout"}),
        ("evaluate_decision", {"namespace": NS}),
        ("declare_incident", {"title": "checkout returns 502", "severity": "SEV2", "namespace": NS}),
        ("rollback_deployment", {"namespace": NS, "deployment": "checkout"}),
        ("list_pending_commands", {}),
        ("confirm_command", {"token": "{token}"}),
        ("cancel_command", {"token": "{token}"}),
        ("pause_rollout", {"namespace": NS, "deployment": "checkout"}),
        ("scale_deployment", {"namespace": NS, "deployment": "api", "replicas": 5}),
        ("override_hpa", {"namespace": NS, "hpa": "web", "min_replicas": 3, "max_replicas": 10}),
        ("set_memory_limit", {"namespace": NS, "deployment": "payments", "container": "payments", "limit": "512Mi"}),
        ("remove_pods_from_service", {
            "namespace": NS, "service": "checkout", "selector": "app=checkout", "allow_no_endpoints": True,
        }),
        ("isolate_network", {"namespace": NS, "selector": "app=checkout"}),
        ("delete_pod", {"namespace": NS, "pod": "{pod}"}),
        ("patch_service_selector", {"namespace": NS, "service": "api", "selector": "app.kubernetes.io/name=api"}),
        ("switch_ingress_backend", {"namespace": NS, "ingress": "shop", "service": "api"}),
        ("shift_traffic", {"namespace": NS, "from_deployment": "checkout", "to_deployment": "api", "replicas": 3}),
        ("rollback_helm_release", {"namespace": NS, "release": "cart"}),
        ("verify_recovery", {"namespace": NS, "deployment": "checkout"}),
        ("incident_handoff", {"namespace": NS}),
    ]),
    ("canary", "standard", [("rollback_canary", {"namespace": NS, "app": "web"})]),
    # get_logs on a log that mostly repeats (its text folds the repeats; the sweep reads logs of distinct lines).
    ("dependency-down", "standard", [("get_logs", {"namespace": NS, "pod_or_deployment": "deployment/recommend"})]),
    ("bad-statefulset", "standard", [
        ("rollback_workload", {"namespace": NS, "kind": "statefulset", "workload": "sessions"}),
    ]),
    ("node-failure", "full", [
        ("drain_node", {"node": "node-2"}),
        ("cordon_node", {"node": "node-2"}),
        ("confirm_command", {"token": "{token}"}),
        ("list_temporary_measures", {}),
        ("restore_measure", {"measure_id": "{measure}", "restore_despite_condition": True}),
        ("uncordon_node", {"node": "node-2"}),
    ]),
]  # fmt: skip


def dependency_down(cluster: Cluster) -> None:
    """The healthy shop, plus `recommend`: its new revision (rolled out 20 minutes ago) cannot reach its redis, so
    its pods never get Ready and log the failed check every second; the old revision's pods still serve."""
    app = App(name="recommend", namespace=NS, replicas=2, labels={"app": "recommend"}, selector={"app": "recommend"})
    image = "registry.example.com/shop/recommend"
    revisions = [
        Revision(f"{image}:4.1.0", "kubectl set image deployment/recommend recommend=shop/recommend:4.1.0", 9 * DAY),
        Revision(
            f"{image}:4.2.0",
            "kubectl set image deployment/recommend recommend=shop/recommend:4.2.0",
            20 * 60,
            {behaviors.BEHAVIOR: behaviors.NOT_READY},
        ),
    ]
    Seeder(cluster, sorted(str(n["metadata"]["name"]) for n in cluster.store.items(NODES))).app(
        app, revisions, running=0
    )


# Scenarios built here on a named one: (the named scenario, what to add before the controllers run).
BUILDS: dict[str, tuple[str, Callable[[Cluster], None]]] = {"dependency-down": ("healthy", dependency_down)}


def fill(arguments: dict[str, Any], found: dict[str, str]) -> dict[str, Any]:
    return {
        k: found.get(v.strip("{}"), v) if isinstance(v, str) and v.startswith("{") else v for k, v in arguments.items()
    }


def text_of(result: CallToolResult) -> str:
    return "\n".join(block.text for block in result.content if isinstance(block, TextContent))


async def tool_list(state: Path) -> None:
    print("tools/list, bytes of compact JSON:")
    for label, overrides, limit in (
        ("full list", {}, budget.MODEL_FACING_LIMIT),
        ("read-only profile", {"read_only": True}, budget.READ_ONLY_MODEL_FACING_LIMIT),
        ("safe mode", {"mode": "safe"}, budget.MODEL_FACING_LIMIT),
    ):
        async with Client(build_server(Settings(state_dir=state, **overrides))) as client:
            tools = (await client.list_tools()).tools
        facing = budget.model_facing_bytes(tools)
        print(f"  what reaches the model, {label} ({len(tools)} tools): {facing:,} (limit {limit:,})")
        if not overrides:
            schemas = budget.output_schema_bytes(tools)
            print(f"  output schemas, all tools: {schemas:,} (limit {budget.OUTPUT_SCHEMAS_LIMIT:,})")
            largest = sorted(tools, key=lambda t: -budget.compact(budget.model_view(t)))[:3]
            print(
                "  largest to the model: "
                + ", ".join(f"{t.name} {budget.compact(budget.model_view(t))}" for t in largest)
            )


@dataclass(frozen=True)
class Measured:
    tool: str
    scenario: str
    result: CallToolResult

    @property
    def sizes(self) -> tuple[int, int]:
        return budget.result_bytes(self.result)

    @property
    def overlap(self) -> float:
        text, structured = self.sizes
        return (text + structured) / max(text, structured, 1)


async def measure(state: Path) -> list[Measured]:
    """One call of every tool (GROUPS), each on a simulated cluster where it applies (tests/e2e/test_result_budget.py
    holds their limits)."""
    measured = []
    for scenario, mode, calls in GROUPS:
        folder = state / scenario
        base, seed = BUILDS.get(scenario, (scenario, None))
        with run_sim(base, kubeconfig_path=folder / "kubeconfig", seed=seed) as sim:
            assert sim.kubeconfig_path is not None
            cluster = resolve_cluster(sim.kubeconfig_path, None, {})
            settings = Settings(
                mode=mode,  # type: ignore[arg-type]
                state_dir=folder / "state",
                kubeconfig=sim.kubeconfig_path,
                cluster=cluster,
            )
            async with Client(build_server(settings)) as client:
                found = await prepare(client)
                for tool, arguments in calls:
                    result = await client.call_tool(tool, fill(arguments, found))
                    remember(result, found)
                    measured.append(Measured(tool, scenario, result))
    return measured


async def results(state: Path, show: str | None) -> None:
    print("results, one call each (bytes of text / structured / (text+structured) over the larger):")
    worst = 0.0
    for one in await measure(state):
        (text, structured), overlap = one.sizes, one.overlap
        if not one.result.is_error:
            worst = max(worst, overlap)
        note = " (tool error)" if one.result.is_error else ""
        print(f"  {one.tool:26} {text:7,} / {structured:7,} / {overlap:.2f}  [{one.scenario}]{note}")
        if one.tool == show:
            print(text_of(one.result))
    print(f"  worst ratio (tool errors aside): {worst:.3f} (limit {budget.RESULT_OVERLAP_LIMIT})")
    swept, worst = await sweep.sweep(state / "sweep"), 0.0
    print(f"the sweep: {len(swept)} reads and proposed calls on {len(sweep.SCENARIOS)} scenarios; worst per tool:")
    for tool, one in sorted(sweep.worst_per_tool(swept).items()):
        (text, structured), worst = one.sizes, max(worst, one.overlap)
        where = one.scenario if one.mode == "full" else f"{one.scenario}, {one.mode} mode"
        print(f"  {tool:26} {text:7,} / {structured:7,} / {one.overlap:.2f}  [{where}]")
    print(f"  worst ratio: {worst:.3f} (limit {budget.RESULT_OVERLAP_LIMIT})")


async def prepare(client: Client) -> dict[str, str]:
    found: dict[str, str] = {}
    pods = await client.call_tool("list_pods", {"namespace": NS, "selector": "app.kubernetes.io/name=checkout"})
    if pods.structured_content and pods.structured_content["pods"]:
        found["pod"] = pods.structured_content["pods"][0]["name"]
    return found


def remember(result: CallToolResult, found: dict[str, str]) -> None:
    content = result.structured_content or {}
    if content.get("token"):
        found["token"] = str(content["token"])
    measures = content.get("measures")
    if isinstance(measures, list) and measures:
        found["measure"] = str(measures[0].get("measure_id") or "")


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--show", metavar="TOOL", help="print this tool's text")
    args = parser.parse_args()
    print(f"{platform.machine()}, Python {platform.python_version()}, pid {os.getpid()}")
    with tempfile.TemporaryDirectory() as folder:
        await tool_list(Path(folder) / "list")
        await results(Path(folder), args.show)


if __name__ == "__main__":
    anyio.run(main)

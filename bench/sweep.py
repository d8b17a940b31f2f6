"""Every read tool on every shipped scenario, for issue 13's result budget (text plus structured content at most 1.35
times the larger of the two, for every input, not only bench/context.py's one call per tool).

Per scenario (sim/scenarios), one simulated cluster and one server in full mode: the namespace-wide reads; per
Deployment, StatefulSet and DaemonSet its history, status, rollback safety, recovery and the log of its worst pod
(and the crashed instance's where a pod restarted); per Service its endpoints; per Helm release its history; the
handoff of an incident never declared; the empty pending and measure lists; the calls assess_namespace proposes (its
decision's and each problem's) and the handoff with those plans pending; then the decision's plan made again and
confirmed, and the handoff after it. bench/context.py prints the worst ratio per tool; tests/e2e/test_result_budget.py
holds every one to the limit, tests/e2e/test_no_simulator_keys.py finds no simulator key in any.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mcp import Client
from mcp.types import CallToolResult

from incident_response.server import budget
from incident_response.server.app import build_server
from incident_response.server.config import Settings, resolve_cluster
from incident_response.sim.resources import DAEMONSETS, DEPLOYMENTS, HPAS, PODS, SECRETS, SERVICES, STATEFULSETS
from incident_response.sim.scenarios import SCENARIOS
from incident_response.sim.serve import RunningSim, run_sim
from incident_response.sim.store import Obj

NS = "shop"
Call = tuple[str, dict[str, Any]]
KINDS = (("deployment", DEPLOYMENTS), ("statefulset", STATEFULSETS), ("daemonset", DAEMONSETS))


@dataclass(frozen=True)
class Swept:
    scenario: str
    tool: str
    arguments: dict[str, Any]
    result: CallToolResult
    mode: str = "full"

    @property
    def sizes(self) -> tuple[int, int]:
        return budget.result_bytes(self.result)

    @property
    def overlap(self) -> float:
        text, structured = self.sizes
        return (text + structured) / max(text, structured, 1)


def names(sim: RunningSim, kind: Any) -> list[str]:
    return sorted(str(o["metadata"]["name"]) for o in sim.store.items(kind, NS))


def workload_pods(sim: RunningSim, workload: Obj) -> list[Obj]:
    labels = ((workload.get("spec") or {}).get("selector") or {}).get("matchLabels") or {}
    pods = [p for p in sim.store.items(PODS, NS) if labels.items() <= (p["metadata"].get("labels") or {}).items()]
    return sorted(pods, key=lambda p: str(p["metadata"]["name"]))


def restarted(pod: Obj) -> bool:
    return any(int(s.get("restartCount") or 0) for s in (pod.get("status") or {}).get("containerStatuses") or [])


def read_calls(sim: RunningSim) -> Iterator[Call]:
    """The reads that apply to the scenario's cluster."""
    yield "server_info", {}
    yield "assess_namespace", {"namespace": NS}
    yield "list_pods", {"namespace": NS}
    yield "list_pods", {"namespace": NS, "problems_only": True}
    yield "top_pods", {"namespace": NS}
    yield "top_nodes", {}
    yield "list_events", {"namespace": NS}
    yield "list_events", {"namespace": NS, "warnings_only": True}
    yield "evaluate_decision", {"namespace": NS}
    if names(sim, HPAS):
        yield "list_hpas", {"namespace": NS}
    for service in names(sim, SERVICES):
        yield "get_endpoints", {"namespace": NS, "service": service}
    for kind, resource in KINDS:
        for workload in sim.store.items(resource, NS):
            name = str(workload["metadata"]["name"])
            which = {"namespace": NS, "deployment": name, **({} if kind == "deployment" else {"kind": kind})}
            yield "rollout_history", which
            yield "rollout_status", {**which, "timeout_seconds": 0}
            yield "check_rollback_safety", which
            yield "verify_recovery", which
            pods = workload_pods(sim, workload)
            if kind == "deployment":
                yield "get_logs", {"namespace": NS, "pod_or_deployment": f"deployment/{name}"}
            elif pods:
                yield "get_logs", {"namespace": NS, "pod_or_deployment": pods[0]["metadata"]["name"]}
            for pod in [p for p in pods if restarted(p)][:1]:
                yield "get_logs", {"namespace": NS, "pod_or_deployment": pod["metadata"]["name"], "previous": True}
    releases = {
        str((s["metadata"].get("labels") or {}).get("name"))
        for s in sim.store.items(SECRETS, NS)
        if s.get("type") == "helm.sh/release.v1"
    }
    for release in sorted(releases):
        yield "helm_history", {"namespace": NS, "release": release}
    yield "incident_handoff", {"namespace": NS}
    yield "list_pending_commands", {}
    yield "list_temporary_measures", {}


def proposed(assessment: dict[str, Any]) -> list[Call]:
    """The calls assess_namespace proposes: its decision's, then each problem's (once each)."""
    calls: list[Call] = []
    decision = assessment.get("decision") or {}
    for one in [decision, *(assessment.get("problems") or [])]:
        tool, arguments = one.get("next_tool"), one.get("next_arguments")
        if tool and isinstance(arguments, dict) and (tool, arguments) not in calls:
            calls.append((tool, arguments))
    return calls


async def sweep_scenario(scenario: str, folder: Path) -> list[Swept]:
    """The scenario's reads and proposed calls in full mode (a proposed plan is pending) and the handoff after them,
    then the proposed calls in safe mode (blocked: the smallest structured content), then the decision's plan
    confirmed (full mode) and the handoff after it."""
    swept: list[Swept] = []
    with run_sim(scenario, kubeconfig_path=folder / "kubeconfig") as sim:
        assert sim.kubeconfig_path is not None
        for mode in ("full", "safe"):
            settings = Settings(
                mode=mode,
                state_dir=folder / f"state-{mode}",
                kubeconfig=sim.kubeconfig_path,
                cluster=resolve_cluster(sim.kubeconfig_path, None, {}),
            )
            async with Client(build_server(settings)) as client:
                calls = list(read_calls(sim)) if mode == "full" else [("assess_namespace", {"namespace": NS})]
                for tool, arguments in calls:
                    result = await client.call_tool(tool, arguments)
                    if mode == "full" or tool != "assess_namespace":
                        swept.append(Swept(scenario, tool, arguments, result, mode))
                    if tool == "assess_namespace":
                        calls += proposed(result.structured_content or {})
                        if mode == "full":
                            calls.append(("incident_handoff", {"namespace": NS}))  # with the plans pending
        swept += await confirmed(scenario, sim, folder / "state-full", swept)
    return swept


async def confirmed(scenario: str, sim: RunningSim, state: Path, swept: list[Swept]) -> list[Swept]:
    """The decision's plan (the first proposed call that answered a pending plan) made again, so it is not stale,
    confirmed (planned and confirmed again if it went stale meanwhile, at most 3 times), and the handoff after it;
    nothing when the assessment proposed no plan."""
    plans = [s for s in swept if s.mode == "full" and (s.result.structured_content or {}).get("status") == "pending"]
    if not plans:
        return []
    assert sim.kubeconfig_path is not None
    settings = Settings(
        mode="full",
        state_dir=state,
        kubeconfig=sim.kubeconfig_path,
        cluster=resolve_cluster(sim.kubeconfig_path, None, {}),
    )
    done: list[Swept] = []
    async with Client(build_server(settings)) as client:
        for _ in range(3):  # a controller's write between plan and confirm makes it stale: plan again, as told
            plan = await client.call_tool(plans[0].tool, plans[0].arguments)
            done.append(Swept(scenario, plans[0].tool, plans[0].arguments, plan))
            token = (plan.structured_content or {}).get("token")
            if not token:
                break
            outcome = await client.call_tool("confirm_command", {"token": token})
            done.append(Swept(scenario, "confirm_command", {"token": token}, outcome))
            if (outcome.structured_content or {}).get("status") != "stale":
                break
        handoff = await client.call_tool("incident_handoff", {"namespace": NS})
        done.append(Swept(scenario, "incident_handoff", {"namespace": NS}, handoff))
    return done


async def sweep(state: Path, scenarios: list[str] | None = None) -> list[Swept]:
    """Every scenario's reads and proposed calls, one cluster at a time."""
    swept: list[Swept] = []
    for scenario in scenarios or list(SCENARIOS):
        swept += await sweep_scenario(scenario, state / scenario)
    return swept


def worst_per_tool(swept: list[Swept]) -> dict[str, Swept]:
    """Each tool's result with the highest ratio (tool errors aside)."""
    worst: dict[str, Swept] = {}
    for one in swept:
        if not one.result.is_error and (one.tool not in worst or one.overlap > worst[one.tool].overlap):
            worst[one.tool] = one
    return worst

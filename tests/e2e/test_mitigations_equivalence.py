"""The rendered kubectl command on one copy of a scenario, the confirmed tool on another: same objects after.

Multi-step plans run step by step the same way; a heredoc (isolate_network) is fed to kubectl on stdin.
drain_node, delete_pod and uncordon_node leave pods with generated names behind, so they are compared by
placement: pods per namespace, node, owner and terminating-or-live, plus every node's spec (taints excepted: the
node controller's). Pod names, status and timestamps are ignored.
"""

from __future__ import annotations

import shlex
from collections.abc import Callable
from pathlib import Path
from typing import Any

import anyio
import anyio.to_thread
import pytest
from mcp import Client
from support.equivalence import assert_equivalent, snapshot
from support.kubectl_runner import Kubectl
from support.mitigation_env import NS, Env, call, make_env

from incident_response.sim.serve import RunningSim
from incident_response.tools.kube.client import Kube
from incident_response.tools.mitigate.isolation import split_heredoc

pytestmark = pytest.mark.anyio

# (id, scenario, tool, arguments, resources compared, namespace)
CASES: list[tuple[str, str, str, dict[str, Any], tuple[str, ...], str | None]] = [
    (
        "scale",
        "overload",
        "scale_deployment",
        {"namespace": NS, "deployment": "api", "replicas": 5},
        ("deployments",),
        NS,
    ),
    (
        "override_hpa",
        "overload",
        "override_hpa",
        {"namespace": NS, "hpa": "web", "min_replicas": 8, "max_replicas": 10},
        ("horizontalpodautoscalers",),
        NS,
    ),
    (
        "memory",
        "oom",
        "set_memory_limit",
        {"namespace": NS, "deployment": "payments", "container": "payments", "limit": "768Mi"},
        ("deployments",),
        NS,
    ),
    (
        "remove_from_service",
        "poison",
        "remove_pods_from_service",
        {"namespace": NS, "service": "api", "selector": "app=api,version=bad"},
        ("pods",),
        NS,
    ),
    (
        "isolate",
        "poison",
        "isolate_network",
        {"namespace": NS, "selector": "app=api,version=bad"},
        ("networkpolicies",),
        NS,
    ),
    (
        "selector",
        "poison",
        "patch_service_selector",
        {"namespace": NS, "service": "api", "selector": "app=api,version=stable"},
        ("services",),
        NS,
    ),
    (
        "ingress",
        "poison",
        "switch_ingress_backend",
        {"namespace": NS, "ingress": "shop", "service": "checkout", "path": 1},
        ("ingresses",),
        NS,
    ),
    ("cordon", "node-failure", "cordon_node", {"node": "node-2"}, ("nodes",), None),
    ("pause", "bad-deploy", "pause_rollout", {"namespace": NS, "deployment": "checkout"}, ("deployments",), NS),
    ("rollback_canary", "canary", "rollback_canary", {"namespace": NS, "app": "web"}, ("deployments",), NS),
    (
        "shift_traffic",
        "canary",
        "shift_traffic",
        {"namespace": NS, "from_deployment": "web-canary", "to_deployment": "web-stable", "replicas": 5},
        ("deployments",),
        NS,
    ),
]

# Differs by construction between two clusters fed the same request: status is the controllers' (timing), and the
# field manager kubectl names differs from ours (managedFields are dropped already).
IGNORE = ("status", "metadata.annotations.kubectl.kubernetes.io/last-applied-configuration")


def run_rendered(kubectl: Kubectl, command: str) -> None:
    """Run a plan's command as a human would paste it: `a && b` in order, a heredoc's text on stdin."""
    line, stdin = split_heredoc(command)
    if stdin is not None:
        argv = shlex.split(line)
        assert argv[0] == "kubectl"
        kubectl.run(*argv[1:], stdin=stdin)
        return
    for part in line.split(" && "):
        kubectl.shell(part)


async def settle(env: Env, resources: tuple[str, ...], namespace: str | None) -> dict[str, dict[str, Any]]:
    await anyio.to_thread.run_sync(env.sim.wait_ticks, 6)
    # Node taints are the node controller's (the sim keeps re-adding the unreachable taint; tell its owner).
    snap = snapshot(env.kube, namespace, resources, ignore=("status", "spec.taints"))
    for obj in snap.values():
        annotations = obj.get("metadata", {}).get("annotations") or {}
        annotations.pop("kubectl.kubernetes.io/last-applied-configuration", None)
    return snap


@pytest.mark.parametrize(
    "scenario, tool, arguments, resources, namespace",
    [case[1:] for case in CASES],
    ids=[case[0] for case in CASES],
)
async def test_rendered_command_and_confirmed_tool_leave_the_same_objects(
    sim_factory: Callable[..., RunningSim],
    kubectl_for: Callable[[RunningSim], Kubectl],
    tmp_path: Path,
    scenario: str,
    tool: str,
    arguments: dict[str, Any],
    resources: tuple[str, ...],
    namespace: str | None,
) -> None:
    by_kubectl = make_env(sim_factory(scenario), tmp_path / "state-a")
    by_us = make_env(sim_factory(scenario), tmp_path / "state-b")
    kubectl = kubectl_for(by_kubectl.sim)
    if scenario == "canary":
        # The HPA would resize web-stable on its own clock in each cluster; compare the writes without it.
        for env in (by_kubectl, by_us):
            env.kube.delete("horizontalpodautoscalers", "web", NS)
    async with Client(by_us.server("full")) as client:
        plan = await call(client, tool, **arguments)
        await anyio.to_thread.run_sync(run_rendered, kubectl, plan["command"])
        done = await call(client, "confirm_command", token=plan["token"])
    assert done["status"] == "succeeded", done
    assert_equivalent(await settle(by_kubectl, resources, namespace), await settle(by_us, resources, namespace))


async def test_isolation_policy_matches_kubectl_apply_including_its_annotation(
    sim_factory: Callable[..., RunningSim], kubectl_for: Callable[[RunningSim], Kubectl], tmp_path: Path
) -> None:
    by_kubectl = make_env(sim_factory("poison"), tmp_path / "state-a")
    by_us = make_env(sim_factory("poison"), tmp_path / "state-b")
    async with Client(by_us.server("full")) as client:
        plan = await call(client, "isolate_network", namespace=NS, selector="app=api,version=bad")
        await anyio.to_thread.run_sync(run_rendered, kubectl_for(by_kubectl.sim), plan["command"])
        await call(client, "confirm_command", token=plan["token"])
    name = "incident-isolate-api-bad"
    ours = by_us.get("networkpolicies", name)["metadata"]["annotations"]
    theirs = by_kubectl.get("networkpolicies", name)["metadata"]["annotations"]
    assert ours == theirs


# --- node and pod mitigations whose effects include pods with generated names -------------------------------------


def pod_placement(kube: Kube, focus: str) -> dict[str, int]:
    """Pods per owner on the node the mitigation is about vs elsewhere (and whether they are terminating).

    Generated names are ignored, as are pod status and timestamps: the two clusters' controllers name replacements
    and run them on their own clocks. Which of the other nodes a replacement lands on depends on the scheduler's
    tie-breaking at that instant, so the other nodes count as one place.
    """
    counts: dict[str, int] = {}
    for pod in kube.list("pods").items:
        meta = pod["metadata"]
        owner = next((f"{r['kind']}/{r['name']}" for r in meta.get("ownerReferences") or []), "none")
        state = "terminating" if meta.get("deletionTimestamp") else "live"
        node = pod["spec"].get("nodeName")
        place = "(pending)" if not node else (node if node == focus else "elsewhere")
        key = f"{meta['namespace']} {place} {owner} {state}"
        counts[key] = counts.get(key, 0) + 1
    return counts


def node_specs(kube: Kube) -> dict[str, Any]:
    # Taints are the node controller's (the sim keeps re-adding the unreachable taint on a NotReady node).
    nodes = kube.list("nodes").items
    return {n["metadata"]["name"]: {k: v for k, v in n["spec"].items() if k != "taints"} for n in nodes}


async def placement_after(env: Env, focus: str) -> dict[str, Any]:
    """Let the controllers run until the pod placement holds still over a few ticks; then placement and node specs."""

    def placement() -> dict[str, int]:
        return pod_placement(env.kube, focus)

    now = await anyio.to_thread.run_sync(placement)
    with anyio.fail_after(60):
        while True:
            await anyio.to_thread.run_sync(env.sim.wait_ticks, 4)
            before, now = now, await anyio.to_thread.run_sync(placement)
            if now == before:
                break
    return {"pods": now, "nodes": node_specs(env.kube)}


def first_on(env: Env, node: str, app: str) -> str:
    pods = env.kube.list("pods", NS, label_selector=f"app={app}").items
    return sorted(str(p["metadata"]["name"]) for p in pods if p["spec"].get("nodeName") == node)[0]


NODE_CASES: list[tuple[str, str, Callable[[Env], dict[str, Any]]]] = [
    ("drain", "drain_node", lambda env: {"node": "node-2"}),
    ("delete_pod", "delete_pod", lambda env: {"namespace": NS, "pod": first_on(env, "node-2", "api")}),
    # node-2 is NotReady: a graceful delete leaves the pod Terminating there, the force delete removes it.
    ("force_delete", "delete_pod", lambda env: {"namespace": NS, "pod": first_on(env, "node-2", "api"), "force": True}),
    ("uncordon", "uncordon_node", lambda env: {"node": "node-3"}),
]


@pytest.mark.parametrize("tool, arguments", [c[1:] for c in NODE_CASES], ids=[c[0] for c in NODE_CASES])
async def test_node_and_pod_mitigations_leave_the_same_placement(
    sim_factory: Callable[..., RunningSim],
    kubectl_for: Callable[[RunningSim], Kubectl],
    tmp_path: Path,
    tool: str,
    arguments: Callable[[Env], dict[str, Any]],
) -> None:
    by_kubectl = make_env(sim_factory("node-failure"), tmp_path / "state-a")
    by_us = make_env(sim_factory("node-failure"), tmp_path / "state-b")
    if tool == "uncordon_node":
        for env in (by_kubectl, by_us):
            env.kube.patch("nodes", "node-3", {"spec": {"unschedulable": True}}, None, patch_type="merge")
    ours, theirs = arguments(by_us), arguments(by_kubectl)
    async with Client(by_us.server("full")) as client:
        plan = await call(client, tool, **ours)
        # Pod names are generated, so each copy of the scenario names its pods differently: kubectl gets the same
        # command naming that copy's counterpart (same owner, same node).
        command = plan["command"]
        for key, value in ours.items():
            if isinstance(value, str):
                command = command.replace(value, str(theirs[key]))
        await anyio.to_thread.run_sync(run_rendered, kubectl_for(by_kubectl.sim), command)
        done = await call(client, "confirm_command", token=plan["token"])
    assert done["status"] == "succeeded", done
    focus = "node-3" if tool == "uncordon_node" else "node-2"
    assert_equivalent(await placement_after(by_kubectl, focus), await placement_after(by_us, focus))

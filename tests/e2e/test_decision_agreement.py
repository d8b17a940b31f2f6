"""assess_namespace and evaluate_decision agree on every rule of the decision framework, end to end.

One incident per rule (the simulator's scenarios, and builds on the healthy shop for the rules no scenario shows),
both tools through an MCP client: for the primary action and for every problem, evaluate_decision walks the tree of
the action assess_namespace picked and ends where assess_namespace points (PROCEED to the same call with the same
arguments, or a question only the human can answer first); NONE is NOTHING_TO_DO. For an INVESTIGATE (nothing
explains the failure), the SCALE, ROLLBACK and ISOLATE trees walked anyway name no mitigation: no PROCEED, no
TRY_INSTEAD SCALE, and the read assess_namespace named as their next call; verify_recovery calls it DEGRADED and
sends the assistant back to the assessment, never to a scale.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from mcp import Client
from support.mitigation_env import NS, Env, call, make_env, oom_rollout_finished, ready

from incident_response.sim import behaviors
from incident_response.sim.scenarios.builders import deployment_body
from incident_response.sim.serve import RunningSim
from incident_response.tools.playbook.decision import NO_ROOM, OVERSIZED, RULED_OUT_RULE

pytestmark = pytest.mark.anyio

Build = Callable[[Env], Awaitable[None]]


def restarted(env: Env, selector: str) -> Callable[[], bool]:
    def check() -> bool:
        pods = env.pods(selector)
        return bool(pods) and all((p["status"].get("containerStatuses") or [{}])[0].get("restartCount") for p in pods)

    return check


async def crash_loop_no_deploy(env: Env) -> None:
    """invoice-pdf has run the same revision for three days and crash-loops now: no deploy, no load."""
    body = deployment_body(
        "invoice-pdf",
        namespace=NS,
        replicas=2,
        image="registry.example.com/billing/invoice-pdf:7.3",
        annotations={behaviors.ROLLED_OUT_MINUTES_AGO: str(3 * 24 * 60)},
        pod_annotations={behaviors.BEHAVIOR: behaviors.CRASHLOOP},
    )
    env.kube.create("deployments", body, NS)
    await env.until(restarted(env, "app=invoice-pdf"))


async def new_deployment_crash_loop(env: Env) -> None:
    """geo-lookup was created minutes ago and crash-loops: a deploy, but no earlier revision to go back to."""
    body = deployment_body(
        "geo-lookup",
        namespace=NS,
        replicas=1,
        image="registry.example.com/maps/geo-lookup:0.1",
        pod_annotations={behaviors.BEHAVIOR: behaviors.CRASHLOOP},
    )
    env.kube.create("deployments", body, NS)
    await env.until(restarted(env, "app=geo-lookup"))


async def unschedulable(env: Env) -> None:
    """ml-scorer (three days old) asks for more CPU than any node has: its pods stay Pending, never started."""
    body = deployment_body(
        "ml-scorer",
        namespace=NS,
        replicas=2,
        image="registry.example.com/ml/scorer:2.2",
        annotations={behaviors.ROLLED_OUT_MINUTES_AGO: str(3 * 24 * 60)},
        cpu=("64", "64"),
    )
    env.kube.create("deployments", body, NS)

    def refused() -> bool:
        # The scheduler's verdict on both pods, not just the pods: the ReplicaSet creates them a tick before the
        # scheduler reads them, and a read in between saw Pending pods with no reason (1 group run in 4 under load).
        pods = env.pods("app=ml-scorer")
        said = [
            c
            for p in pods
            for c in p["status"].get("conditions") or []
            if c.get("type") == "PodScheduled" and c.get("reason") == "Unschedulable"
        ]
        return len(pods) == len(said) == 2 and env.observed("ml-scorer")

    await env.until(refused)


async def pod_limit(env: Env) -> None:
    """Every node allows just the pods it runs (max-pods reached): ml-batch's pods stay Pending on Too many pods."""
    bound: dict[str, int] = {}
    for pod in env.kube.list("pods", None).items:
        if where := pod["spec"].get("nodeName"):
            bound[where] = bound.get(where, 0) + 1
    for node in env.kube.list("nodes", None).items:
        name = node["metadata"]["name"]
        limit = {"status": {"allocatable": {"pods": str(bound.get(name, 0))}}}
        env.kube.patch("nodes", name, limit, patch_type="merge", subresource="status")
    body = deployment_body("ml-batch", namespace=NS, replicas=2, image="registry.example.com/ml/batch:1.0")
    env.kube.create("deployments", body, NS)
    await env.until(
        lambda: (
            len(env.pods("app=ml-batch")) == 2 and all(p["status"].get("conditions") for p in env.pods("app=ml-batch"))
        )
    )


async def config_change(env: Env, name: str = "mailer") -> None:
    """`name` ran for three days; an env-only revision rolled out 20 minutes ago, healthy."""
    body = deployment_body(
        name,
        namespace=NS,
        replicas=2,
        image=f"registry.example.com/shop/{name}:3.1",
        annotations={behaviors.ROLLED_OUT_MINUTES_AGO: str(3 * 24 * 60)},
    )
    env.kube.create("deployments", body, NS)
    await env.until(lambda: len([p for p in env.pods(f"app={name}") if ready(p)]) == 2)
    patch = {
        "metadata": {"annotations": {behaviors.ROLLED_OUT_MINUTES_AGO: "20"}},
        "spec": {"template": {"spec": {"containers": [{"name": name, "env": [{"name": "SMTP_POOL", "value": "8"}]}]}}},
    }
    env.kube.patch("deployments", name, patch, NS, patch_type="strategic")

    def rolled() -> bool:  # its pods, and the controller's status, show the rollout done (none unavailable)
        pods = env.pods(f"app={name}")
        deploy = env.get("deployments", name)
        revision = deploy["metadata"]["annotations"].get("deployment.kubernetes.io/revision")
        status = deploy.get("status") or {}
        done = status.get("updatedReplicas") == 2 and status.get("availableReplicas") == 2
        settled = done and not status.get("unavailableReplicas") and env.observed(name)
        return len(pods) == 2 and all(ready(p) for p in pods) and revision == "2" and settled

    await env.until(rolled)


def fx_rates(env: Env, dated: str | None) -> None:
    annotations = {behaviors.ROLLED_OUT_MINUTES_AGO: dated} if dated else {}
    body = deployment_body(
        "fx-rates",
        namespace=NS,
        replicas=1,
        image="registry.example.com/shop/fx-rates:5.0",
        annotations=annotations,
        pod_annotations={behaviors.BEHAVIOR: behaviors.CRASHLOOP},
    )
    env.kube.create("deployments", body, NS)


async def crash_loop_after_a_deploy(env: Env) -> None:
    """mailer's config change 20 minutes ago, then fx-rates starts crash-looping: the deploy is the suspect."""
    await config_change(env)
    fx_rates(env, None)
    await env.until(restarted(env, "app=fx-rates"))


async def crash_loop_before_a_deploy(env: Env) -> None:
    """fx-rates has crash-looped for days (its pods dated 3 days back); mailer's config change came 20 minutes ago."""
    fx_rates(env, str(3 * 24 * 60))
    await config_change(env)
    await env.until(restarted(env, "app=fx-rates"))


def workload(kind: str, name: str) -> dict[str, Any]:
    labels = {"app": name}
    spec: dict[str, Any] = {
        "selector": {"matchLabels": labels},
        "template": {
            "metadata": {"labels": labels, "annotations": {behaviors.BEHAVIOR: behaviors.CRASHLOOP}},
            "spec": {"containers": [{"name": name, "image": f"registry.example.com/infra/{name}:2.4"}]},
        },
    }
    if kind == "statefulsets":
        spec |= {"serviceName": name, "replicas": 2, "podManagementPolicy": "Parallel"}
    return {"metadata": {"name": name, "namespace": NS, "labels": labels}, "spec": spec}


async def statefulset_crash_loop(env: Env) -> None:
    env.kube.create("statefulsets", workload("statefulsets", "rate-limiter"), NS)
    await env.until(restarted(env, "app=rate-limiter"))


async def daemonset_crash_loop(env: Env) -> None:
    env.kube.create("daemonsets", workload("daemonsets", "node-exporter"), NS)
    await env.until(restarted(env, "app=node-exporter"))


async def daemonset_at_its_cpu_limit(env: Env) -> None:
    """trace-collector (a DaemonSet, no rollout to speak of) runs every pod at its CPU limit: no tool scales it."""
    body = workload("daemonsets", "trace-collector")
    template = body["spec"]["template"]
    template["metadata"]["annotations"] = {behaviors.CPU_MILLICORES: "495"}
    template["spec"]["containers"][0]["resources"] = {"requests": {"cpu": "100m"}, "limits": {"cpu": "500m"}}
    env.kube.create("daemonsets", body, NS)
    nodes = len(env.kube.list("nodes", None).items)
    await env.until(lambda: len([p for p in env.pods("app=trace-collector") if ready(p)]) == nodes)


async def daemonset_out_of_memory(env: Env) -> None:
    """audit-forwarder (a DaemonSet) needs 200Mi and is limited to 96Mi: OOMKilled on every node."""
    body = workload("daemonsets", "audit-forwarder")
    template = body["spec"]["template"]
    template["metadata"]["annotations"] = {behaviors.BEHAVIOR: behaviors.OOM, behaviors.MEMORY_NEED: "200Mi"}
    template["spec"]["containers"][0]["resources"] = {"requests": {"memory": "64Mi"}, "limits": {"memory": "96Mi"}}
    env.kube.create("daemonsets", body, NS)
    await env.until(restarted(env, "app=audit-forwarder"))


async def cpu_at_the_limit(env: Env) -> None:
    """search-api (no HPA) runs its pods at their CPU limit."""
    body = deployment_body(
        "search-api",
        namespace=NS,
        replicas=2,
        image="registry.example.com/shop/search-api:9.0",
        annotations={behaviors.ROLLED_OUT_MINUTES_AGO: str(3 * 24 * 60)},
        pod_annotations={behaviors.CPU_MILLICORES: "500"},
    )
    env.kube.create("deployments", body, NS)
    await env.until(lambda: len([p for p in env.pods("app=search-api") if ready(p)]) == 2)


async def paused_bad_rollout(env: Env) -> None:
    """The human paused checkout's bad rollout (kubectl rollout pause) before calling for help."""
    env.kube.patch("deployments", "checkout", {"spec": {"paused": True}}, NS, patch_type="strategic")
    await env.until(lambda: env.observed("checkout"))


async def rollback_ruled_out(env: Env) -> None:
    """The human answered that checkout's revision 3 ran forward-only migrations (remembered on the incident's
    timeline): the rollback is off the table, and what is left is reading why the new pods crash, to fix forward."""
    async with Client(env.server("safe")) as client:
        await call(client, "evaluate_decision", namespace=NS, migrations_forward_only=True)


async def nothing(env: Env) -> None:
    return None


# case -> (scenario, what is built on it, the rule the primary decision must come from: the case tests that rule)
CASES: dict[str, tuple[str, Build, str]] = {
    "healthy": ("healthy", nothing, "healthy"),
    "bad deploy": ("bad-deploy", nothing, "recent deployment with failing pods"),
    "paused bad rollout": ("bad-deploy", paused_bad_rollout, "recent deployment with failing pods"),
    "bad deploy, rollback ruled out": ("bad-deploy", rollback_ruled_out, RULED_OUT_RULE),
    "HPA at max": ("overload", nothing, "overloaded: HPA at max"),
    "poisoning": ("poison", nothing, "one component poisons others"),
    "out of memory": ("oom", oom_rollout_finished, "out of memory: vertical scaling"),
    "unfinished rollout out of memory": ("oom", nothing, "unfinished rollout with failing pods"),
    "failing canary": ("canary", nothing, "failing canary"),
    "failing node": ("node-failure", nothing, "failing node"),
    "statefulset rollout": ("bad-statefulset", nothing, "recent deployment with failing pods"),
    "daemonset rollout": ("bad-daemonset", nothing, "recent deployment with failing pods"),
    "CPU near limits": ("healthy", cpu_at_the_limit, "overloaded: CPU near limits"),
    "daemonset CPU near limits": ("healthy", daemonset_at_its_cpu_limit, "overloaded: CPU near limits (daemonset)"),
    "daemonset out of memory": ("healthy", daemonset_out_of_memory, "out of memory: vertical scaling"),
    "crash loop, no deploy": ("healthy", crash_loop_no_deploy, "unknown cause, no recent deploy"),
    "crash loop of a new deployment": (
        "healthy",
        new_deployment_crash_loop,
        "unknown cause, no recent deploy to roll back",
    ),
    "pods never scheduled": ("healthy", unschedulable, OVERSIZED),
    "nodes at their pod limit": ("healthy", pod_limit, NO_ROOM),
    "crash loop after a deploy": ("healthy", crash_loop_after_a_deploy, "unknown cause, recent deploy exists"),
    "crash loop before a deploy": (
        "healthy",
        crash_loop_before_a_deploy,
        "unknown cause, failing since before the recent deploys",
    ),
    "statefulset crash loop, no rollout": (
        "healthy",
        statefulset_crash_loop,
        "unknown cause, a StatefulSet or DaemonSet with no recent rollout",
    ),
    "daemonset crash loop, no rollout": (
        "healthy",
        daemonset_crash_loop,
        "unknown cause, a StatefulSet or DaemonSet with no recent rollout",
    ),
}


def disagreement(what: str, pointed: dict[str, Any], decided: dict[str, Any]) -> str | None:
    """Why evaluate_decision's walk does not end where assess_namespace points, or None when it does."""
    action, tool, arguments = pointed["action"], pointed["next_tool"], pointed["next_arguments"]
    reason = pointed.get("reason") or ""
    verdict = decided["verdict"]
    if action == "NONE":
        return None if verdict == "NOTHING_TO_DO" else f"{what}: NONE, evaluate says {decided['summary']}"
    if decided["action"] != action:
        return f"{what}: assess {action}, evaluate walked {decided['action']}"
    if verdict == "NEEDS_ANSWER":
        return None  # a question only the human can answer comes first; the answer decides
    if tool is None:  # no tool: the human acts as the reason says (PROCEED by hand, or FIX_FIRST then the tool)
        said = re.findall(r"`([^`]+)`", decided["reason"])
        if verdict in ("PROCEED", "FIX_FIRST") and decided["next_tool"] is None and all(c in reason for c in said):
            return None
        return f"{what}: assess {action} for the human ({reason}), evaluate {verdict}: {decided['summary']}"
    if verdict != "PROCEED":
        return f"{what}: assess {action} -> {tool}, evaluate {verdict}: {decided['summary']}"
    # The same call: every argument assess_namespace gives, with the same value (the tree may pin a default, as a
    # workload rollback's to_revision).
    given = decided["next_arguments"]
    if decided["next_tool"] != tool or any(given.get(k) != v for k, v in arguments.items()):
        return f"{what}: assess -> {tool}({arguments}), evaluate -> {decided['next_tool']}({given})"
    return None


def subject(problem: dict[str, Any]) -> dict[str, Any]:
    """evaluate_decision's arguments that pick this problem: its node, else its (one) workload."""
    target = problem["target"] or ""
    if target.startswith("node/"):
        return {"node": target.removeprefix("node/")}
    return {"deployment": problem["components"][0]}


async def judged(client: Client, rule: str) -> list[str]:
    found = []
    assessed = await call(client, "assess_namespace", namespace=NS)
    if assessed["decision"]["rule"] != rule:
        found.append(f"the build shows rule {assessed['decision']['rule']!r}, not {rule!r}: {assessed['summary']}")
    decision = assessed["decision"]
    primary = {
        "action": assessed["primary_action"],
        **{k: decision[k] for k in ("next_tool", "next_arguments", "reason")},
    }
    found.append(disagreement("primary", primary, await call(client, "evaluate_decision", namespace=NS)))
    for problem in assessed["problems"]:
        about = subject(problem)
        what = f"problem {problem['rank']} ({problem['rule']}, {about})"
        decided = await call(client, "evaluate_decision", namespace=NS, **about)
        reason = next((d["reason"] for d in [decision] if d["target"] == problem["target"]), "")
        found.append(disagreement(what, {**problem, "reason": reason}, decided))
        if problem["action"] != "INVESTIGATE" or "deployment" not in about:
            continue
        read = (problem["next_tool"], problem["next_arguments"])
        kinds = {(problem["target"] or "").split("/", 1)[0]}
        if kinds <= {"deployment", "statefulset", "daemonset"}:  # verify_recovery agrees: failing, assess again
            kind, name = problem["target"].split("/", 1)
            verified = await call(client, "verify_recovery", namespace=NS, deployment=name, kind=kind)
            if verified["verdict"] != "DEGRADED" or "scale" in verified["summary"].lower():
                found.append(f"{what}: INVESTIGATE, verify_recovery says {verified['summary']}")
        for tree in ("SCALE", "ROLLBACK", "ISOLATE") if kinds == {"deployment"} else ("SCALE",):
            walked = await call(client, "evaluate_decision", namespace=NS, action=tree, **about)
            outcome = (walked["verdict"], walked["alternative"])
            if walked["verdict"] == "PROCEED" or outcome == ("TRY_INSTEAD", "SCALE"):
                found.append(f"{what}: INVESTIGATE, but the {tree} tree says {walked['summary']}")
            elif walked["next_tool"] is not None and (walked["next_tool"], walked["next_arguments"]) != read:
                found.append(f"{what}: INVESTIGATE -> {read}, the {tree} tree -> {walked['summary']}")
    return [f for f in found if f]


@pytest.mark.parametrize("case", list(CASES))
async def test_assess_and_evaluate_agree(case: str, sim_factory: Callable[..., RunningSim], tmp_path: Path) -> None:
    scenario, build, rule = CASES[case]
    env = make_env(sim_factory(scenario), tmp_path / "state")
    await build(env)
    async with Client(env.server("safe")) as client:
        found = await judged(client, rule)
    assert not found, "\n".join(found)


async def test_a_component_blamed_on_another_deploy_walks_that_rollback_and_a_healthy_one_is_walked_as_named(
    sim_factory: Callable[..., RunningSim], tmp_path: Path
) -> None:
    """fx-rates' crash loop is blamed on mailer's deploy: asked about fx-rates, evaluate_decision walks mailer's
    rollback (as assess_namespace says), not fx-rates' own (nowhere to go). Asked about api, with no problem of its
    own, the walk is api's, as named (not the namespace's worst problem's deployment)."""
    env = make_env(sim_factory("healthy"), tmp_path / "state")
    await crash_loop_after_a_deploy(env)
    async with Client(env.server("safe")) as client:
        blamed = await call(client, "evaluate_decision", namespace=NS, deployment="fx-rates")
        named = await call(client, "evaluate_decision", namespace=NS, deployment="api")
    assert (blamed["action"], blamed["target"]) == ("ROLLBACK", "deployment/mailer"), blamed["summary"]
    assert named["target"] == "deployment/api", named["summary"]

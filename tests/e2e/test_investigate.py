"""Pods failing with nothing to explain them are investigated, not scaled, end to end.

A crash loop with no suspect change (no deploy, no load, no other component named) has no mitigation that fits:
more replicas of a pod that fails on its own fail the same way. assess_namespace, evaluate_decision and
verify_recovery must say the same thing: INVESTIGATE, and the exact read that finds the cause (the crashed
container's previous log), not SCALE with no tool or a scale_deployment.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from mcp import Client
from support.mitigation_env import NS, Env, call, make_env
from support.texts import read_text

from incident_response.sim import behaviors
from incident_response.sim.scenarios.builders import deployment_body
from incident_response.sim.serve import RunningSim

pytestmark = pytest.mark.anyio


@pytest.fixture
def env(sim_factory: Callable[..., RunningSim], tmp_path: Path) -> Env:
    return make_env(sim_factory("healthy"), tmp_path / "state")


def statefulset(name: str, replicas: int, behavior: str) -> dict[str, Any]:
    labels = {"app": name}
    return {
        "metadata": {"name": name, "namespace": NS, "labels": labels},
        "spec": {
            "serviceName": name,
            "podManagementPolicy": "Parallel",
            "replicas": replicas,
            "selector": {"matchLabels": labels},
            "template": {
                "metadata": {
                    "labels": labels,
                    "annotations": {
                        behaviors.BEHAVIOR: behaviors.CRASHLOOP,
                        behaviors.LOG_LINES: "loading snapshot /data/quotes.snap\npanic: snapshot checksum mismatch",
                    }
                    if behavior == behaviors.CRASHLOOP
                    else {behaviors.BEHAVIOR: behavior},
                },
                "spec": {"containers": [{"name": "cache", "image": "registry.example.com/pricing/quote-cache:4.1"}]},
            },
        },
    }


def restarted(env: Env, selector: str, count: int) -> Callable[[], bool]:
    def check() -> bool:
        pods = env.pods(selector)
        return len(pods) == count and all(
            ((p.get("status") or {}).get("containerStatuses") or [{}])[0].get("restartCount") for p in pods
        )

    return check


async def test_a_crash_looping_statefulset_with_no_rollout_is_investigated_with_its_previous_log(env: Env) -> None:
    """quote-cache, a StatefulSet with one revision, crash-loops on a bad snapshot: nothing to roll back, nothing
    to scale. The assessment used to answer SCALE with no tool; now INVESTIGATE with the exact get_logs call, and
    evaluate_decision agrees (and says DO_NOT when asked to walk SCALE anyway)."""
    env.kube.create("statefulsets", statefulset("quote-cache", 2, behaviors.CRASHLOOP), NS)
    await env.until(restarted(env, "app=quote-cache", 2))
    async with Client(env.server("safe")) as client:
        assessed = await call(client, "assess_namespace", namespace=NS)
        decided = await call(client, "evaluate_decision", namespace=NS)
        scaled = await call(client, "evaluate_decision", namespace=NS, action="SCALE", deployment="quote-cache")
        decision = assessed["decision"]
        logs = await read_text(client, decision["next_tool"], **decision["next_arguments"])

    assert assessed["primary_action"] == "INVESTIGATE", assessed["summary"]
    assert assessed["summary"].startswith("INVESTIGATE: "), assessed["summary"]
    assert decision["target"] == "statefulset/quote-cache", decision
    pods = sorted(p["metadata"]["name"] for p in env.pods("app=quote-cache"))
    assert decision["next_tool"] == "get_logs", decision
    assert decision["next_arguments"]["previous"] is True and decision["next_arguments"]["namespace"] == NS
    assert decision["next_arguments"]["pod_or_deployment"] in pods, decision
    (problem,) = assessed["problems"]
    assert (problem["action"], problem["next_tool"]) == ("INVESTIGATE", "get_logs"), problem
    assert "SCALE" not in assessed["summary"], assessed["summary"]
    # The call it names works as given and shows the cause.
    assert "(previous instance)" in logs.splitlines()[0] and "checksum mismatch" in logs, logs
    # evaluate_decision agrees: the same next call, as a go-ahead; a SCALE walk asked for anyway is a DO_NOT.
    assert (decided["action"], decided["verdict"]) == ("INVESTIGATE", "PROCEED"), decided["summary"]
    assert (decided["next_tool"], decided["next_arguments"]) == (decision["next_tool"], decision["next_arguments"])
    assert scaled["verdict"] == "DO_NOT", scaled["summary"]
    assert (scaled["next_tool"], scaled["next_arguments"]) == (decision["next_tool"], decision["next_arguments"])


async def test_a_crash_looping_deployment_with_no_deploy_at_all_is_investigated_not_scaled(env: Env) -> None:
    """thumbnailer has run one revision for five days behind its Service and crash-loops now (a bad config it reads
    at start): no deploy to undo, no load. The rule "unknown cause, no recent deploy" used to propose
    scale_deployment, while evaluate_decision's SCALE tree said FIX_FIRST: assess, evaluate and verify_recovery now
    point to the same read, the crashed container's log."""
    body = deployment_body(
        "thumbnailer",
        namespace=NS,
        replicas=2,
        image="registry.example.com/media/thumbnailer:3.8",
        annotations={behaviors.ROLLED_OUT_MINUTES_AGO: str(5 * 24 * 60)},
        pod_annotations={
            behaviors.BEHAVIOR: behaviors.CRASHLOOP,
            behaviors.LOG_LINES: "reading /etc/thumbnailer/sizes.yaml\nfatal: sizes.yaml: unknown preset 'xxl'",
        },
    )
    env.kube.create("deployments", body, NS)
    service = {
        "metadata": {"name": "thumbnailer", "namespace": NS},
        "spec": {"selector": {"app": "thumbnailer"}, "ports": [{"port": 80, "targetPort": 8080}]},
    }
    env.kube.create("services", service, NS)
    await env.until(restarted(env, "app=thumbnailer", 2))
    async with Client(env.server("safe")) as client:
        assessed = await call(client, "assess_namespace", namespace=NS)
        decided = await call(client, "evaluate_decision", namespace=NS)
        asked = {
            tree: await call(client, "evaluate_decision", namespace=NS, action=tree, deployment="thumbnailer")
            for tree in ("SCALE", "ROLLBACK")
        }
        verified = await call(client, "verify_recovery", namespace=NS, deployment="thumbnailer")
        decision = assessed["decision"]
        logs = await read_text(client, decision["next_tool"], **decision["next_arguments"])

    read = (decision["next_tool"], decision["next_arguments"])
    assert (assessed["primary_action"], decision["rule"]) == ("INVESTIGATE", "unknown cause, no recent deploy"), (
        decision
    )
    assert decision["target"] == "deployment/thumbnailer", decision
    assert read[0] == "get_logs" and read[1]["previous"] is True, read
    assert read[1]["pod_or_deployment"].startswith("thumbnailer-"), read
    assert "scale_deployment" not in assessed["summary"] and "SCALE" not in assessed["summary"], assessed["summary"]
    assert assessed["problems"][0]["impact"] == "outage", assessed["problems"]
    assert "unknown preset 'xxl'" in logs, logs
    # evaluate_decision: the assessment's INVESTIGATE is a go-ahead to the same read; a SCALE or ROLLBACK walked
    # anyway ends at that read too, never at a scale (no TRY_INSTEAD SCALE for pods that fail on their own).
    assert (decided["action"], decided["verdict"]) == ("INVESTIGATE", "PROCEED"), decided["summary"]
    assert (decided["next_tool"], decided["next_arguments"]) == read
    for tree, walked in asked.items():
        assert walked["verdict"] in ("FIX_FIRST", "DO_NOT"), (tree, walked["summary"])
        assert walked["alternative"] != "SCALE", (tree, walked["summary"])
        assert (walked["next_tool"], walked["next_arguments"]) == read, (tree, walked["summary"])
    # verify_recovery: failing, and it sends to the assessment (whose next step is that read), not to a scale.
    assert verified["verdict"] == "DEGRADED", verified["summary"]
    assert "scale" not in verified["summary"].lower(), verified
    assert "Assess again: assess_namespace(shop) picks the next action" in verified["summary"], verified


async def test_a_crash_looping_pod_of_no_workload_is_not_called_a_deployment(env: Env) -> None:
    """report-once, a bare pod (no Deployment, StatefulSet or DaemonSet owns it), crash-loops: the INVESTIGATE names
    its pods, not a deployment/report-once that does not exist (evaluate_decision(deployment=...) would not find it)."""
    pod = {
        "metadata": {
            "name": "report-once",
            "namespace": NS,
            "labels": {"app": "report-once"},
            "annotations": {behaviors.BEHAVIOR: behaviors.CRASHLOOP},
        },
        "spec": {"containers": [{"name": "report", "image": "registry.example.com/ops/report:1.2"}]},
    }
    env.kube.create("pods", pod, NS)
    await env.until(restarted(env, "app=report-once", 1))
    async with Client(env.server("safe")) as client:
        assessed = await call(client, "assess_namespace", namespace=NS)
        decided = await call(client, "evaluate_decision", namespace=NS)
    decision = assessed["decision"]
    assert (decision["primary_action"], decision["target"]) == ("INVESTIGATE", "pods of report-once"), decision
    assert (decision["next_tool"], decision["next_arguments"]) == (
        "get_logs",
        {"namespace": NS, "pod_or_deployment": "report-once", "previous": True},
    ), decision
    assert (decided["verdict"], decided["next_tool"]) == ("PROCEED", "get_logs"), decided["summary"]

"""OOM kills after hours of running: a slow leak, a load peak, or either, as far as restart timing can tell.

Every kill after 30 minutes or more of running was called a slow leak, as a fact; a daily traffic peak kills pods
after hours of running too. Restart timing tells them apart only across pods: kills hours apart after runs of one
length follow uptime (a leak: tests/e2e/test_oom_shapes.py); kills within minutes of each other after runs of very
different lengths follow the clock (a peak); kills together after runs of one length (pods started together) cannot
tell. assess_namespace, evaluate_decision, set_memory_limit's plan, verify_recovery, the handoff and restore_measure
all say the same reading, and what follows from it. recommender's pods are built with real kubectl
(support/oom_kills.py).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from mcp import Client
from support.kubectl_runner import Kubectl
from support.mitigation_env import NS, Env, call, make_env, plan_and_confirm, ready, refused
from support.oom_kills import killed, recommenders
from support.result_rule import budgeted
from support.texts import handoff_fields

from incident_response.sim.serve import RunningSim

pytestmark = pytest.mark.anyio

H = timedelta(hours=1)
M = timedelta(minutes=1)
# (how long ago each pod's last run was OOMKilled, after how long of running)
TOGETHER_AFTER_EQUAL_RUNS = [(H, 6 * H + 10 * M)] * 3  # pods started together: uptime and the hour agree
TOGETHER_AFTER_DIFFERENT_RUNS = [(2 * H, 3 * H), (2 * H + 2 * M, 5 * H), (2 * H + 5 * M, 9 * H)]

EITHER = {
    "runs": TOGETHER_AFTER_EQUAL_RUNS,
    "reason": "3 pods of recommender were OOMKilled, each after 6h10m or more of running: a leak or a load peak "
    "(their timing cannot tell: check its memory over time and the traffic at the kills). A higher limit buys time "
    "either way",
    "plan": "each after 6h10m or more running: a leak or a load peak.",
    "verify": "its raised limit answered a leak or a load peak: if a leak, it only delays the next kill; check "
    "memory over time",
    "hypothesis": "recommender leaks memory or its peak load needs more than its limit (OOMKilled after hours of "
    "running): its memory over time tells which",
    "held": "the raise answered a leak or a load peak (its plan: each killed run lasted hours)",
    "replicas": "more replicas help only if it is a peak and its memory follows the requests each pod serves",
}
PEAK = {
    "runs": TOGETHER_AFTER_DIFFERENT_RUNS,
    "reason": "3 pods of recommender were OOMKilled within 5m of each other after runs of 3h to 9h: a load peak, not "
    "uptime. Raise the limit to what the peak needs; a restart does not help",
    "plan": ", all within 5m after runs of 3h to 9h: a load peak.",
    "verify": "its raised limit answered a load peak: check it holds at the next peak",
    "hypothesis": "The memory limit of recommender is below its peak load's need (pods OOMKilled together after "
    "runs of different lengths)",
    "held": "the raise answered a load peak (its plan: pods killed together after runs of different lengths)",
    "replicas": "more replicas help only if its memory follows the requests each pod serves",
}


@pytest.fixture
def build(
    sim_factory: Callable[..., RunningSim], kubectl_for: Callable[[RunningSim], Kubectl], tmp_path: Path
) -> tuple[Env, Kubectl]:
    sim = sim_factory("healthy")
    return make_env(sim, tmp_path / "state"), kubectl_for(sim)


def raised(pods: list[dict[str, Any]]) -> bool:
    limits = [c["resources"]["limits"]["memory"] for p in pods for c in p["spec"]["containers"]]
    return len(pods) == 3 and limits == ["1Gi"] * 3 and all(ready(p) for p in pods)


@pytest.mark.parametrize("said", [EITHER, PEAK], ids=["cannot tell", "load peak"])
async def test_kills_after_hours_of_running_are_called_what_their_timing_shows(
    build: tuple[Env, Kubectl], said: dict[str, Any]
) -> None:
    env, kubectl = build
    await killed(env, kubectl, said["runs"])
    async with Client(env.server("full")) as client:
        await call(client, "declare_incident", title="recommender OOM kills", severity="SEV3", namespace=NS)
        assessed = await budgeted(client, "assess_namespace", namespace=NS)
        walked = await budgeted(client, "evaluate_decision", namespace=NS)
        arguments = {"namespace": NS, "deployment": "recommender", "container": "recommender", "limit": "1Gi"}
        planned = await budgeted(client, "set_memory_limit", **arguments)
        await call(client, "cancel_command", token=planned["token"])
        plan, _ = await plan_and_confirm(client, env, "set_memory_limit", **arguments)
        await env.until(lambda: raised(recommenders(env)) and env.rolled_out("recommender", 3), 60)
        verified = await budgeted(client, "verify_recovery", namespace=NS, deployment="recommender")
        handoff = await handoff_fields(client, namespace=NS)
        [measure] = (await call(client, "list_temporary_measures"))["measures"]
        held = await refused(client, "restore_measure", measure_id=measure["measure_id"])

    decision = assessed["decision"]
    assert (decision["next_tool"], decision["target"]) == ("set_memory_limit", "deployment/recommender"), decision
    assert decision["reason"] == said["reason"], decision["reason"]
    assert said["reason"].split(": ", 1)[1] in walked["reason"], walked["reason"]
    assert "a slow leak," not in walked["reason"] and "next kill due" not in walked["reason"], walked["reason"]
    assert said["replicas"] in walked["reason"] and "killed the same way" not in walked["reason"], walked["reason"]
    assert said["plan"] in plan["summary"], plan["summary"]
    assert said["verify"] in verified["summary"], verified["summary"]
    statements = [h["statement"] for h in handoff["hypotheses"]]
    assert said["hypothesis"] in statements, statements
    assert not any(s.startswith("recommender leaks memory (OOMKilled") for s in statements), statements
    assert said["held"] in held, held


async def test_a_pod_on_its_way_out_is_not_counted_among_the_kills(build: tuple[Env, Kubectl]) -> None:
    """After a raise, the old pods are deleted while their replacements start: a Terminating pod's old kill is no
    kill of what runs (evaluate_decision already left it out; assess_namespace counted it and re-read the kills)."""
    env, kubectl = build
    await killed(env, kubectl, TOGETHER_AFTER_DIFFERENT_RUNS)
    leaving = min(recommenders(env), key=lambda p: p["metadata"]["name"])["metadata"]["name"]
    async with Client(env.server("safe")) as client:
        with env.sim.cluster._tick_lock:  # no controller runs: the pod stays Terminating, not yet replaced
            kubectl.run("delete", "pod", leaving, "-n", NS, "--wait=false")
            assessed = await call(client, "assess_namespace", namespace=NS)
            walked = await call(client, "evaluate_decision", namespace=NS, deployment="recommender", action="SCALE")

    reason = assessed["decision"]["reason"]
    assert reason.startswith("2 pods of recommender were OOMKilled"), reason
    assert not any(leaving in e for e in assessed["decision"]["evidence"]), assessed["decision"]["evidence"]
    assert "pods of recommender were OOMKilled" in walked["reason"], walked["reason"]
    assert reason.split(": ", 1)[1].split(". ", 1)[0] in walked["reason"], (reason, walked["reason"])

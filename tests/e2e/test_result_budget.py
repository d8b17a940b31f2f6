"""Issue 13's result budget, for every tool: text plus structured content at most 1.35 times the larger of the two
(server/budget.py). bench/context.py's calls (one per tool, on a simulated cluster where it applies) and every plan
in safe and full mode; then bench/sweep.py's: every read tool on every shipped scenario, with the calls the
assessment proposes, so no input of a shipped scenario is over.

A text-only tool (server/render.py TEXT_ONLY: get_logs) answers its text alone (ratio 1): what the structured content
said, the text says (its every line, counted; the pod, container, other pods and a cut tail).
"""

from __future__ import annotations

import re
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from mcp import Client
from support import sweeps
from support.mitigation_env import NS, make_env
from support.sims import SharedSims
from support.sweeps import load
from support.texts import section, text_of, text_only

from incident_response.server import budget
from incident_response.server.catalog import CATALOG
from incident_response.server.render_logs import STAMP
from incident_response.sim.resources import PODS
from incident_response.sim.scenarios import SCENARIOS
from incident_response.tools.assess.logs import MAX_BYTES
from incident_response.tools.core.masking import mask_text_counted

pytestmark = pytest.mark.anyio


def bench() -> ModuleType:
    return load("context")


async def test_every_tool_result_holds_the_overlap_limit(tmp_path: Path) -> None:
    measured = await bench().measure(tmp_path)
    assert {m.tool for m in measured} == set(CATALOG), "bench/context.py's GROUPS must call every tool once"
    assert not [(m.tool, m.result.content) for m in measured if m.result.is_error]
    over = {m.tool: (m.sizes, round(m.overlap, 2)) for m in measured if m.overlap > budget.RESULT_OVERLAP_LIMIT}
    assert not over, f"(text, structured) bytes and ratio over {budget.RESULT_OVERLAP_LIMIT}: {over!r}"
    logs = text_of(next(m for m in measured if m.tool == "get_logs").result)
    assert logs.startswith("100 log lines")  # the default tail, folded: not a short log that happens to fit


@pytest.mark.parametrize("mode", ["safe", "full"])
async def test_every_plan_holds_the_overlap_limit_in_every_mode(tmp_path: Path, mode: str) -> None:
    """A plan's structured content is smallest in safe mode (no token, no expiry, a short next step) and its text
    then also says why it is blocked; full mode's next step is short too. Only the calls that are not reads (and the
    measure list a restore needs): the reads' limits are the test above's and the sweep's."""
    module = bench()
    module.GROUPS = [
        (scenario, mode, [c for c in calls if CATALOG[c[0]].kind != "read" or c[0] == "list_temporary_measures"])
        for scenario, _, calls in module.GROUPS
    ]
    measured = await module.measure(tmp_path)
    plans = [m for m in measured if (m.result.structured_content or {}).get("status") in ("pending", "blocked")]
    assert {m.tool for m in plans} >= {"rollback_deployment", "set_memory_limit", "rollback_workload", "drain_node"}
    if mode == "safe":
        assert {(m.result.structured_content or {}).get("status") for m in plans} == {"blocked"}
    over = {m.tool: (m.sizes, round(m.overlap, 2)) for m in plans if m.overlap > budget.RESULT_OVERLAP_LIMIT}
    assert not over, f"(text, structured) bytes and ratio over {budget.RESULT_OVERLAP_LIMIT}: {over!r}"


@pytest.mark.parametrize("scenario", list(SCENARIOS))
async def test_every_read_of_every_scenario_holds_the_overlap_limit(scenario: str, sweep_store: Path | None) -> None:
    """Every read tool on every Deployment, StatefulSet, DaemonSet, Service and Helm release of the scenario, logs of
    distinct lines and crash loops' last runs among them, the handoff of an incident never declared, the empty
    lists, the calls assess_namespace proposes (plans in full mode), and the decision's plan confirmed."""
    swept = await sweeps.swept(scenario, sweep_store)
    assert {one.tool for one in swept} >= {"get_logs", "list_events", "incident_handoff", "rollout_history"}
    over = [
        (one.mode, one.tool, one.arguments, one.sizes, round(one.overlap, 2))
        for one in swept
        if not one.result.is_error and one.overlap > budget.RESULT_OVERLAP_LIMIT
    ]
    assert not over, f"(text, structured) bytes and ratio over {budget.RESULT_OVERLAP_LIMIT}: {over!r}"
    # Every read of a shipped scenario answers (a tool error would leave its result unmeasured).
    errors = [(one.tool, one.arguments, text_of(one.result)[:200]) for one in swept if one.result.is_error]
    assert not errors, errors


# (scenario, app label, previous, tail): an access log (every line distinct), one cut at 64 KiB, web's log while
# api-bad poisons it (distinct requests, then the same error each second), a crash loop's last run (a trace).
LOGS = [
    ("healthy", "web", False, 100),
    ("healthy", "web", False, 2000),
    ("poison", "web", False, 100),
    ("bad-deploy", "checkout", True, 100),
]


def accounted(lines: list[str]) -> int:
    """How many log lines the text's lines account for: each line shown, and each fold's repeats."""
    count = 0
    for line in lines:
        if fold := re.fullmatch(r"\((?:the (\d+) lines above |the line above )?x(\d+) in all, the last at \S+\)", line):
            count += int(fold[1] or 1) * (int(fold[2]) - 1)
        elif again := re.fullmatch(r"\(\S+: the (\d+) lines at \S+ again\)", line):
            count += int(again[1])
        elif not re.fullmatch(r"\d{4}-\d{2}-\d{2}, UTC:", line):
            count += 1
    return count


@pytest.mark.parametrize(("scenario", "app", "previous", "tail"), LOGS)
async def test_get_logs_text_says_every_line_its_pod_and_its_cut(
    shared_sims: SharedSims, tmp_path: Path, scenario: str, app: str, previous: bool, tail: int
) -> None:
    """get_logs is text only: its text says every distinct line (masked as the tool masks), accounts for every line
    of the tail with its folds, names the pod and container, the deployment's other pods, and a cut tail."""
    assert text_only("get_logs")
    env = make_env(shared_sims(scenario), tmp_path)
    pods = sorted(
        str(p["metadata"]["name"])
        for p in env.sim.store.items(PODS, NS)
        if (p["metadata"].get("labels") or {}).get("app") == app
    )
    pod = next((p for p in pods if previous and restarts(env.sim.store.peek(PODS, NS, p))), pods[0])
    cut = False

    def raw() -> list[str]:
        nonlocal cut
        log = env.kube.logs(pod, NS, tail_lines=tail, previous=previous, timestamps=True, limit_bytes=MAX_BYTES)
        cut = len(log.encode()) >= MAX_BYTES
        return mask_text_counted(log)[0].splitlines()

    before = raw()
    arguments = {"namespace": NS, "pod_or_deployment": pod, "previous": previous, "tail_lines": tail}
    async with Client(env.server("standard")) as client:
        result = await client.call_tool("get_logs", arguments)
        whole = await client.call_tool("get_logs", {"namespace": NS, "pod_or_deployment": f"deployment/{app}"})
    after = raw()
    assert not result.is_error and result.structured_content is None, result.content
    text = text_of(result)
    summary, lines = text.splitlines()[0], section(text, "lines")
    count = re.match(r"(\d+) log lines from ([\w.-]+)/([\w.-]+)", summary)
    assert count is not None and (count[2], count[3]) == (pod, app), summary
    assert ("(previous instance)" in summary) == previous, summary
    # Lines the log held before and after the call were in the tail the tool read: each is said.
    kept = [line for line in after if line in before]
    assert kept and not [line for line in kept if message(line) not in text], summary
    assert accounted(lines) == int(count[1]), (summary, lines[-5:])
    assert ("cut at 64 KiB" in summary) == cut == (tail == 2000), summary
    # deployment/APP reads its worst pod and says the others.
    named = re.match(r"\d+ log lines from ([\w-]+)/", text_of(whole))
    assert named is not None and sorted([named[1], *section(text_of(whole), "other pods")[0].split(", ")]) == pods


def restarts(pod: dict[str, Any] | None) -> int:
    statuses = ((pod or {}).get("status") or {}).get("containerStatuses") or []
    return sum(int(c.get("restartCount") or 0) for c in statuses)


def message(line: str) -> str:
    found = STAMP.match(line)
    return line[found.end() :] if found else line

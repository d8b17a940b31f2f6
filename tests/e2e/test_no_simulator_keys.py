"""No tool result on a shipped scenario quotes a simulator key (sim.incident-response.dev/...): each scenario's
failure is what a real cluster would show (a release's image, a limit, a node's status), so what the tools say about
it (template diffs, rollback checks, hypotheses, handoffs) is what an on-call engineer would see, and the tools
cannot come to rely on a difference no production cluster has.

bench/sweep.py's calls on every scenario (tests/support/sweeps.py: shared with test_result_budget.py): every read
(assess_namespace, evaluate_decision, check_rollback_safety, rollout_history, get_logs, list_events, ...), the calls
the assessment proposes (plans with their template diffs, in full and safe mode), the handoff with them pending, then
the decision's plan confirmed and the handoff after it. Text and structured content both.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from mcp.types import CallToolResult
from support import sweeps
from support.texts import text_of

from incident_response.sim.behaviors import PREFIX
from incident_response.sim.scenarios import SCENARIOS

pytestmark = pytest.mark.anyio
READS = {
    "assess_namespace",
    "evaluate_decision",
    "check_rollback_safety",
    "rollout_history",
    "verify_recovery",
    "get_logs",
    "list_events",
    "list_pods",
    "incident_handoff",
}
# The scenarios whose failure a rollback ends: the rollback's diff, the check and the handoff's hypothesis all name
# the release's template change, which is its image alone.
ROLLBACKS = {"bad-deploy": "checkout", "oom": "payments", "bad-statefulset": "sessions", "bad-daemonset": "db-proxy"}


def outline(swept: list[Any]) -> list[str]:
    """What the sweep called and got, a line a call (what a failure here shows: a loaded run's sweep can go another
    way, and the assertion alone would not say which)."""
    lines = []
    for one in swept:
        structured = one.result.structured_content or {}
        said = structured.get("status") or structured.get("primary_action") or structured.get("verdict") or ""
        if one.result.is_error:
            said = "error: " + text_of(one.result)[:120]
        lines.append(f"{one.mode} {one.tool} {json.dumps(one.arguments)} {said}".rstrip())
    return lines


def quoted(result: CallToolResult) -> str:
    """Where the result (its text, every content block, its structured content) names a simulator key, or ''."""
    whole = "\n".join(
        [
            text_of(result),
            json.dumps([block.model_dump(mode="json") for block in result.content]),
            json.dumps(result.structured_content),
        ]
    )
    at = whole.find(PREFIX)
    return "" if at < 0 else whole[max(at - 160, 0) : at + 80]


@pytest.mark.parametrize("scenario", list(SCENARIOS))
async def test_no_result_of_a_shipped_scenario_quotes_a_simulator_key(scenario: str, sweep_store: Path | None) -> None:
    swept = await sweeps.swept(scenario, sweep_store)
    assert not READS - {one.tool for one in swept}, outline(swept)
    leaks = [(one.mode, one.tool, one.arguments, where) for one in swept if (where := quoted(one.result))]
    assert not leaks, leaks
    if scenario == "healthy":
        return
    # The sweep went past the reads: the assessment proposed plans, and its decision's was confirmed and handed off.
    confirms = [(one.result.structured_content or {}).get("status") for one in swept if one.tool == "confirm_command"]
    assert confirms and confirms[-1] == "succeeded" and set(confirms[:-1]) <= {"stale"}, outline(swept)
    assert swept[-1].tool == "incident_handoff", outline(swept)
    assert "1 succeeded" in text_of(swept[-1].result), text_of(swept[-1].result)


@pytest.mark.parametrize(("scenario", "workload"), sorted(ROLLBACKS.items()))
async def test_a_bad_release_differs_from_the_good_one_in_its_image_alone(
    scenario: str, workload: str, sweep_store: Path | None
) -> None:
    """The confirmed rollback's plan diffs the pod templates: the image is the one template field it names (beside
    the change-cause annotation kubectl's users write); the handoff after it names the image change as the suspect."""
    swept = await sweeps.swept(scenario, sweep_store)
    plans = [one for one in swept if one.tool.startswith("rollback_") and one.mode == "full"]
    assert plans, outline(swept)
    text = text_of(plans[-1].result)
    assert "diff:" in text.splitlines(), text
    diff = diff_lines(text)
    allowed = r"(annotations\.kubernetes\.io/change-cause|containers\[[\w-]+\]\.image): "
    assert diff and all(re.match(allowed, line) for line in diff), diff
    assert any(line.startswith(f"containers[{workload}].image: ") for line in diff), diff
    handoff = text_of(swept[-1].result)
    image_change = rf"changed image \S+/{workload}:\S+ -> \S+/{workload}:\S+ \(container {workload}\)"
    assert re.search(image_change, handoff), handoff


def diff_lines(plan: str) -> list[str]:
    """A plan's diff: the lines under `diff:` up to its warnings, its blocked line or its end."""
    lines = plan.splitlines()
    start = lines.index("diff:") + 1
    end = next((i for i in range(start, len(lines)) if re.match(r"(warnings?|blocked|next_step):", lines[i])), None)
    return lines[start:end]

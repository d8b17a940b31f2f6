"""Issue 13's result budget, for every tool: text plus structured content at most 1.35 times the larger of the two
(server/budget.py). The calls are bench/context.py's, one per tool on a simulated cluster where it applies.

get_logs is the one result whose facts are all prose the model must read in whichever part its client hands it (the
log lines). Its budget call reads a log that mostly repeats (a pod that cannot reach its redis); on logs of distinct
lines (a crash loop's last run, an access log) both parts carry every line and the ratio is over 1.35: what holds
there is that the text keeps every distinct line and adds nothing of its own but the summary."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

from incident_response.server import budget
from incident_response.server.catalog import CATALOG

pytestmark = pytest.mark.anyio
BENCH = Path(__file__).resolve().parents[2] / "bench" / "context.py"


def bench() -> ModuleType:
    spec = importlib.util.spec_from_file_location("bench_context", BENCH)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclass looks itself up there
    spec.loader.exec_module(module)
    return module


async def test_every_tool_result_holds_the_overlap_limit(tmp_path: Path) -> None:
    measured = await bench().measure(tmp_path)
    assert {m.tool for m in measured} == set(CATALOG), "bench/context.py's GROUPS must call every tool once"
    assert not [(m.tool, m.result.content) for m in measured if m.result.is_error]
    over = {m.tool: (m.sizes, round(m.overlap, 2)) for m in measured if m.overlap > budget.RESULT_OVERLAP_LIMIT}
    assert not over, f"(text, structured) bytes and ratio over {budget.RESULT_OVERLAP_LIMIT}: {over!r}"
    logs = next(m for m in measured if m.tool == "get_logs").result.structured_content or {}
    assert logs["line_count"] == 100  # the default tail, folded in the text: not a short log that happens to fit


@pytest.mark.parametrize("mode", ["safe", "full"])
async def test_every_plan_holds_the_overlap_limit_in_every_mode(tmp_path: Path, mode: str) -> None:
    """A plan's structured content is smallest in safe mode (no token, no expiry, a short next step) and its text
    then also says why it is blocked; full mode's next step is short too."""
    module = bench()
    module.GROUPS = [(scenario, mode, calls) for scenario, _, calls in module.GROUPS]
    measured = await module.measure(tmp_path)
    plans = [m for m in measured if (m.result.structured_content or {}).get("status") in ("pending", "blocked")]
    assert {m.tool for m in plans} >= {"rollback_deployment", "set_memory_limit", "rollback_workload", "drain_node"}
    if mode == "safe":
        assert {(m.result.structured_content or {}).get("status") for m in plans} == {"blocked"}
    over = {m.tool: (m.sizes, round(m.overlap, 2)) for m in plans if m.overlap > budget.RESULT_OVERLAP_LIMIT}
    assert not over, f"(text, structured) bytes and ratio over {budget.RESULT_OVERLAP_LIMIT}: {over!r}"


async def test_get_logs_text_keeps_every_distinct_line_and_adds_nothing_but_the_summary(tmp_path: Path) -> None:
    module = bench()
    measured = await module.measure_logs(tmp_path / "logs")
    module.GROUPS = [group for group in module.GROUPS if any(tool == "get_logs" for tool, _ in group[2])]
    measured += [m for m in await module.measure(tmp_path) if m.tool == "get_logs"]
    for one in measured:
        content = one.result.structured_content or {}
        lines, text = content["lines"], module.text_of(one.result)
        assert lines and not one.result.is_error, one.scenario
        missing = [line for line in lines if module.message(line) not in text]
        assert not missing, (one.scenario, missing[:3])
        own = len(text.encode()) - len(content["summary"].encode())
        assert own <= sum(len(line.encode()) + 1 for line in lines), (one.scenario, own)

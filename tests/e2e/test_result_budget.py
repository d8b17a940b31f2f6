"""Issue 13's result budget, for every tool: text plus structured content at most 1.35 times the larger of the two
(server/budget.py; results whose facts are prose in both parts have their own limit there, at what they measure now,
so none can grow). The calls are bench/context.py's, one per tool on a simulated cluster where it applies."""

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


async def test_every_tool_result_holds_its_overlap_limit(tmp_path: Path) -> None:
    measured = await bench().measure(tmp_path)
    assert {m.tool for m in measured} == set(CATALOG), "bench/context.py's GROUPS must call every tool once"
    assert not [(m.tool, m.result.content) for m in measured if m.result.is_error]
    over = {
        m.tool: (m.sizes, round(m.overlap, 2), budget.overlap_limit(m.tool))
        for m in measured
        if m.overlap > budget.overlap_limit(m.tool)
    }
    assert not over, "(text, structured) bytes, ratio, limit: " + repr(over)
    # A prose result's own limit is no blanket pass: it stays within 0.08 of what the result measures.
    prose = [m for m in measured if m.tool in budget.PROSE_RESULTS]
    assert {m.tool for m in prose} == set(budget.PROSE_RESULTS)
    loose = {m.tool: m.overlap for m in prose if m.overlap < budget.overlap_limit(m.tool) - 0.08}
    assert not loose, f"lower these PROSE_RESULTS limits (server/budget.py) to what they measure now: {loose}"

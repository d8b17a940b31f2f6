"""What team mode costs in API requests (bench/team_requests.py, through an MCP client against the simulated
cluster): the journal is read once per tool call, so an assessment asks it a handful of questions, not the 23 it
asked from several places before (tools/engine/call_reads.py)."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

pytestmark = pytest.mark.anyio
BENCH = Path(__file__).resolve().parents[2] / "bench"
# A warm assess_namespace (its incident open) reads the incidents, the incident's commands, the approvals and its
# events, and writes its tool call: 5 requests. Before the per-call read it made 23.
WARM_ASSESSMENT = 6
# Every call of the bench's session together (10 calls, one opening the incident, one planning): 67 measured; 177
# before the per-call read.
SESSION = 80


def bench() -> ModuleType:
    spec = importlib.util.spec_from_file_location("bench_team_requests", BENCH / "team_requests.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclass looks itself up there
    spec.loader.exec_module(module)
    return module


def repeated_reads(requests: list[str]) -> list[str]:
    """GETs asked again with no write of this process between them: what one read per call rules out."""
    seen: set[str] = set()
    again: list[str] = []
    for request in requests:
        if not request.startswith("GET "):
            seen.clear()  # a write: the journal may have changed, asking again is right
        elif request in seen:
            again.append(request)
        else:
            seen.add(request)
    return again


async def test_team_mode_reads_the_journal_once_per_call(tmp_path: Path) -> None:
    counted: list[Any] = await bench().measure_team(tmp_path)
    journal = {f"{n} {c.tool}": c.journal for n, c in enumerate(counted)}
    first, warm = counted[0], counted[1]
    assert (first.tool, warm.tool) == ("assess_namespace", "assess_namespace")
    assert warm.journal <= WARM_ASSESSMENT, (journal, warm.journal_requests)
    assert sum(journal.values()) <= SESSION, journal
    # The first call opens the incident: the reads that decide that write go to the API again by design.
    again = {c.tool: repeated_reads(c.journal_requests) for c in counted[1:]}
    assert not any(again.values()), again

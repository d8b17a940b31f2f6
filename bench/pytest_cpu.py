"""A pytest plugin that reports each test's CPU time (this process's threads, the simulated cluster's included, plus
the child processes it waited for: kubectl, subprocess servers) beside its wall time. On a shared two-core machine
the wall time of a test says more about the load than about the test; CPU time is what it costs the suite.

    PYTHONPATH=bench nice -n 10 python -m pytest -p pytest_cpu tests/e2e/test_x.py -q -p no:cacheprovider

Prints the tests by CPU time, most first (setup, call and teardown together: a fixture's sim counts). Under xdist
(the workers' numbers never reach the controller) or to keep a long run's numbers as they come, set PYTEST_CPU_LOG:
every worker appends a line per test (cpu, wall, worker, node id) to that file, and

    python bench/pytest_cpu.py LOG [--files N] [--schedule]

prints the CPU and wall per file and per tier, or (--schedule) tests/support/schedule.py's FILE_SECONDS entries.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import time
from collections import defaultdict
from collections.abc import Generator
from pathlib import Path
from typing import Any

import pytest

_TOTALS: dict[str, list[float]] = {}
LOG = "PYTEST_CPU_LOG"


def _cpu() -> float:
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_protocol(item: pytest.Item, nextitem: Any) -> Generator[None]:
    cpu, wall = _cpu(), time.perf_counter()
    yield
    _TOTALS[item.nodeid] = [_cpu() - cpu, time.perf_counter() - wall]
    log = os.environ.get(LOG)
    if log:
        worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
        with open(log, "a", encoding="utf-8") as out:
            out.write(f"{_TOTALS[item.nodeid][0]:.3f}\t{_TOTALS[item.nodeid][1]:.3f}\t{worker}\t{item.nodeid}\n")


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if not _TOTALS:  # an xdist controller: the workers ran the tests (see PYTEST_CPU_LOG)
        return
    terminalreporter.write_sep("=", "CPU time per test (cpu s, wall s)")
    for nodeid, (cpu, wall) in sorted(_TOTALS.items(), key=lambda kv: -kv[1][0]):
        terminalreporter.write_line(f"{cpu:7.2f} {wall:7.2f}  {nodeid}")
    cpu = sum(v[0] for v in _TOTALS.values())
    wall = sum(v[1] for v in _TOTALS.values())
    terminalreporter.write_line(f"{cpu:7.2f} {wall:7.2f}  total of {len(_TOTALS)} tests")


def summarize(log: Path, files: int, schedule: bool, listed_from: float) -> None:
    per_file: defaultdict[str, list[float]] = defaultdict(lambda: [0.0, 0.0, 0.0])
    per_tier: defaultdict[str, list[float]] = defaultdict(list)
    for line in log.read_text(encoding="utf-8").splitlines():
        cpu, wall, _, nodeid = line.split("\t")
        path = nodeid.split("::", 1)[0]
        totals = per_file[path]
        totals[0], totals[1], totals[2] = totals[0] + float(cpu), totals[1] + float(wall), totals[2] + 1
        per_tier["/".join(path.split("/")[:2]) + "/"].append(float(wall))
    if schedule:
        ranked = sorted(per_file.items(), key=lambda kv: -kv[1][1])
        print(
            "PER_TEST_SECONDS = {" + ", ".join(f'"{t}": {statistics.median(w):.3g}' for t, w in per_tier.items()) + "}"
        )
        for path, (_, wall, _) in ranked:
            if round(wall) >= listed_from and Path(path).is_file():
                print(f'    "{path}": {round(wall)},')
        return
    cpu_all, wall_all = sum(v[0] for v in per_file.values()), sum(v[1] for v in per_file.values())
    print(f"{int(sum(v[2] for v in per_file.values()))} tests, {cpu_all:.1f} s CPU, {wall_all:.1f} s wall")
    for tier, walls in sorted(per_tier.items()):
        cpu = sum(v[0] for p, v in per_file.items() if p.startswith(tier))
        print(f"  {tier:14s} {len(walls):5d} tests {cpu:7.1f} s CPU, median wall {statistics.median(walls):.3f} s")
    print("   cpu s   wall s  tests  file")
    for path, (cpu, wall, count) in sorted(per_file.items(), key=lambda kv: -kv[1][0])[:files]:
        print(f"{cpu:8.2f} {wall:8.2f} {int(count):6d}  {path}")


def main() -> None:
    parser = argparse.ArgumentParser(description="Per-file CPU and wall from a PYTEST_CPU_LOG file.")
    parser.add_argument("log", type=Path)
    parser.add_argument("--files", type=int, default=40, help="how many files, most CPU first")
    parser.add_argument("--schedule", action="store_true", help="print tests/support/schedule.py's table entries")
    parser.add_argument("--listed-from", type=float, default=10.0, help="the schedule lists files of this wall or more")
    args = parser.parse_args()
    summarize(args.log, args.files, args.schedule, args.listed_from)


if __name__ == "__main__":
    main()

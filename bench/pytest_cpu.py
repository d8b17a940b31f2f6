"""A pytest plugin that reports each test's CPU time (this process's threads, the simulated cluster's included, plus
the child processes it waited for: kubectl, subprocess servers) beside its wall time. On a shared two-core machine
the wall time of a test says more about the load than about the test; CPU time is what it costs the suite.

    PYTHONPATH=bench nice -n 10 python -m pytest -p pytest_cpu tests/e2e/test_x.py -q -p no:cacheprovider

Prints the tests by CPU time, most first (setup, call and teardown together: a fixture's sim counts).
"""

from __future__ import annotations

import resource
import time
from collections.abc import Generator
from typing import Any

import pytest

_TOTALS: dict[str, list[float]] = {}


def _cpu() -> float:
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_protocol(item: pytest.Item, nextitem: Any) -> Generator[None]:
    cpu, wall = _cpu(), time.perf_counter()
    yield
    _TOTALS[item.nodeid] = [_cpu() - cpu, time.perf_counter() - wall]


def pytest_terminal_summary(terminalreporter: Any) -> None:
    terminalreporter.write_sep("=", "CPU time per test (cpu s, wall s)")
    for nodeid, (cpu, wall) in sorted(_TOTALS.items(), key=lambda kv: -kv[1][0]):
        terminalreporter.write_line(f"{cpu:7.2f} {wall:7.2f}  {nodeid}")
    cpu = sum(v[0] for v in _TOTALS.values())
    wall = sum(v[1] for v in _TOTALS.values())
    terminalreporter.write_line(f"{cpu:7.2f} {wall:7.2f}  total of {len(_TOTALS)} tests")

"""Helpers for the sim tier's StatefulSet and DaemonSet tests with real kubectl
(tests/sim/test_statefulsets_daemonsets.py, tests/sim/test_daemonsets.py): waits, wide tables, rollout history."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from incident_response.sim.cluster import Timing
from support import polling
from support.kubectl_runner import Kubectl

T = TypeVar("T")
NS = "default"


def eventually(check: Callable[[], T | None], timeout: float = 30.0, what: str = "the condition") -> T:
    return polling.eventually(check, timeout, what)


def wide_table(k: Kubectl, *args: str) -> list[dict[str, str]]:
    """`kubectl get` rows, with headers that contain a space ("NODE SELECTOR"): columns start after two spaces."""
    lines = [line for line in k.run("get", *args).stdout.splitlines() if line.strip()]
    header = lines[0]
    starts = [i for i, ch in enumerate(header) if ch != " " and (i == 0 or header[max(i - 2, 0) : i] == "  ")]
    ends = [*starts[1:], None]
    names = [header[s:e].strip() for s, e in zip(starts, ends, strict=True)]
    return [
        dict(zip(names, [line[s:e].strip() for s, e in zip(starts, ends, strict=True)], strict=True))
        for line in lines[1:]
    ]


def history(k: Kubectl, target: str) -> list[tuple[str, str]]:
    """`kubectl rollout history` rows: (REVISION, CHANGE-CAUSE)."""
    lines = k.run("rollout", "history", target, "-n", NS).stdout.splitlines()
    assert lines[1].split() == ["REVISION", "CHANGE-CAUSE"], lines
    return [(line.split(None, 1)[0], line.split(None, 1)[1].strip()) for line in lines[2:] if line.strip()]


def status_done(k: Kubectl, target: str) -> str:
    out = k.run("rollout", "status", target, "-n", NS, "--timeout=60s").stdout
    return out.strip().splitlines()[-1]


# Ordered rollouts wait for each pod in real time: starts, readiness and terminations three times quicker than the
# default (0.3 s each) keep what these tests check (order, revisions, claims, kubectl's output) and a third of the wait.
QUICK = Timing(pod_start=0.1, ready_delay=0.1, termination=0.1)

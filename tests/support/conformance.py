"""Helpers for tests/sim/test_conformance*.py: the playbook's kubectl commands against the simulated scenarios
(tables, shell pipes applied in Python, the store's pods, endpoints, metrics)."""

from __future__ import annotations

import json
import time
import urllib.request
from collections.abc import Callable
from typing import Any, TypeVar

from incident_response.sim.resources import PODS, REPLICASETS
from incident_response.sim.serve import RunningSim
from support.kubectl_runner import Kubectl

NS = "shop"
IMAGE = "registry.example.com/shop/{}"
T = TypeVar("T")
Shared = Callable[[str], tuple[RunningSim, Kubectl]]


# ----- helpers -----


def eventually(check: Callable[[], T | None], timeout: float = 20.0, what: str = "the condition") -> T:
    """Poll `check` every 0.2 s until it returns something truthy; fail after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    last: Any = None
    while True:
        try:
            result = check()
        except AssertionError as e:
            result, last = None, e
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}; last: {last}")
        time.sleep(0.2)


def parse_table(text: str) -> list[dict[str, str]]:
    """kubectl's column output as rows keyed by header (cells are split at the header's column starts)."""
    lines = [line for line in text.splitlines() if line.strip()]
    if not lines:
        return []
    header = lines[0]
    # kubectl pads columns with at least three spaces; one space is part of a header ("ACCESS MODES")
    starts = [i for i, ch in enumerate(header) if ch != " " and (i == 0 or header[max(i - 2, 0) : i] == "  ")]
    names = [header[s:e].strip() for s, e in zip(starts, [*starts[1:], None], strict=True)]
    return [
        dict(zip(names, [line[s:e].strip() for s, e in zip(starts, [*starts[1:], None], strict=True)], strict=True))
        for line in lines[1:]
    ]


def grep_v(text: str, word: str) -> list[str]:
    return [line for line in text.splitlines() if word not in line]


def tail(text: str, count: int) -> list[str]:
    return text.splitlines()[-count:]


def grep_after(text: str, pattern: str, after: int) -> list[list[str]]:
    """`grep -A <after> <pattern>`: each match with the lines that follow it."""
    lines = text.splitlines()
    return [lines[i : i + after + 1] for i, line in enumerate(lines) if pattern in line]


def millicores(text: str) -> int:
    return int(text[:-1]) if text.endswith("m") else int(float(text) * 1000)


def store_pods(sim: RunningSim, selector: dict[str, str] | None = None, live: bool = True) -> list[dict[str, Any]]:
    out = []
    for pod in sim.store.items(PODS, NS):
        labels = pod["metadata"].get("labels") or {}
        if selector and any(labels.get(k) != v for k, v in selector.items()):
            continue
        if live and "deletionTimestamp" in pod["metadata"]:
            continue
        out.append(pod)
    return out


def ready(pod: dict[str, Any]) -> bool:
    return any(
        c.get("type") == "Ready" and c.get("status") == "True"
        for c in (pod.get("status") or {}).get("conditions") or []
    )


def endpoint_ips(k: Kubectl, service: str) -> set[str]:
    """Addresses of `kubectl get endpoints <service>` (ip:port pairs, `<none>` when empty)."""
    out = k.run("get", "endpoints", service, "-n", NS).stdout
    rows = parse_table(out)
    assert len(rows) == 1, out
    cell = rows[0]["ENDPOINTS"]
    assert not cell.endswith("more..."), "more than three endpoints are not listed"
    return set() if cell == "<none>" else {entry.rsplit(":", 1)[0] for entry in cell.split(",")}


def endpoints_json_ips(k: Kubectl, service: str) -> set[str]:
    obj = k.json("get", "endpoints", service, "-n", NS)
    return {a["ip"] for s in obj.get("subsets") or [] for a in s.get("addresses") or []}


def pods_table(k: Kubectl, *args: str) -> list[dict[str, str]]:
    return parse_table(k.run("get", "pods", "-n", NS, *args).stdout)


def replicaset_by_revision(sim: RunningSim, deployment: str) -> dict[int, dict[str, Any]]:
    out = {}
    for rs in sim.store.items(REPLICASETS, NS):
        owners = rs["metadata"].get("ownerReferences") or []
        if any(o.get("name") == deployment for o in owners):
            out[int(rs["metadata"]["annotations"]["deployment.kubernetes.io/revision"])] = rs
    return out


def metrics(sim: RunningSim, path: str) -> dict[str, Any]:
    with urllib.request.urlopen(f"{sim.url}/apis/metrics.k8s.io/v1beta1/{path}", timeout=10) as response:
        body: dict[str, Any] = json.loads(response.read())
    return body


def all_running_and_ready(k: Kubectl, app: str, count: int, image: str | None = None) -> bool:
    rows = pods_table(k, "-l", f"app={app}")
    if len(rows) != count or any(r["STATUS"] != "Running" or r["READY"] != "1/1" for r in rows):
        return False
    if image is not None:
        images = k.run(
            "get", "pods", "-n", NS, "-l", f"app={app}", "-o", "jsonpath={.items[*].spec.containers[0].image}"
        ).stdout.split()
        return bool(images == [image] * count)
    return True

"""The warm-up's dry run of a read: the code a first call runs after its tool is built, run once before it comes.

A first tool call ran ~350 functions for the first time (the HTTP client's response parsing, pod slimming, the
result's rendering and masking) and opened the connection to the API server: ~2x a warm call (issue 13). Here the
warm-up runs that path on its own data: one harmless read (GET /version, through the connection pool the tools use,
which keeps the connection open for the first call) and a pod list made in code (nothing read from the cluster)
through the rows, render and masking. Nothing is cached: no result of this is kept, and a failure is only logged
(a server starts without a reachable cluster).

Layer: server (MCP wiring).
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, cast

from mcp.types import CallToolResult

from incident_response.tools.engine.deps import Deps

if TYPE_CHECKING:
    from incident_response.tools.kube.client import Kube

logger = logging.getLogger("incident_response.server")


def warm_read(deps: Deps) -> None:
    """GET /version (a read every client may make, no RBAC needed), then a made-up pod list through list_pods' code
    (the warm-up runs them as two steps: server/warm_steps.py)."""
    read_version(deps)
    dry_run_of_a_pod_list()


def read_version(deps: Deps) -> None:
    try:
        deps.kube.version()
    except Exception as e:  # noqa: BLE001  (no cluster, refused, timed out: the first call meets it and says so)
        logger.debug("warm-up read of /version failed: %s", e)


def dry_run_of_a_pod_list() -> None:
    try:
        made_up_pod_list()
    except Exception:  # the dry run must never stop the warm-up: the first call just runs cold
        logger.exception("the warm-up's dry run of a pod list failed")


class MadeUpPods:
    """A stand-in for the cluster that answers only a pod Table, made in code (tools.kube.table_pages asks a
    stand-in's `table`)."""

    def __init__(self, table: dict[str, Any]) -> None:
        self._table = table

    def table(self, resource: str, namespace: str | None = None, **options: Any) -> dict[str, Any]:
        return self._table


def made_up_pod_list() -> CallToolResult:
    """A three-pod Table page (two running, one crash-looping), made here, through list_pods' read, rows, result,
    rendering and masking; the result is returned (for the tests) and thrown away."""
    from incident_response.server.mcp_masking import mask_call_result
    from incident_response.server.registration import to_call_result
    from incident_response.tools.assess.pods import fetch_pods, pod_list

    now = datetime.now(UTC)
    stand_in = cast("Kube", MadeUpPods(made_up_table(now - timedelta(minutes=5))))
    listed = pod_list(fetch_pods(stand_in, "warm-up", now=now), "warm-up", None, False, 100)
    masked = mask_call_result(to_call_result(listed))
    assert isinstance(masked, CallToolResult)
    return masked


def made_up_table(started: datetime) -> dict[str, Any]:
    stamp = started.strftime("%Y-%m-%dT%H:%M:%SZ")

    def pod(name: str, ready: bool, restarts: int, state: dict[str, Any]) -> dict[str, Any]:
        return {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {
                "name": name,
                "namespace": "warm-up",
                "uid": f"00000000-0000-4000-8000-{len(name):012d}",
                "creationTimestamp": stamp,
                "labels": {"app": "warm-up", "pod-template-hash": "5d4c7b9f8"},
                "ownerReferences": [
                    {"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": "warm-up-5d4c7b9f8", "controller": True}
                ],
            },
            "spec": {
                "nodeName": "node-1",
                "containers": [
                    {
                        "name": "app",
                        "image": "registry.example/warm-up:1.0",
                        "env": [{"name": "API_TOKEN", "value": "not-a-secret"}],
                        "resources": {"limits": {"memory": "128Mi"}},
                    }
                ],
            },
            "status": {
                "phase": "Running",
                "podIP": "10.0.0.1",
                "startTime": stamp,
                "conditions": [{"type": "Ready", "status": "True" if ready else "False"}],
                "containerStatuses": [
                    {
                        "name": "app",
                        "ready": ready,
                        "restartCount": restarts,
                        "image": "registry.example/warm-up:1.0",
                        "state": state,
                        "lastState": {}
                        if ready
                        else {"terminated": {"reason": "OOMKilled", "exitCode": 137, "finishedAt": stamp}},
                    }
                ],
            },
        }

    pods = [
        ("warm-up-5d4c7b9f8-a1b2c", "1/1", "Running", 0, pod("warm-up-5d4c7b9f8-a1b2c", True, 0, {"running": {}})),
        ("warm-up-5d4c7b9f8-g5h6i", "1/1", "Running", 0, pod("warm-up-5d4c7b9f8-g5h6i", True, 0, {"running": {}})),
        (
            "warm-up-5d4c7b9f8-d3e4f",
            "0/1",
            "CrashLoopBackOff",
            3,
            pod("warm-up-5d4c7b9f8-d3e4f", False, 3, {"waiting": {"reason": "CrashLoopBackOff"}}),
        ),
    ]
    columns = ["Name", "Ready", "Status", "Restarts", "Age", "IP", "Node"]
    return {
        "kind": "Table",
        "apiVersion": "meta.k8s.io/v1",
        "metadata": {"resourceVersion": "1"},
        "columnDefinitions": [{"name": c, "type": "string"} for c in columns],
        "rows": [
            {"cells": [name, ready, status, restarts, "5m", "10.0.0.1", "node-1"], "object": obj}
            for name, ready, status, restarts, obj in pods
        ],
    }

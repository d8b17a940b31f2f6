"""check_rollback_safety's answer as tests read it: each check's status, one check's item, and the call made with the
simulated cluster's controllers held still, so that any write the tool made would show."""

from __future__ import annotations

from typing import Any

from mcp import Client

from support.mitigation_env import NS, Env, call

TOOL = "check_rollback_safety"


def statuses(result: dict[str, Any]) -> dict[str, str]:
    return {item["check"]: item["status"] for item in result["items"]}


def item(result: dict[str, Any], check: str) -> dict[str, Any]:
    return next(i for i in result["items"] if i["check"] == check)


async def check_without_writing(env: Env, client: Client, **arguments: Any) -> dict[str, Any]:
    """check_rollback_safety on `arguments`, with the controllers held still: any write would move the store's
    resourceVersion (the tool only reads)."""
    with env.sim.cluster._tick_lock:
        before = env.sim.store.resource_version
        result = await call(client, TOOL, namespace=NS, **arguments)
        assert env.sim.store.resource_version == before, "check_rollback_safety wrote to the cluster"
    return result

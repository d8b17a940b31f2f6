"""A temporary measure someone else put back (review-assist F30), end to end; built and reverted with real kubectl.

scale_deployment api 3 -> 6 is confirmed, then CI re-applies api's manifest (`kubectl apply`, replicas 3). The
tools said the scale was still in place (list_temporary_measures, verify_recovery, the handoff) and restore_measure
answered "nothing to scale" while the measure stayed listed for good. Now all three say it is no longer in place,
who reverted it and when (managedFields), and restore_measure closes it.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
import yaml
from mcp import Client
from support.mitigation_env import NS, Env, call, plan_and_confirm, ready
from support.texts import handoff_fields

from incident_response.sim.scenarios.builders import deployment_body

pytestmark = pytest.mark.anyio

REVERTED = re.compile(
    r"reverted outside this server at \d\d:\d\d UTC by kubectl-client-side-apply: spec\.replicas is 3 \(it set 6\)"
)


def running(env: Env, count: int) -> bool:
    pods = [p for p in env.pods("app=api") if not p["metadata"].get("deletionTimestamp")]
    return len(pods) == count and all(ready(p) for p in pods)


async def test_a_scale_reverted_by_ci_is_reported_reverted_everywhere_and_restore_closes_it(built: Any) -> None:
    env, kubectl = built
    manifest = yaml.safe_dump(
        {"apiVersion": "apps/v1", "kind": "Deployment", **deployment_body("api", namespace=NS, replicas=3)}
    )
    kubectl.run("apply", "-f", "-", stdin=manifest)  # a new template: revision 3 rolls out
    await env.until(lambda: running(env, 3) and env.observed("api") and env.rolled_out("api", 3))
    async with Client(env.server("full")) as client:
        await call(client, "declare_incident", title="api slow", severity="SEV2")
        await plan_and_confirm(client, env, "scale_deployment", namespace=NS, deployment="api", replicas=6)
        await env.until(lambda: running(env, 6) and env.rolled_out("api", 6))
        before = await call(client, "list_temporary_measures")
        assert before["summary"].startswith("1 temporary measure(s) in place: scale_deployment api"), before

        kubectl.run("apply", "-f", "-", stdin=manifest)  # CI re-applies the manifest: replicas 3 again
        await env.until(lambda: running(env, 3) and env.rolled_out("api", 3))

        listed = await call(client, "list_temporary_measures")
        verified = await call(client, "verify_recovery", namespace=NS, deployment="api")
        handoff = await handoff_fields(client, namespace=NS)
        [measure] = listed["measures"]
        closed = await call(client, "restore_measure", measure_id=measure["measure_id"])
        after = await call(client, "list_temporary_measures")

    assert listed["summary"].startswith("0 temporary measure(s) in place, 1 reverted outside this server"), listed
    assert measure["summary"].startswith("NO LONGER IN PLACE: ") and REVERTED.search(measure["summary"]), measure
    assert "NO LONGER IN PLACE: the scale_deployment of " in verified["summary"], verified["summary"]
    assert REVERTED.search(verified["summary"]), verified["summary"]
    [entry] = handoff["current_state"]["temporary_measures"]
    assert entry["what"].startswith("NO LONGER IN PLACE: ") and REVERTED.search(entry["what"]), entry
    assert "0 temporary measure(s) in place (1 more reverted outside this server)" in handoff["summary"]
    mitigation = handoff["current_state"]["mitigation_detail"]
    assert "since reverted outside this server: NO LONGER IN PLACE" in mitigation, mitigation
    # restore_measure closes it (nothing to put back) and it is listed no more.
    assert closed["status"] == "blocked" and closed["token"] is None, closed
    assert "closed, nothing to restore" in closed["summary"] and REVERTED.search(closed["summary"]), closed
    assert after["measures"] == [] and after["summary"] == "none in place", after
    assert env.get("deployments", "api")["spec"]["replicas"] == 3  # nothing was written

"""The handoff of a busy namespace names the bad deploy, not the namespace's history (review-assist6 G6), end to end.

Built incident (a small copy of play/many.py): in namespace fleet, svc-oom has OOM-looped for four days (a standing
failure, its Service has no ready endpoint); svc-137's revision 2 rolled out 90 minutes ago and its new pod
crash-loops while the old one serves (maxUnavailable 0); 42 other deployments were created around it, none failing.
The handoff used to date the incident from svc-oom's first OOM four days ago, make the 42 creations its suspects
and questions in time order, and leave svc-137's rollout out of a timeline that kept its oldest and newest entries.
An SRE's handoff: svc-137 rolled out revision 2 and its new pod crash-loops; svc-oom OOM-loops since four days ago,
older than this incident. The play's cluster clock ran ahead of the server's, which also hid svc-137's rollout (made
"after now"): the fresh case builds that too.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import anyio
import anyio.to_thread
import pytest
from mcp import Client
from support.mitigation_env import Env, make_env
from support.texts import handoff_fields

from incident_response.sim import behaviors
from incident_response.sim.scenarios.builders import deployment_body
from incident_response.sim.serve import RunningSim

pytestmark = pytest.mark.anyio

NS = "fleet"
FOUR_DAYS = 4 * 24 * 60
# Created before svc-137's rollout (90 minutes ago), then after it: a timeline keeping its oldest ten and its
# newest thirty entries leaves svc-137's rollout out.
EARLIER = range(110, 98, -1)
LATER = range(80, 50, -1)


@pytest.fixture
def env(sim_factory: Callable[..., RunningSim], tmp_path: Path) -> Env:
    return make_env(sim_factory("healthy"), tmp_path / "state")


def deployment(env: Env, name: str, minutes_ago: int, replicas: int, **pod: str) -> None:
    body = deployment_body(
        name,
        namespace=NS,
        replicas=replicas,
        image=f"registry.example.com/fleet/{name}:1.0.0",
        annotations={behaviors.ROLLED_OUT_MINUTES_AGO: str(minutes_ago)},
        pod_annotations=dict(pod) or None,
        strategy={"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": 0, "maxSurge": 1}},
    )
    env.kube.create("deployments", body, NS)


def service(env: Env, name: str) -> None:
    body = {
        "metadata": {"name": name},
        "spec": {"selector": {"app": name}, "ports": [{"port": 80, "targetPort": 8080}]},
    }
    env.kube.create("services", body, NS)


def restarted(env: Env, app: str) -> bool:
    pods = env.pods(f"app={app}", namespace=NS)
    return any((p["status"].get("containerStatuses") or [{}])[0].get("restartCount") for p in pods)


async def busy_namespace(env: Env, fresh: bool) -> None:
    """`fresh`: svc-137's revision 2 rolls out now, on a cluster whose clock runs a minute ahead of the server's;
    else it was rolled out 90 minutes ago."""
    env.kube.create("namespaces", {"metadata": {"name": NS}}, None)
    deployment(env, "svc-oom", FOUR_DAYS, 1, **{behaviors.BEHAVIOR: behaviors.OOM, behaviors.MEMORY_NEED: "1Gi"})
    service(env, "svc-oom")
    deployment(env, "svc-137", FOUR_DAYS, 1)
    service(env, "svc-137")
    for index, minutes in enumerate([*EARLIER, *LATER]):
        deployment(env, f"quiet-{index:02d}", minutes, 0)
    await env.until(lambda: env.pods("app=svc-137", namespace=NS) != [] and restarted(env, "svc-oom"))
    if fresh:
        await anyio.to_thread.run_sync(env.sim.advance, 60)
    patch = {
        "metadata": {"annotations": {behaviors.ROLLED_OUT_MINUTES_AGO: str(FOUR_DAYS if fresh else 90)}},
        "spec": {
            "template": {
                "metadata": {"annotations": {behaviors.BEHAVIOR: behaviors.CRASHLOOP}},
                "spec": {"containers": [{"name": "svc-137", "image": "registry.example.com/fleet/svc-137:1.1.0"}]},
            }
        },
    }
    env.kube.patch("deployments", "svc-137", patch, NS, patch_type="strategic")
    await env.until(lambda: restarted(env, "svc-137"))


@pytest.mark.parametrize("fresh", [False, True], ids=["rolled-out-90-minutes-ago", "rolled-out-now-clock-ahead"])
async def test_the_handoff_of_a_busy_namespace_names_the_bad_deploy_and_says_the_standing_failure(
    env: Env, fresh: bool
) -> None:
    await busy_namespace(env, fresh)
    async with Client(env.server("safe")) as client:
        await client.call_tool("assess_namespace", {"namespace": NS})
        handoff = await handoff_fields(client, namespace=NS)

    document = handoff["document"]
    now = datetime.now(UTC)
    # The incident starts with svc-137's failure, not with svc-oom's first OOM four days ago.
    started = datetime.fromisoformat(handoff["started"]["at"])
    assert now - started < timedelta(hours=2), (handoff["started"], document)
    assert handoff["duration_minutes"] < 120, document
    assert "svc-137" in handoff["deployments"], handoff["deployments"]
    # svc-137's rollout is the suspect: a hypothesis and a question; no deployment created and not failing is.
    statements = [h["statement"] for h in handoff["hypotheses"]]
    assert any("revision 2 of deployment svc-137" in s for s in statements), statements
    assert not any("quiet-" in s for s in statements), statements
    questions = handoff["open_questions"]
    assert any("deployment/svc-137 revision 2" in q for q in questions), questions
    assert not any("quiet-" in q for q in questions), questions
    # The capped timeline keeps svc-137's rollout and says what it left out.
    timeline = [e["text"] for e in handoff["timeline"]]
    assert any(t.startswith("deployment/svc-137 rolled out revision 2") for t in timeline), timeline
    assert handoff["timeline_truncation"]["truncated"], handoff["timeline_truncation"]
    assert "workload(s) created that are not failing" in document, document
    # svc-oom is said as standing: on the timeline and in its question.
    assert any("standing failure of svc-oom" in t for t in timeline), timeline
    assert any(q.startswith("svc-oom has failed since") and "standing" in q for q in questions), questions

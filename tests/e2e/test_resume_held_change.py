"""A template change made while a rollout is paused rolls out only on the resume (the deployment controller makes
no ReplicaSet for it while paused). restore_measure's resume of a pause_rollout measure writes only spec.paused,
yet it starts that rollout: the human approving it must be shown what it rolls out (review-landed8 R1: the plan
said 'Resume deployment payments's rollout' and nothing else while a crash-looping image waited behind it; with
the pause taken mid-rollout it said the held bad revision would go on, when the newer template would).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from mcp import Client
from support.kubectl_runner import Kubectl
from support.mitigation_env import NS, approve_as_cli, call, make_env, refused

from incident_response.sim.serve import RunningSim

pytestmark = pytest.mark.anyio

BAD = "registry.example.com/shop/payments:5.1.0"


async def test_a_resume_says_the_template_change_it_rolls_out(
    sim_factory: Callable[..., RunningSim], kubectl_for: Callable[[RunningSim], Kubectl], tmp_path: Path
) -> None:
    sim = sim_factory("healthy")
    env, k = make_env(sim, tmp_path / "state"), kubectl_for(sim)
    sim.cluster.images[BAD] = {"sim.incident-response.dev/behavior": "crashloop"}
    async with Client(env.server("standard")) as client:
        pause = await call(client, "pause_rollout", namespace=NS, deployment="payments")
        assert approve_as_cli(env, pause["token"]) == "approved"
        assert (await call(client, "confirm_command", token=pause["token"]))["status"] == "succeeded"
        # While paused, someone sets a new image: no ReplicaSet is made for it, nothing rolls yet.
        k.run("set", "image", "deployment/payments", f"payments={BAD}", "-n", NS)
        measures = await call(client, "list_temporary_measures")
        measure = next(m for m in measures["measures"] if m["tool"] == "pause_rollout")
        # Resuming is now a deploy of an image nobody checked: refused unless the human says so, naming it.
        held = await refused(client, "restore_measure", measure_id=measure["measure_id"])
        assert "template changed while its rollout was paused" in held and f"-> {BAD}" in held, held
        assert "restore_despite_condition=true" in held, held
        resume = await call(client, "restore_measure", measure_id=measure["measure_id"], restore_despite_condition=True)
        assert resume["command"] == pause["undo_command"], resume
        said = [f"{w['check']}: {w['brief']} {w['detail']}" for w in resume["warnings"]]
        assert any("template" in w and BAD in w for w in said), resume
        images = [p["spec"]["containers"][0]["image"] for p in env.pods("app=payments")]
        assert BAD not in images  # nothing rolled while paused


async def test_a_fix_set_while_a_bad_rollout_is_paused_is_what_the_resume_is_said_to_roll_out(
    sim_factory: Callable[..., RunningSim], kubectl_for: Callable[[RunningSim], Kubectl], tmp_path: Path
) -> None:
    """The H5 path: a bad rollout under way is paused; a fixed image is set while paused. The refusal names the fix
    that would roll out, not 'revision 2 would replace the serving pods' (revision 2 goes, superseded)."""
    sim = sim_factory("healthy")
    env, k = make_env(sim, tmp_path / "state"), kubectl_for(sim)
    sim.cluster.images[BAD] = {"sim.incident-response.dev/behavior": "crashloop"}
    fixed = "registry.example.com/shop/payments:5.1.1"
    k.run("set", "image", "deployment/payments", f"payments={BAD}", "-n", NS)

    def under_way() -> bool:
        d = env.get("deployments", "payments")
        status = d.get("status") or {}
        new = [p for p in env.pods("app=payments") if p["spec"]["containers"][0]["image"] == BAD]
        return bool(new) and status.get("observedGeneration") == d["metadata"]["generation"]

    await env.until(under_way, 60)
    async with Client(env.server("standard")) as client:
        pause = await call(client, "pause_rollout", namespace=NS, deployment="payments")
        assert "revision 2 has 0 of 2 Ready pods" in pause["summary"], pause
        assert approve_as_cli(env, pause["token"]) == "approved"
        assert (await call(client, "confirm_command", token=pause["token"]))["status"] == "succeeded"
        k.run("set", "image", "deployment/payments", f"payments={fixed}", "-n", NS)
        measures = await call(client, "list_temporary_measures")
        measure = next(m for m in measures["measures"] if m["tool"] == "pause_rollout")
        held = await refused(client, "restore_measure", measure_id=measure["measure_id"])
        assert f"{BAD} -> {fixed}, set while paused" in held, held
        assert "resuming lets revision 2 replace" not in held, held

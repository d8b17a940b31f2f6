"""A rollback brings an old revision back under a new number; the handoff's timeline says so, and never lists the
old revision as a new rollout dated at its first creation (which once read "statefulset/x rolled out revision 3
(good image), 1 s before the first warning" for the revision the rollback had gone back to).

Built incidents, seeded with their history: a StatefulSet, a DaemonSet and a Deployment whose good revision was
rolled out 25 minutes ago and whose bad revision (crash-looping) 8 minutes ago, both inside the incident window.
The rollback is made through this server (rollback_workload / rollback_deployment: the journal dates it) or by a
human with real `kubectl rollout undo` (the cluster dates a Deployment's through its progress, not a StatefulSet's
or DaemonSet's). kubectl's own `rollout history` is the oracle for the revision numbers the handoff names.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import anyio.to_thread
import pytest
from mcp import Client
from support.kubectl_runner import Kubectl
from support.mitigation_env import NS, Env, call, make_env, plan_and_confirm
from support.texts import handoff_fields

from incident_response.sim import behaviors
from incident_response.sim.cluster import Cluster
from incident_response.sim.scenarios import stateful
from incident_response.sim.scenarios.builders import MINUTE, App, Revision, Seeder
from incident_response.sim.serve import RunningSim

pytestmark = pytest.mark.anyio
GOOD_AGE, BAD_AGE = 25 * MINUTE, 8 * MINUTE
NODES = ["node-1", "node-2", "node-3"]
REGISTRY = "registry.example.com/shop"
# kind -> (name, good image, bad image)
BUILT = {
    "statefulset": ("sessions", f"{REGISTRY}/sessions:7.2.5", f"{REGISTRY}/sessions:7.4.0"),
    "daemonset": ("db-proxy", f"{REGISTRY}/db-proxy:1.14.2", f"{REGISTRY}/db-proxy:1.15.0"),
    "deployment": ("ledger", f"{REGISTRY}/ledger:3.1.0", f"{REGISTRY}/ledger:3.2.0"),
}


def seed(kind: str) -> Callable[[Cluster], None]:
    def build(cluster: Cluster) -> None:
        if kind == "statefulset":
            stateful.sessions(cluster, NS, NODES, bad_age=BAD_AGE, good_age=GOOD_AGE)
        elif kind == "daemonset":
            stateful.db_proxy(cluster, NS, NODES, bad_age=BAD_AGE, good_age=GOOD_AGE)
        else:
            _, good, bad = BUILT[kind]
            labels = {"app": "ledger"}
            app = App(name="ledger", namespace=NS, replicas=3, labels=labels, selector=dict(labels))
            crash = {behaviors.BEHAVIOR: behaviors.CRASHLOOP}
            history = [Revision(good, "initial", GOOD_AGE), Revision(bad, "ledger 3.2.0", BAD_AGE, image_does=crash)]
            Seeder(cluster, NODES).app(app, history)

    return build


@pytest.fixture
def built(sim_factory: Callable[..., RunningSim], tmp_path: Path) -> Callable[[str], Env]:
    return lambda kind: make_env(sim_factory("healthy", seed=seed(kind)), tmp_path / "state")


def timeline(handoff: dict[str, Any]) -> list[tuple[datetime, str]]:
    return [(datetime.fromisoformat(e["at"]), e["text"]) for e in handoff["timeline"]]


def created(env: Env, kind: str, image: str) -> datetime:
    """When the cluster first recorded the revision running `image` (its ReplicaSet or ControllerRevision)."""
    name = BUILT[kind][0]
    resource = "replicasets" if kind == "deployment" else "controllerrevisions"
    for item in env.kube.list(resource, NS).items:
        text = str(item.get("spec") or item.get("data"))
        if item["metadata"]["name"].startswith(f"{name}-") and image in text:
            return datetime.fromisoformat(item["metadata"]["creationTimestamp"].replace("Z", "+00:00"))
    raise AssertionError(f"no revision of {kind}/{name} runs {image}")


async def history(kubectl: Kubectl, ref: str, revision: int | None = None) -> str:
    more = [f"--revision={revision}"] if revision is not None else []
    ran = await anyio.to_thread.run_sync(lambda: kubectl.run("rollout", "history", ref, "-n", NS, *more))
    return ran.stdout


@pytest.mark.parametrize("kind", ["statefulset", "daemonset", "deployment"])
async def test_a_rollback_through_this_server_is_dated_by_the_journal_not_by_the_revision_it_reused(
    built: Callable[[str], Env], kubectl_for: Callable[[RunningSim], Kubectl], kind: str
) -> None:
    env = built(kind)
    kubectl = kubectl_for(env.sim)
    name, good, bad = BUILT[kind]
    ref = f"{kind}/{name}"
    async with Client(env.server("full")) as client:
        await call(client, "declare_incident", title=f"{name} crash-looping", severity="SEV2", namespace=NS)
        decision = (await call(client, "assess_namespace", namespace=NS))["decision"]
        assert decision["target"] == ref and decision["next_tool"].startswith("rollback_"), decision
        await plan_and_confirm(client, env, decision["next_tool"], **decision["next_arguments"])
        await env.until(lambda: renumbered(env, kind, name, good))
        handoff = await handoff_fields(client, namespace=NS)

    # The oracle: kubectl names the good template revision 3 now, the bad one revision 2.
    listed = await history(kubectl, ref)
    assert re.findall(r"^(\d+)\s", listed, re.M) == ["2", "3"], listed
    assert good in await history(kubectl, ref, 3) and bad in await history(kubectl, ref, 2)

    lines = timeline(handoff)
    texts = [text for _, text in lines]
    assert not any(f"{ref} rolled out revision 3" in t for t in texts), texts
    first = next((at, t) for at, t in lines if t.startswith(f"{ref} rolled out {good}"))
    assert first[0] == created(env, kind, good), first  # its first rollout, 25 minutes ago, under number 1
    assert "(revision 3 since a rollback brought it back)" in first[1] and "started" not in first[1], first
    replaced = next(t for t in texts if t.startswith(f"{ref} rolled out revision 2 ({bad})"))
    assert "the revision the rollback replaced" in replaced, replaced
    ran = next(at for at, t in lines if re.match(rf"{decision['next_tool']} succeeded at the API", t))
    assert ran > first[0] and not any(t.startswith(f"{ref} rolled back to") for t in texts)  # the journal's entry
    # The revision gone back to is the known-good one: no hypothesis or question asks to rule it out.
    document = handoff["document"]
    assert f"{name} at {first[0].strftime('%H:%M:%S')} UTC ({good}" not in document, document
    assert f"Rule out {ref}" not in document, document


@pytest.mark.parametrize("kind", ["statefulset", "daemonset", "deployment"])
async def test_a_rollback_made_with_kubectl_is_said_rolled_back_not_rolled_out(
    built: Callable[[str], Env], kubectl_for: Callable[[RunningSim], Kubectl], kind: str
) -> None:
    env = built(kind)
    kubectl = kubectl_for(env.sim)
    name, good, bad = BUILT[kind]
    ref = f"{kind}/{name}"
    async with Client(env.server("full")) as client:
        await call(client, "declare_incident", title=f"{name} crash-looping", severity="SEV2", namespace=NS)
        undone = datetime.fromisoformat(str(env.sim.cluster.store.clock().isoformat()))
        await anyio.to_thread.run_sync(lambda: kubectl.run("rollout", "undo", ref, "-n", NS))
        await env.until(lambda: renumbered(env, kind, name, good))
        handoff = await handoff_fields(client, namespace=NS)

    assert good in await history(kubectl, ref, 3)
    lines = timeline(handoff)
    texts = [text for _, text in lines]
    assert not any(f"{ref} rolled out revision 3" in t for t in texts), texts
    first = next((at, t) for at, t in lines if t.startswith(f"{ref} rolled out {good}"))
    assert first[0] == created(env, kind, good) and "(revision 3 since a rollback brought it back)" in first[1]
    assert any(t.startswith(f"{ref} rolled out revision 2 ({bad})") for t in texts), texts
    if kind == "deployment":  # the deployment's progress dates the rollback
        back = next(at for at, t in lines if t.startswith(f"{ref} rolled back to revision 3 ({good})"))
        assert back.replace(microsecond=0) >= undone.replace(microsecond=0), (back, undone)
    else:  # nothing in the cluster dates it: said, not dated
        said = [q for q in handoff["open_questions"] if q.startswith(f"{ref} runs revision 3 ({good}) again")]
        assert said and "a rollback made outside this server" in said[0], handoff["open_questions"]
        assert not any(t.startswith(f"{ref} rolled back to") for t in texts)
    # Neither the revision gone back to (it runs now) nor the rollback (after the first warning) is a suspect; the
    # bad revision is.
    questions = [q for q in handoff["open_questions"] if q.startswith("Rule out")]
    assert [q.split(",")[0] for q in questions] == [f"Rule out {ref} revision 2"], questions


@pytest.mark.parametrize("kind", ["statefulset", "daemonset", "deployment"])
async def test_a_rollback_still_replacing_the_bad_pods_is_not_rolled_back_again(
    built: Callable[[str], Env], kubectl_for: Callable[[RunningSim], Kubectl], kind: str
) -> None:
    """Right after a human's `kubectl rollout undo`, the bad revision's pods still crash-loop while the good one's
    start: the current revision is the good one brought back, and undoing it would go back to the bad one. The
    assessment once proposed exactly that (rollback_deployment to revision 2, the bad image)."""
    env = built(kind)
    kubectl = kubectl_for(env.sim)
    name, good, bad = BUILT[kind]
    await anyio.to_thread.run_sync(lambda: kubectl.run("rollout", "undo", f"{kind}/{name}", "-n", NS))
    await env.until(lambda: renumbered(env, kind, name, good))
    paused = env.sim.cluster._tick_lock  # the controllers wait: the bad pods are still there when assessed
    await anyio.to_thread.run_sync(paused.acquire)
    try:
        async with Client(env.server("safe")) as client:
            decision = (await call(client, "assess_namespace", namespace=NS))["decision"]
            evaluated = await call(client, "evaluate_decision", namespace=NS)
    finally:
        paused.release()

    assert decision["target"] == f"{kind}/{name}", decision
    assert not str(decision["next_tool"]).startswith("rollback_"), decision
    assert not str(evaluated.get("next_tool")).startswith("rollback_"), evaluated
    if kind == "deployment":
        assert (decision["rule"], decision["next_tool"]) == ("rollback in progress", "verify_recovery"), decision
        assert decision["next_arguments"] == {"namespace": NS, "deployment": name}
        assert f"rolling back to revision 3 ({good}; was {bad})" in decision["reason"], decision["reason"]


def renumbered(env: Env, kind: str, name: str, good: str) -> bool:
    """The controller has brought the good revision back as revision 3 (a Deployment: and written the status that
    dates it, its Progressing condition; the ReplicaSet is renumbered first, in a separate write that a read under
    load could fall between)."""
    if kind == "deployment":
        items = env.kube.list("replicasets", NS, label_selector="app=ledger").items
        return env.observed(name) and any(
            good in str(rs["spec"]) and rs["metadata"]["annotations"].get("deployment.kubernetes.io/revision") == "3"
            for rs in items
        )
    items = env.kube.list("controllerrevisions", NS).items
    return any(
        r["metadata"]["name"].startswith(f"{name}-") and good in str(r["data"]) and r["revision"] == 3 for r in items
    )

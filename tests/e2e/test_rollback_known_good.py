"""Two bad deploys in a row: the rollback goes to the revision that still serves, not kubectl's default, end to end.

Played by review-assist (F22): api 1.0 ran for days (revision 1; maxUnavailable 0 keeps its 3 pods serving), 1.1
(revision 2) crash-looped and was replaced within seconds by the "fix" 1.1.1 (revision 3), which crash-loops too.
assess_namespace's ROLLBACK carried no to_revision, so the one-call path planned `rollout undo` to revision 2, the
first bad deploy, while revision 1's ReplicaSet served right there. A revision whose pods still serve is evidence it
works (issue 11): assess, evaluate_decision and check_rollback_safety now name revision 1 and pass to_revision, and
rollback_deployment without one warns that its default target ran only briefly. Built with real kubectl; the plan's
command is checked by what real kubectl reports after the confirm.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from mcp import Client
from support.kubectl_runner import Kubectl
from support.mitigation_env import Env, call, make_env, plan_and_confirm
from support.plan_warnings import proses

from incident_response.sim.serve import RunningSim

pytestmark = pytest.mark.anyio

NS = "team-a"
IMAGE = "registry.example.com/a/api"
ROLLED_OUT = "sim.incident-response.dev/rolled-out-minutes-ago"


def api() -> str:
    labels = {"app": "api"}
    return json.dumps(
        {
            "apiVersion": "v1",
            "kind": "List",
            "items": [
                {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": NS}},
                {
                    "apiVersion": "apps/v1",
                    "kind": "Deployment",
                    "metadata": {"name": "api", "namespace": NS, "annotations": {ROLLED_OUT: "5000"}},
                    "spec": {
                        "replicas": 3,
                        "selector": {"matchLabels": labels},
                        "template": {
                            "metadata": {"labels": labels},
                            "spec": {
                                "containers": [
                                    {
                                        "name": "api",
                                        "image": f"{IMAGE}:1.0",
                                        "readinessProbe": {"httpGet": {"path": "/ready", "port": 8080}},
                                    }
                                ]
                            },
                        },
                    },
                },
                {
                    "apiVersion": "v1",
                    "kind": "Service",
                    "metadata": {"name": "api", "namespace": NS},
                    "spec": {"selector": labels, "ports": [{"port": 80, "targetPort": 8080}]},
                },
            ],
        }
    )


def bad_release(env: Env, k: Kubectl, tag: str, minutes_ago: int) -> None:
    """A release of `tag` that crash-loops through its image (the sim's catalogue): the template changes its image."""
    env.sim.cluster.images[f"{IMAGE}:{tag}"] = {"sim.incident-response.dev/behavior": "crashloop"}
    k.run("annotate", "deployment/api", "-n", NS, "--overwrite", f"{ROLLED_OUT}={minutes_ago}")
    template = {"spec": {"containers": [{"name": "api", "image": f"{IMAGE}:{tag}"}]}}
    k.run("patch", "deployment/api", "-n", NS, "-p", json.dumps({"spec": {"template": template}}))


@pytest.fixture
def env(sim_factory: Callable[..., RunningSim], tmp_path: Path) -> Env:
    return make_env(sim_factory("healthy"), tmp_path / "state")


def revisions(k: Kubectl) -> dict[str, str]:
    """ReplicaSet revision -> READY count, as kubectl shows them."""
    sets = k.json("get", "replicasets", "-n", NS, "-l", "app=api")["items"]
    # A ReplicaSet just created may have no status (or revision) yet: it counts once the controller wrote them.
    return {
        str((rs["metadata"].get("annotations") or {}).get("deployment.kubernetes.io/revision")): str(
            (rs.get("status") or {}).get("readyReplicas", 0)
        )
        for rs in sets
    }


def crash_looping(k: Kubectl, revision: str) -> bool:
    """A pod of `revision` (by its ReplicaSet's pod-template-hash) is in CrashLoopBackOff."""
    sets = k.json("get", "replicasets", "-n", NS, "-l", "app=api")["items"]
    hashes = [
        rs["metadata"]["labels"].get("pod-template-hash")
        for rs in sets
        if (rs["metadata"].get("annotations") or {}).get("deployment.kubernetes.io/revision") == revision
    ]
    rows = k.table("pods", "-n", NS, "-l", "app=api")
    return bool(hashes) and any(row["STATUS"] == "CrashLoopBackOff" and hashes[0] in row["NAME"] for row in rows)


async def test_the_rollback_goes_to_the_revision_that_still_serves(
    env: Env, kubectl_for: Callable[[RunningSim], Kubectl]
) -> None:
    k = kubectl_for(env.sim)
    k.run("apply", "-f", "-", stdin=api())
    k.run("rollout", "status", "deployment/api", "-n", NS, "--timeout=60s")
    bad_release(env, k, "1.1", 40)
    await env.until(lambda: "2" in revisions(k))
    bad_release(env, k, "1.1.1", 10)
    await env.until(lambda: crash_looping(k, "3"), 30)
    assert revisions(k)["1"] == "3"  # revision 1 still serves: the oracle's view of what the tools must see

    async with Client(env.server("standard", namespaces=(NS,))) as client:
        assessed = await call(client, "assess_namespace", namespace=NS)
        decided = await call(client, "evaluate_decision", namespace=NS)
        safety = await call(client, "check_rollback_safety", namespace=NS, deployment="api")
        default = await call(client, "rollback_deployment", namespace=NS, deployment="api")
        await call(client, "cancel_command", token=default["token"])

        decision = assessed["decision"]
        assert decision["next_tool"] == "rollback_deployment", assessed["summary"]
        assert decision["next_arguments"] == {"namespace": NS, "deployment": "api", "to_revision": 1}
        assert any("revision 1, not the one kubectl rollout undo picks" in e for e in decision["evidence"])
        assert decided["action"] == "ROLLBACK" and decided["verdict"] != "CHECK_OLDER", decided["summary"]
        if decided["next_tool"] == "rollback_deployment":
            assert decided["next_arguments"]["to_revision"] == 1
        assert safety["target_revision"] == 1 and "to_revision=1" in safety["next_step"], safety["summary"]
        known = next(i for i in safety["items"] if i["check"] == "known_good")
        assert known["status"] == "ok" and "still Running and Ready" in known["detail"]
        # Without to_revision the tool keeps kubectl's semantics (revision 2) and says where to go instead.
        assert "--to-revision=2" in default["command"]
        assert any("to_revision=1" in w and "served only" in w for w in proses(default["warnings"])), proses(
            default["warnings"]
        )

        plan, _ = await plan_and_confirm(
            client, env, decision["next_tool"], standard=True, **decision["next_arguments"]
        )
    assert plan["command"].startswith(f"kubectl rollout undo deployment/api -n {NS} --to-revision=1")
    k.run("rollout", "status", "deployment/api", "-n", NS, "--timeout=60s")
    image = k.run("get", "deployment/api", "-n", NS, "-o", "jsonpath={.spec.template.spec.containers[0].image}")
    assert image.stdout == f"{IMAGE}:1.0"

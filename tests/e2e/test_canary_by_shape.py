"""A canary by another team's convention is still a canary, end to end (review-assist F10/F11).

checkout (4 pods, running for days) and a new checkout canary (1 pod, crash-looping since it was created 20 minutes
ago) behind one Service that selects both. The shipped convention (<app>-canary/<app>-stable, version=canary) is not
theirs: one team labels track=stable/canary and names the canary checkout-next; another puts no role anywhere, and
only age tells the halves apart. Either way assess_namespace must pull the canary (rollback_canary with the Service's
name), not scale it up or investigate it; the plan must work; and once the canary is at 0 replicas, verify_recovery
says it is offline (not RECOVERED) and the handoff does not read a scale to 0 as a capacity problem. Built with real
kubectl; the rendered scales run through real kubectl (server-side dry run) before the confirm.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from mcp import Client
from support.kubectl_runner import Kubectl
from support.mitigation_env import Env, call, plan_and_confirm, ready
from support.texts import handoff_fields

from incident_response.sim import behaviors

pytestmark = pytest.mark.anyio

STORE = "store"


def deployment(name: str, replicas: int, tags: dict[str, str], image: str, minutes_ago: int, bad: bool) -> Any:
    annotations = {behaviors.BEHAVIOR: behaviors.CRASHLOOP} if bad else {}
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {
            "name": name,
            "namespace": STORE,
            "annotations": {"sim.incident-response.dev/rolled-out-minutes-ago": str(minutes_ago)},
        },
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": tags},
            "template": {
                "metadata": {"labels": tags, "annotations": annotations},
                "spec": {
                    "containers": [
                        {
                            "name": "checkout",
                            "image": f"registry.example.com/store/checkout:{image}",
                            "resources": {"requests": {"cpu": "100m", "memory": "64Mi"}},
                        }
                    ]
                },
            },
        },
    }


def build(stable: tuple[str, dict[str, str]], canary: tuple[str, dict[str, str]]) -> str:
    items = [
        {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": STORE}},
        {
            "apiVersion": "v1",
            "kind": "Service",
            "metadata": {"name": "checkout", "namespace": STORE},
            "spec": {"selector": {"app": "checkout"}, "ports": [{"port": 80, "targetPort": 8080}]},
        },
        deployment(stable[0], 4, stable[1], "2.14.0", 6000, bad=False),
        deployment(canary[0], 1, canary[1], "2.15.0-rc1", 20, bad=True),
    ]
    return json.dumps({"apiVersion": "v1", "kind": "List", "items": items})


async def incident(env: Env, kubectl: Kubectl, canary: str, manifest: str) -> None:
    kubectl.run("apply", "-f", "-", stdin=manifest)

    def shown() -> bool:
        # Both halves as their Deployments' status says them (what the assessment reads), not only their pods.
        if not (env.rolled_out("checkout", 4, STORE) and env.settled(canary, 1, 0, STORE)):
            return False
        pods = env.pods("app=checkout", STORE)
        stable = [p for p in pods if not p["metadata"]["name"].startswith(f"{canary}-")]
        bad = [p for p in pods if p["metadata"]["name"].startswith(f"{canary}-")]
        restarted = any((p["status"].get("containerStatuses") or [{}])[0].get("restartCount") for p in bad)
        return len(stable) == 4 and all(ready(p) for p in stable) and restarted

    await env.until(shown, 60)


async def test_a_track_labelled_next_canary_is_pulled_and_then_reads_offline(built: Any) -> None:
    env, kubectl = built
    stable = ("checkout", {"app": "checkout", "track": "stable"})
    canary = ("checkout-next", {"app": "checkout", "track": "canary"})
    await incident(env, kubectl, "checkout-next", build(stable, canary))
    async with Client(env.server("full")) as client:
        assessed = await call(client, "assess_namespace", namespace=STORE)
        decision = assessed["decision"]
        assert assessed["primary_action"] == "ROLLBACK", assessed["summary"]
        assert (decision["next_tool"], decision["next_arguments"]) == (
            "rollback_canary",
            {"namespace": STORE, "app": "checkout"},
        ), assessed["summary"]
        evaluated = await call(client, "evaluate_decision", namespace=STORE)
        assert evaluated["next_tool"] == "rollback_canary", evaluated["summary"]

        plan = await call(client, "rollback_canary", **decision["next_arguments"])
        assert plan["steps"][0].startswith("kubectl scale deployment/checkout-next --replicas=0 -n store"), plan
        assert plan["steps"][1].startswith("kubectl scale deployment/checkout --replicas=5 -n store"), plan
        for step in plan["steps"]:  # real kubectl takes each rendered step (server-side dry run: nothing changes)
            kubectl.shell(step + " --dry-run=server")
        done = await call(client, "confirm_command", token=plan["token"])
        assert done["status"] == "succeeded", done
        await env.until(
            lambda: not env.pods("app=checkout,track=canary", STORE) and env.rolled_out("checkout-next", 0, STORE), 60
        )
        offline = await call(client, "verify_recovery", namespace=STORE, deployment="checkout-next")
    assert offline["verdict"] == "ISOLATED", offline["summary"]
    assert "offline, scaled to 0 by rollback_canary" in offline["summary"], offline["summary"]


async def test_a_canary_told_apart_only_by_age_scaled_to_zero_is_no_capacity_hypothesis(built: Any) -> None:
    env, kubectl = built
    stable = ("checkout", {"app": "checkout", "build": "b7"})
    canary = ("checkout-b", {"app": "checkout", "build": "b8"})
    await incident(env, kubectl, "checkout-b", build(stable, canary))
    async with Client(env.server("full")) as client:
        await call(client, "declare_incident", title="checkout errors", severity="SEV2", namespace=STORE)
        assessed = await call(client, "assess_namespace", namespace=STORE)
        decision = assessed["decision"]
        assert (decision["next_tool"], decision["next_arguments"]) == (
            "rollback_canary",
            {"namespace": STORE, "app": "checkout"},
        ), assessed["summary"]
        pulled = await call(client, "rollback_canary", **decision["next_arguments"])
        assert pulled["steps"][0].startswith("kubectl scale deployment/checkout-b --replicas=0 -n store"), pulled
        await call(client, "cancel_command", token=pulled["token"])

        # The human chose the plain scale to 0 instead.
        await plan_and_confirm(client, env, "scale_deployment", namespace=STORE, deployment="checkout-b", replicas=0)
        await env.until(
            lambda: not [p for p in env.pods("build=b8", STORE) if ready(p)] and env.rolled_out("checkout-b", 0, STORE),
            60,
        )
        offline = await call(client, "verify_recovery", namespace=STORE, deployment="checkout-b")
        handoff = await handoff_fields(client, namespace=STORE)
    assert offline["verdict"] == "ISOLATED", offline["summary"]
    assert "scaled to 0 by scale_deployment" in offline["summary"], offline["summary"]
    statements = [h["statement"] for h in handoff["hypotheses"]]
    assert not any("too little capacity" in s for s in statements), statements
    assert any(s.startswith("Deployment checkout-b itself is faulty") for s in statements), statements
    against = [a for h in handoff["hypotheses"] for a in h["evidence_against"]]
    assert not any("0/0 replicas available" in a for a in against), against
    # Not "does the failing service depend on it?" about the failing deployment itself.
    assert not any("Rule out deployment/checkout-b" in q for q in handoff["open_questions"]), handoff["open_questions"]

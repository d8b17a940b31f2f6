"""An nginx canary left at weight 100 (review-assist8 I3), built with real kubectl: web (4 pods, days old) behind
Service web and Ingress shop; web-canary (1 pod of 2.0.0-rc1, a day old) behind its own Service web-canary and an
Ingress web-canary for the same host with nginx.ingress.kubernetes.io/canary "true", canary-weight "10". Then 2.0.0
goes to the canary (it crash-loops; the rc1 pod still serves) and someone bumps the weight to 100: every request for
shop.example.com goes to the canary. The change list names the edit; assess and evaluate agree on pulling the canary,
whose plan sets the weight to 0 before the scales (ingress-nginx keeps a canary's share on the main backend only while
the canary has no ready endpoint: the weight stays, and its next Ready pod takes it all again). A plain scale to or
from zero under the weight warns with the `kubectl annotate` to run, which real kubectl runs.
"""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from mcp import Client
from support.kubectl_runner import Kubectl
from support.mitigation_env import Env, call, plan_and_confirm, ready, refused

from incident_response.sim import behaviors

pytestmark = pytest.mark.anyio
NS = "shop"
WEIGHT = "nginx.ingress.kubernetes.io/canary-weight"
IMAGE = "registry.example.com/shop/web:"
LABELS = {"app": "web-canary", "app.kubernetes.io/name": "web", "version": "canary"}
ANNOTATE = f"kubectl annotate ingress web-canary {WEIGHT}=0 --overwrite -n {NS} --context sim"


def canary_docs() -> list[dict[str, Any]]:
    deployment = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "web-canary", "namespace": NS, "annotations": {behaviors.ROLLED_OUT_MINUTES_AGO: "1440"}},
        "spec": {
            "replicas": 1,
            "selector": {"matchLabels": {"app": "web-canary"}},
            "template": {
                "metadata": {"labels": LABELS},
                "spec": {
                    "containers": [
                        {
                            "name": "web",
                            "image": IMAGE + "2.0.0-rc1",
                            "ports": [{"name": "http", "containerPort": 8080}],
                            "resources": {"requests": {"cpu": "100m", "memory": "64Mi"}},
                        }
                    ]
                },
            },
        },
    }
    service = {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": "web-canary", "namespace": NS},
        "spec": {"selector": {"app": "web-canary"}, "ports": [{"port": 8080, "targetPort": "http"}]},
    }
    ingress = {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "Ingress",
        "metadata": {
            "name": "web-canary",
            "namespace": NS,
            "annotations": {"nginx.ingress.kubernetes.io/canary": "true", WEIGHT: "10"},
        },
        "spec": {
            "ingressClassName": "nginx",
            "rules": [
                {
                    "host": "shop.example.com",
                    "http": {
                        "paths": [
                            {
                                "path": "/",
                                "pathType": "Prefix",
                                "backend": {"service": {"name": "web-canary", "port": {"number": 8080}}},
                            }
                        ]
                    },
                }
            ],
        },
    }
    return [deployment, service, ingress]


async def canary_up(env: Env, kubectl: Kubectl) -> None:
    """The canary a day old at weight 10, its rc1 pod Ready."""
    kubectl.run("apply", "-f", "-", stdin=json.dumps({"apiVersion": "v1", "kind": "List", "items": canary_docs()}))
    await env.until(lambda: env.rolled_out("web-canary", 1, NS) and any(ready(p) for p in env.pods("app=web-canary")))


async def weight_bumped(env: Env, kubectl: Kubectl) -> None:
    """The canary a day old at weight 10; then 2.0.0 rolled out to it (crash-looping) and the weight set to 100."""
    await canary_up(env, kubectl)
    env.sim.advance(31)  # past the dated revision's controller writes: what follows is now
    bad = {
        "spec": {
            "template": {
                "metadata": {"annotations": {behaviors.BEHAVIOR: behaviors.CRASHLOOP}},
                "spec": {"containers": [{"name": "web", "image": IMAGE + "2.0.0"}]},
            }
        }
    }
    kubectl.run("patch", "deployment", "web-canary", "-n", NS, "-p", json.dumps(bad))
    kubectl.run("annotate", "ingress", "web-canary", "-n", NS, "--overwrite", f"{WEIGHT}=100")

    def crashing() -> bool:
        pods = env.pods("app=web-canary")
        restarted = any((p["status"].get("containerStatuses") or [{}])[0].get("restartCount") for p in pods)
        return restarted and any(ready(p) for p in pods) and env.observed("web-canary")

    await env.until(crashing, 60)


def weight(env: Env) -> str:
    return str(env.get("ingresses", "web-canary")["metadata"]["annotations"][WEIGHT])


async def test_the_weight_edit_is_a_change_and_assess_and_evaluate_agree(built: tuple[Env, Kubectl]) -> None:
    env, kubectl = built
    await weight_bumped(env, kubectl)
    async with Client(env.server("safe")) as client:
        assessed = await call(client, "assess_namespace", namespace=NS)
        evaluated = await call(client, "evaluate_decision", namespace=NS)
    # The annotation edit, from managedFields as kubectl annotate wrote them: who, when, and what it does now.
    edits = [c for c in assessed["recent_changes"] if c.startswith("Ingress web-canary")]
    assert edits and re.fullmatch(
        r"Ingress web-canary \(nginx canary\) weight now 100, edited \d+[sm] ago by kubectl-annotate: every request "
        r"for shop\.example\.com goes to Service web-canary",
        edits[0],
    ), assessed["recent_changes"]
    assert "weight now 100" in assessed["summary"], assessed["summary"]
    # Ranked by the users behind it (every request of the host), not the canary Deployment's own minimum.
    first = assessed["problems"][0]
    assert (first["impact"], first["components"]) == ("outage", ["web-canary"]), assessed["problems"]
    assert (
        "OUTAGE: Ingress web-canary (nginx canary, weight 100) sends every request for shop.example.com to Service "
        "web-canary, and 1 of its 2 pods fail"
    ) in assessed["summary"], assessed["summary"]
    decision = assessed["decision"]
    # One next tool: pull the canary (its weight first), from both.
    assert (decision["next_tool"], decision["next_arguments"]) == ("rollback_canary", {"namespace": NS, "app": "web"})
    assert "set Ingress web-canary's canary weight 100 -> 0" in decision["reason"], decision["reason"]
    assert (evaluated["verdict"], evaluated["next_tool"]) == ("PROCEED", "rollback_canary"), evaluated["summary"]
    assert "canary weight 100 -> 0" in evaluated["summary"], evaluated["summary"]
    shown = [e for s in evaluated["steps"] for e in s["evidence"]]
    assert any("sends every request for shop.example.com to Service web-canary" in e for e in shown), shown
    assert not any("may live in an ingress or a mesh" in c for c in evaluated["cautions"]), evaluated["cautions"]


async def test_pulling_a_weighted_canary_sets_its_weight_to_zero_first(built: tuple[Env, Kubectl]) -> None:
    env, kubectl = built
    await weight_bumped(env, kubectl)
    async with Client(env.server("full")) as client:
        plan = await call(client, "rollback_canary", namespace=NS, app="web")
        steps = plan["steps"]
        # The weight goes to 0 before the canary's only serving pod goes: the traffic moves by the weight, explicitly.
        assert steps[0].startswith(ANNOTATE), steps
        assert steps[1].startswith(f"kubectl scale deployment/web-canary --replicas=0 -n {NS}"), steps
        assert steps[2].startswith(f"kubectl scale deployment/web --replicas=5 -n {NS}"), steps
        assert "canary weight 100 -> 0" in plan["summary"], plan["summary"]
        undo = plan["undo_command"]
        assert f"kubectl annotate ingress web-canary {WEIGHT}=100 --overwrite" in undo, undo
        for step in steps:  # real kubectl takes each rendered step (server-side dry run: nothing changes)
            kubectl.shell(step.split("\n", 1)[0] + " --dry-run=server")
        assert weight(env) == "100"
        done = await call(client, "confirm_command", token=plan["token"])
    assert done["status"] == "succeeded", done
    assert weight(env) == "0"
    assert env.get("deployments", "web-canary")["spec"]["replicas"] == 0
    assert env.get("deployments", "web")["spec"]["replicas"] == 5


async def test_a_weight_edited_after_the_plan_makes_it_stale(built: tuple[Env, Kubectl]) -> None:
    env, kubectl = built
    await weight_bumped(env, kubectl)
    async with Client(env.server("full")) as client:
        plan = await call(client, "rollback_canary", namespace=NS, app="web")
        kubectl.run("annotate", "ingress", "web-canary", "-n", NS, "--overwrite", f"{WEIGHT}=20")  # meant 20
        done = await call(client, "confirm_command", token=plan["token"])
    assert done["status"] == "stale", done
    assert "canary-weight" in done["message"] and "'100' -> '20'" in done["message"], done["message"]
    # Nothing ran: the weight is the human's 20, the canary still has its replica.
    assert weight(env) == "20" and env.get("deployments", "web-canary")["spec"]["replicas"] == 1


async def test_a_scale_to_or_from_zero_under_a_weight_warns_with_the_annotate(built: tuple[Env, Kubectl]) -> None:
    env, kubectl = built
    await weight_bumped(env, kubectl)

    def weighted(plan: dict[str, Any]) -> list[dict[str, str]]:
        return [w for w in plan["warnings"] if w["check"] == "canary_weight"]

    async with Client(env.server("full")) as client:
        down, _ = await plan_and_confirm(
            client, env, "scale_deployment", namespace=NS, deployment="web-canary", replicas=0
        )
        (said,) = weighted(down)
        assert said["brief"] == f"Ingress web-canary keeps canary weight 100: set it to 0 too: `{ANNOTATE}`", said
        assert "every request for shop.example.com" in said["detail"], said
        await env.until(lambda: env.rolled_out("web-canary", 0, NS), 60)
        # Scaling it up again while the weight is 100 sends every request to its first Ready pod: said before.
        up = await call(client, "scale_deployment", namespace=NS, deployment="web-canary", replicas=1)
        (again,) = weighted(up)
        assert again["brief"] == (
            "Ingress web-canary (nginx canary, weight 100) sends every request for shop.example.com to these pods once "
            "Ready"
        ), again
        await call(client, "cancel_command", token=up["token"])
        command = re.search(r"`(kubectl annotate [^`]+)`", said["brief"])
        assert command is not None
        kubectl.shell(command.group(1))  # the oracle: real kubectl runs the command the warning names
        assert weight(env) == "0"
        quiet = await call(client, "scale_deployment", namespace=NS, deployment="web-canary", replicas=1)
    assert not weighted(quiet), quiet["warnings"]


async def test_emptying_the_main_backend_beside_a_canary_is_no_traffic_shift(built: tuple[Env, Kubectl]) -> None:
    # ingress-nginx picks the canary from the main backend's balancer: with no endpoint there it answers 503 for the
    # whole host, the canary's share included. Moving web's traffic to the canary by scaling web to 0 is an outage.
    env, kubectl = built
    await canary_up(env, kubectl)
    kubectl.run("annotate", "ingress", "web-canary", "-n", NS, "--overwrite", f"{WEIGHT}=100")
    async with Client(env.server("full")) as client:
        said = await refused(
            client, "shift_traffic", namespace=NS, from_deployment="web", to_deployment="web-canary", replicas=2
        )
    assert "main backend of Ingress shop (Service web) for shop.example.com" in said, said
    assert "answers 503 for every request there" in said and "an outage of the host, not a shift" in said, said
    assert env.get("deployments", "web")["spec"]["replicas"] == 4


async def test_a_scale_to_zero_of_a_canary_hosts_main_backend_warns_of_the_hosts_503(
    built: tuple[Env, Kubectl],
) -> None:
    env, kubectl = built
    await canary_up(env, kubectl)
    # cart.example.com: main Ingress cart -> Service cart (deployment cart, no HPA); a canary Ingress beside it.
    docs = []
    for name, service, notes in (
        ("cart", "cart", {}),
        ("cart-canary", "web-canary", {"nginx.ingress.kubernetes.io/canary": "true", WEIGHT: "50"}),
    ):
        ingress = canary_docs()[2]
        ingress["metadata"] = {"name": name, "namespace": NS, "annotations": notes}
        ingress["spec"]["rules"][0]["host"] = "cart.example.com"
        ingress["spec"]["rules"][0]["http"]["paths"][0]["backend"]["service"]["name"] = service
        docs.append(ingress)
    kubectl.run("apply", "-f", "-", stdin=json.dumps({"apiVersion": "v1", "kind": "List", "items": docs}))
    async with Client(env.server("full")) as client:
        plan = await call(client, "scale_deployment", namespace=NS, deployment="cart", replicas=0)
        await call(client, "cancel_command", token=plan["token"])
    said = [w for w in plan["warnings"] if w["check"] == "canary_primary"]
    assert [w["brief"] for w in said] == ["at 0, cart.example.com answers 503, canary Ingress cart-canary's share too"]
    assert "main backend of Ingress cart (Service cart)" in said[0]["detail"], said


async def test_a_pair_only_the_ingress_split_names_is_pulled_as_a_canary(built: tuple[Env, Kubectl]) -> None:
    # web-v2: no -canary name, no version=canary label, its own Service: only the canary Ingress makes it a canary.
    env, kubectl = built
    docs = canary_docs()
    for doc in docs:
        doc["metadata"]["name"] = "web-v2"
    docs[0]["spec"]["selector"]["matchLabels"] = {"app": "web-v2"}
    docs[0]["spec"]["template"]["metadata"]["labels"] = {"app": "web-v2"}
    docs[0]["spec"]["template"]["metadata"]["annotations"] = {behaviors.BEHAVIOR: behaviors.CRASHLOOP}
    docs[0]["metadata"]["annotations"] = {behaviors.ROLLED_OUT_MINUTES_AGO: "20"}
    docs[1]["spec"]["selector"] = {"app": "web-v2"}
    docs[2]["spec"]["rules"][0]["http"]["paths"][0]["backend"]["service"]["name"] = "web-v2"
    docs[2]["metadata"]["annotations"][WEIGHT] = "30"
    kubectl.run("apply", "-f", "-", stdin=json.dumps({"apiVersion": "v1", "kind": "List", "items": docs}))

    def crashing() -> bool:
        pods = env.pods("app=web-v2")
        return any((p["status"].get("containerStatuses") or [{}])[0].get("restartCount") for p in pods)

    await env.until(lambda: crashing() and env.observed("web-v2"), 60)
    async with Client(env.server("full")) as client:
        assessed = await call(client, "assess_namespace", namespace=NS)
        evaluated = await call(client, "evaluate_decision", namespace=NS)
        plan = await call(client, "rollback_canary", namespace=NS, app="web")
    decision = assessed["decision"]
    assert (decision["next_tool"], decision["next_arguments"]) == ("rollback_canary", {"namespace": NS, "app": "web"})
    assert (evaluated["verdict"], evaluated["next_tool"]) == ("PROCEED", "rollback_canary"), evaluated["summary"]
    annotate = f"kubectl annotate ingress web-v2 {WEIGHT}=0 --overwrite -n {NS} --context sim"
    assert plan["steps"][0].startswith(annotate), plan["steps"]
    assert plan["steps"][1].startswith(f"kubectl scale deployment/web-v2 --replicas=0 -n {NS}"), plan["steps"]


async def test_a_weight_on_a_canary_with_no_ready_endpoint_says_the_share_stays_on_the_main_backend(
    built: tuple[Env, Kubectl],
) -> None:
    """With no ready endpoint behind the canary's Service, ingress-nginx keeps the weight's share on the main backend:
    the change line says that, not that every request goes to the canary (review-assist8 I3)."""
    env, kubectl = built
    await canary_up(env, kubectl)
    env.sim.advance(31)
    kubectl.run("scale", "deployment", "web-canary", "-n", NS, "--replicas=0")
    kubectl.run("annotate", "ingress", "web-canary", "-n", NS, "--overwrite", f"{WEIGHT}=100")
    await env.until(lambda: env.rolled_out("web-canary", 0, NS) and not env.pods("app=web-canary"), 60)
    async with Client(env.server("safe")) as client:
        assessed = await call(client, "assess_namespace", namespace=NS)
    edits = [c for c in assessed["recent_changes"] if c.startswith("Ingress web-canary")]
    assert edits and edits[0].endswith(
        "but Service web-canary has no ready endpoint: ingress-nginx keeps every request for shop.example.com on the "
        "main backend, until a canary pod is Ready"
    ), assessed["recent_changes"]
    assert not any("goes to Service web-canary" in c for c in assessed["recent_changes"]), assessed["recent_changes"]

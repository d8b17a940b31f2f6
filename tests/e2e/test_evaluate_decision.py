"""evaluate_decision end to end: an MCP client, our server in safe mode, the simulated cluster's incidents. Each
PROCEED is checked by planning the mitigation it names with the arguments it gives (safe mode: advice only)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from mcp import Client
from support.mitigation_env import NS, Env, Start, call, make_env, plan_and_confirm, ready, refused
from support.plan_warnings import proses

from incident_response.sim import behaviors
from incident_response.sim.scenarios.builders import deployment_body
from incident_response.sim.serve import RunningSim
from incident_response.tools.assess import pods

pytestmark = pytest.mark.anyio

TOOL = "evaluate_decision"


async def evaluate(env: Env, client: Client, **arguments: Any) -> dict[str, Any]:
    """The tool with the sim's controllers held still: any write would move the store's resourceVersion."""
    with env.sim.cluster._tick_lock:
        before = env.sim.store.resource_version
        result = await call(client, TOOL, namespace=NS, **arguments)
        assert env.sim.store.resource_version == before, "evaluate_decision wrote to the cluster"
    return result


async def planned(client: Client, result: dict[str, Any]) -> dict[str, Any]:
    """Plan what the verdict names, exactly as given: the arguments must be a valid call of that tool."""
    plan = await call(client, result["next_tool"], **result["next_arguments"])
    assert plan["status"] == "blocked", plan  # safe mode: the plan comes back as advice
    return plan


def answers(result: dict[str, Any]) -> list[tuple[str, str]]:
    return [(step["answer"], step["source"]) for step in result["steps"]]


async def test_bad_deploy_rollback_proceeds_to_the_previous_revision(shared: Start) -> None:
    env = shared("bad-deploy")
    async with Client(env.server("safe")) as client:
        result = await evaluate(env, client, action="ROLLBACK")
        assert (result["target"], result["verdict"]) == ("deployment/checkout", "PROCEED")
        assert result["next_tool"] == "rollback_deployment"
        assert result["next_arguments"] == {"namespace": NS, "deployment": "checkout"}
        # Recent deploy and a good previous revision come from the cluster; migrations stay unanswered (the cluster
        # cannot prove there were none); no volume claim means no stateful worry.
        assert answers(result) == [("yes", "cluster"), ("yes", "cluster"), ("unknown", "unanswered"), ("no", "cluster")]
        assert any("7m" in line for line in result["steps"][0]["evidence"]), result["steps"][0]
        assert any("forward-only" in caution for caution in result["cautions"])
        assert result["chosen_by"] == "caller" and result["assessment"]["primary_action"] == "ROLLBACK"
        plan = await planned(client, result)
    assert "kubectl rollout undo deployment/checkout" in plan["command"]


async def test_migration_signs_make_the_rollback_wait_for_the_humans_answer(start: Start) -> None:
    env = start("bad-deploy")
    container = {"name": "migrate", "image": "registry.example.com/shop/checkout:2.5.0", "command": ["migrate"]}
    job = {
        "metadata": {"name": "checkout-schema-3", "labels": {"app": "checkout"}},
        "spec": {"template": {"spec": {"restartPolicy": "Never", "containers": [container]}}},
    }
    env.kube.create("jobs", job, NS)
    async with Client(env.server("safe")) as client:
        asked = await evaluate(env, client, action="ROLLBACK", deployment="checkout")
        assert (asked["verdict"], asked["answer_with"]) == ("NEEDS_ANSWER", "migrations_forward_only")
        assert "checkout-schema-3" in asked["question"] and asked["next_tool"] is None
        assert "migrations_forward_only=true|false" in asked["summary"]
        refused_rollback = await evaluate(env, client, action="ROLLBACK", migrations_forward_only=True)
        assert refused_rollback["verdict"] == "DO_NOT" and refused_rollback["next_tool"] == "get_logs"  # what to fix
        allowed = await evaluate(env, client, action="ROLLBACK", migrations_forward_only=False)
    assert allowed["verdict"] == "PROCEED" and answers(allowed)[2] == ("no", "caller")


async def test_bad_deploy_scale_tries_the_rollback_instead(shared: Start) -> None:
    env = shared("bad-deploy")
    async with Client(env.server("safe")) as client:
        result = await evaluate(env, client, action="SCALE")
        assert (result["target"], result["verdict"], result["alternative"]) == (
            "deployment/checkout",
            "TRY_INSTEAD",
            "ROLLBACK",
        )
        assert answers(result) == [("no", "cluster")]  # its HPA is below target: not a load problem
        assert result["next_tool"] == TOOL
        following = await evaluate(
            env, client, **{k: v for k, v in result["next_arguments"].items() if k != "namespace"}
        )
    assert following["verdict"] == "PROCEED" and following["next_tool"] == "rollback_deployment"


async def test_overload_scale_proceeds_through_the_hpa_override(shared: Start) -> None:
    env = shared("overload")
    async with Client(env.server("safe")) as client:
        result = await evaluate(env, client, action="SCALE")
        assert (result["target"], result["verdict"], result["next_tool"]) == (
            "deployment/web",
            "PROCEED",
            "override_hpa",
        )
        arguments = result["next_arguments"]
        assert arguments["hpa"] == "web"
        assert 6 < arguments["min_replicas"] <= arguments["max_replicas"]  # above the HPA's pinned max of 6
        assert answers(result) == [("yes", "cluster")] * 3
        assert any("200%/70%" in line for line in result["steps"][0]["evidence"])
        plan = await planned(client, result)
    # The replicas proposed fit on the nodes; the plan says where the number came from and why usage misleads.
    assert [w.split(":")[0] for w in proses(plan["warnings"])] == ["Sized from what is known"], proses(plan["warnings"])
    assert "hides the real demand" in proses(plan["warnings"])[0] and "HPA web's formula" in proses(plan["warnings"])[0]
    assert f'"minReplicas":{arguments["min_replicas"]}' in plan["command"]


async def test_overload_rollback_tries_scaling_instead(shared: Start) -> None:
    env = shared("overload")
    async with Client(env.server("safe")) as client:
        result = await evaluate(env, client, action="ROLLBACK")
    assert (result["target"], result["verdict"], result["alternative"]) == ("deployment/web", "TRY_INSTEAD", "SCALE")
    assert answers(result) == [("no", "cluster")]
    assert any("2d ago" in line for line in result["steps"][0]["evidence"])
    assert result["next_arguments"] == {"namespace": NS, "action": "SCALE", "deployment": "web"}


async def test_poison_isolation_asks_then_isolates_partially_or_at_once(shared: Start) -> None:
    env = shared("poison")
    bad = sorted(p["metadata"]["name"] for p in env.pods("version=bad"))
    async with Client(env.server("safe")) as client:
        asked = await evaluate(env, client, action="ISOLATE")
        assert (asked["verdict"], asked["answer_with"]) == ("NEEDS_ANSWER", "can_go_offline")
        assert "version=bad" in (asked["target"] or "")

        partial = await evaluate(env, client, action="ISOLATE", can_go_offline=False)
        assert (partial["verdict"], partial["next_tool"]) == ("PROCEED", "remove_pods_from_service")
        assert partial["next_arguments"]["service"] == "api"
        assert "version=bad" in partial["next_arguments"]["selector"]
        assert answers(partial) == [("yes", "cluster"), ("unknown", "unanswered"), ("no", "caller")]
        plan = await planned(client, partial)
        removed = sorted(
            c["path"].split(".")[0].removeprefix("pod/") for c in plan["diff"] if c["path"].startswith("pod/")
        )
        assert removed == bad, "only the culprit's pods leave the service"

        at_once = await evaluate(env, client, action="ISOLATE", data_integrity_at_risk=True)
        assert (at_once["verdict"], at_once["next_tool"]) == ("PROCEED", "isolate_network")
        assert answers(at_once) == [("yes", "cluster"), ("yes", "caller")]
        policy = await planned(client, at_once)
    assert "ingress: []" in policy["command"]


async def test_healthy_namespace_has_nothing_to_do(shared: Start) -> None:
    env = shared("healthy")
    async with Client(env.server("safe")) as client:
        result = await evaluate(env, client)
        isolate = await evaluate(env, client, action="ISOLATE")
        named = await evaluate(env, client, action="SCALE", deployment="web")
        unasked = await evaluate(env, client, deployment="web")
    assert (result["action"], result["verdict"], result["next_tool"]) == ("NONE", "NOTHING_TO_DO", None)
    assert result["steps"] == [] and result["chosen_by"] == "assessment"
    assert isolate["verdict"] == "NOTHING_TO_DO" and "name a deployment" in isolate["reason"]
    # Asked about one deployment anyway, the tree is walked: web is not overloaded, nothing else points anywhere and
    # no pod of it fails: nothing to act on (it said DO_NOT "read the failing pods' logs", review-assist6).
    assert (named["verdict"], answers(named)) == ("NOTHING_TO_DO", [("no", "cluster")])
    assert "no pod of web fails" in named["reason"] and "failing pods" not in named["reason"], named["reason"]
    assert unasked["verdict"] == "NOTHING_TO_DO" and "pass action=" in unasked["reason"]


async def test_an_unknown_deployment_is_an_error_naming_the_real_ones(shared: Start) -> None:
    env = shared("healthy")
    async with Client(env.server("safe")) as client:
        message = await refused(client, TOOL, namespace=NS, action="ROLLBACK", deployment="chekout")
    assert "'chekout' was not found" in message and "checkout" in message.split("deployments there:")[1]


async def test_a_paused_deployment_or_the_running_revision_is_no_reason_to_scale_instead(start: Start) -> None:
    env = start("bad-deploy")
    async with Client(env.server("safe")) as client:
        running = await evaluate(env, client, action="ROLLBACK", to_revision=3)
        env.kube.patch("deployments", "checkout", {"spec": {"paused": True}}, NS, patch_type="merge")
        paused = await evaluate(env, client, action="ROLLBACK")
    assert (running["verdict"], running["next_tool"]) == ("CHECK_OLDER", "rollout_history")
    assert "already runs revision 3" in running["reason"] and "to_revision" in running["reason"]
    assert (paused["verdict"], paused["alternative"], paused["next_tool"]) == ("FIX_FIRST", None, None)
    assert "kubectl rollout resume deployment/checkout -n shop" in paused["summary"]


async def test_a_namespace_that_does_not_exist_is_an_error_not_a_healthy_one(shared: Start) -> None:
    env = shared("healthy")
    async with Client(env.server("safe")) as client:
        assessed = await refused(client, "assess_namespace", namespace="shp")
        evaluated = await refused(client, TOOL, namespace="shp", action="ROLLBACK")
        empty = await call(client, "assess_namespace", namespace="default")  # exists, runs no pod: nothing to do
    for message in (assessed, evaluated):
        assert "namespace 'shp' does not exist" in message and "kubectl get namespaces" in message
    assert empty["primary_action"] == "NONE"


async def test_a_namespace_larger_than_a_read_holds_is_not_called_healthy(
    sim_factory: Callable[..., RunningSim], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Every pod is read up to a stop for runaway reads (100,000 pods); lowered here to keep the namespace small.
    monkeypatch.setattr(pods, "FETCH_LIMIT", 200)
    env = make_env(sim_factory("healthy", extra_pods=250), tmp_path / "state")
    async with Client(env.server("safe")) as client:
        assessed = await call(client, "assess_namespace", namespace="scale")
        evaluated = await call(client, TOOL, namespace="scale")
    assert assessed["primary_action"] == "NONE" and assessed["decision"]["rule"] == "healthy as far as read"
    assert "50 more pods were not read" in assessed["summary"]
    assert evaluated["verdict"] == "NOTHING_TO_DO" and "50 more pods were not read" in evaluated["summary"]


async def test_reads_the_credentials_may_not_make_are_named_instead_of_failing_the_assessment(start: Start) -> None:
    env = start("bad-deploy")
    for resource in ("events", "horizontalpodautoscalers", "services"):
        env.sim.authz.deny("list", resource)
    env.sim.authz.deny("list", "pods", group="metrics.k8s.io")
    async with Client(env.server("safe")) as client:
        assessed = await call(client, "assess_namespace", namespace=NS)
        evaluated = await evaluate(env, client)
    assert assessed["primary_action"] == "ROLLBACK" and assessed["decision"]["target"] == "deployment/checkout"
    assert assessed["not_readable"] == ["services", "pod metrics", "HPAs", "events"]
    assert "Not readable with these credentials: services, pod metrics, HPAs, events" in assessed["summary"]
    assert (evaluated["verdict"], evaluated["next_tool"]) == ("PROCEED", "rollback_deployment")
    assert evaluated["cautions"][0].startswith("Not readable with these credentials: services")


async def test_a_recent_deploy_without_history_does_not_send_the_walk_in_circles(start: Start) -> None:
    env = start("healthy")
    ledger = deployment_body("ledger", namespace=NS, replicas=2, image="registry.example.com/shop/ledger:1.0")
    ledger["spec"]["revisionHistoryLimit"] = 0  # the old ReplicaSet goes once the rollout completes
    env.kube.create("deployments", ledger, NS)
    await env.until(lambda: bool(env.kube.list("replicasets", NS, label_selector="app=ledger").items))
    new_image = {"spec": {"containers": [{"name": "ledger", "image": "registry.example.com/shop/ledger:1.1"}]}}
    env.kube.patch("deployments", "ledger", {"spec": {"template": new_image}}, NS, patch_type="strategic")
    broken = deployment_body(
        "broken",
        namespace=NS,
        replicas=1,
        image="registry.example.com/shop/broken:1.0",
        pod_annotations={behaviors.BEHAVIOR: behaviors.CRASHLOOP},
    )
    env.kube.create("deployments", broken, NS)

    def settled() -> bool:
        kept = env.kube.list("replicasets", NS, label_selector="app=ledger").items
        crashing = [p for p in env.pods("app=broken") if p["status"].get("containerStatuses") and not ready(p)]
        serving = env.pods("app=ledger")
        return len(kept) == len(crashing) == 1 and len(serving) == 2 and all(ready(p) for p in serving)

    await env.until(settled)
    walked: list[tuple[str, str | None]] = []
    async with Client(env.server("safe")) as client:
        result = await evaluate(env, client)
        while result["next_tool"] == TOOL and len(walked) < 4:
            walked.append((result["action"], result["target"]))
            arguments = {k: v for k, v in result["next_arguments"].items() if k != "namespace"}
            result = await evaluate(env, client, **arguments)
    walked.append((result["action"], result["target"]))
    assert len(walked) == len(set(walked)), f"the walk came back to where it was: {walked}"
    assert result["verdict"] != "TRY_INSTEAD"


async def test_a_new_failing_deployment_is_named_not_called_no_deploy(shared: Start) -> None:
    env = shared("canary")  # web-canary was created 12 minutes ago and crash-loops: revision 1, nothing to undo
    async with Client(env.server("safe")) as client:
        assessed = await call(client, "assess_namespace", namespace=NS)
    assert [(r["deployment"], r["revision"], r["previous_images"]) for r in assessed["recent_rollouts"]] == [
        ("web-canary", 1, [])
    ]
    assert "nothing was deployed" not in assessed["summary"] and "web-canary" in assessed["decision"]["reason"]
    assert any("web-canary rolled out revision 1 12 minutes ago" in line for line in assessed["decision"]["evidence"])


async def test_a_failing_canary_is_pulled_and_stable_given_full_capacity(shared: Start) -> None:
    env = shared("canary")
    async with Client(env.server("safe")) as client:
        result = await evaluate(env, client)
        assert (result["action"], result["target"], result["verdict"]) == (
            "ROLLBACK",
            "deployment/web-canary",
            "PROCEED",
        )
        assert (result["next_tool"], result["next_arguments"]) == ("rollback_canary", {"namespace": NS, "app": "web"})
        assert result["assessment"]["rule"] == "failing canary"
        assert answers(result) == [("yes", "cluster")] * 4
        plan = await planned(client, result)
        # Asked to scale the canary instead (it shows no load), the tree sends the caller back to pulling it.
        scaled = await evaluate(env, client, action="SCALE", deployment="web-canary")
        assert (scaled["verdict"], scaled["alternative"], scaled["next_tool"]) == ("TRY_INSTEAD", "ROLLBACK", TOOL)
        assert scaled["next_arguments"]["deployment"] == "web-canary"
        sent = {k: v for k, v in scaled["next_arguments"].items() if k != "namespace"}
        following = await evaluate(env, client, **sent)
    assert [step.split(" -n ")[0] for step in plan["steps"]] == [
        "kubectl scale deployment/web-canary --replicas=0",
        "kubectl scale deployment/web-stable --replicas=5",
    ]
    assert (following["verdict"], following["next_tool"]) == ("PROCEED", "rollback_canary")


async def test_a_notready_node_is_cordoned_then_drained(shared: Start) -> None:
    env = shared("node-failure")
    async with Client(env.server("safe")) as client:
        result = await evaluate(env, client)
        assert (result["action"], result["target"], result["verdict"]) == ("ISOLATE", "node/node-2", "PROCEED")
        assert (result["next_tool"], result["next_arguments"]) == ("cordon_node", {"node": "node-2"})
        assert answers(result) == [("yes", "cluster")] * 3
        assert any("Ready=Unknown" in line for line in result["steps"][0]["evidence"])
        assert "drain_node(node=node-2)" in result["reason"]
        assert any("drain_node(node=node-2)" in caution for caution in result["cautions"])
        cordon = await planned(client, result)
        drain = await planned(client, {"next_tool": "drain_node", "next_arguments": {"node": "node-2"}})
        # Scaling an app whose pods fail only there is sent to the node instead; a healthy node is left alone.
        scaled = await evaluate(env, client, action="SCALE", deployment="checkout")
        healthy = await evaluate(env, client, action="ISOLATE", node="node-1")
        unknown = await refused(client, TOOL, namespace=NS, node="node-9")
        mixed = await refused(client, TOOL, namespace=NS, node="node-2", deployment="checkout")
    assert cordon["command"].startswith("kubectl cordon node-2")
    assert "NO ROOM" not in drain["summary"]
    assert (scaled["verdict"], scaled["alternative"], scaled["next_arguments"]) == (
        "TRY_INSTEAD",
        "ISOLATE",
        {"namespace": NS, "action": "ISOLATE", "node": "node-2"},
    )
    assert healthy["target"] == "node/node-1" and healthy["next_tool"] not in ("cordon_node", "drain_node")
    assert answers(healthy) == [("no", "cluster")]
    assert "node 'node-9' was not found" in unknown and "node= goes with action=ISOLATE" in mixed


async def test_once_the_failing_node_is_cordoned_the_drain_follows_then_nothing_is_left(start: Start) -> None:
    env = start("node-failure")
    async with Client(env.server("full")) as client:
        first = await evaluate(env, client)
        await plan_and_confirm(client, env, first["next_tool"], **first["next_arguments"])
        cordoned = await evaluate(env, client)
        assert (cordoned["target"], cordoned["verdict"]) == ("node/node-2", "PROCEED")
        assert (cordoned["next_tool"], cordoned["next_arguments"]) == ("drain_node", {"node": "node-2"})
        await plan_and_confirm(client, env, cordoned["next_tool"], **cordoned["next_arguments"])
        # node-2's kubelet is down: the evicted pods stay Terminating there (nothing confirms their deletion) while
        # their ReplicaSets' replacements run elsewhere. They are not a problem left to mitigate.
        live = lambda: [p for p in env.pods() if not p["metadata"].get("deletionTimestamp")]  # noqa: E731
        await env.until(
            lambda: (
                all(ready(p) for p in live())
                and len(live()) == 16
                and not any(d["status"].get("unavailableReplicas") for d in env.kube.list("deployments", NS).items)
            )
        )
        drained = await call(client, "assess_namespace", namespace=NS)
    assert drained["primary_action"] == "NONE", drained["summary"]
    assert not any(p["spec"].get("nodeName") == "node-2" for p in live())


async def test_rolling_back_a_helm_release_s_deployment_warns_about_helm_s_record(start: Start) -> None:
    env = start("healthy")
    image = {"spec": {"containers": [{"name": "cart", "image": "registry.example.com/shop/cart:2.5.0"}]}}
    env.kube.patch("deployments", "cart", {"spec": {"template": image}}, NS, patch_type="strategic")
    await env.until(
        lambda: (
            env.get("deployments", "cart")["metadata"]["annotations"].get("deployment.kubernetes.io/revision") == "4"
        )
    )
    async with Client(env.server("safe")) as client:
        result = await evaluate(env, client, action="ROLLBACK", deployment="cart")
    assert (result["verdict"], result["next_tool"]) == ("PROCEED", "rollback_deployment")
    assert any("Helm release cart" in c and "rollback_helm_release" in c for c in result["cautions"])

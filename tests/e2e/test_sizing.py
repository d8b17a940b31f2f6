"""Sizing that fixes it in one round, end to end on built incidents: a deployment whose pods are pinned at their CPU
limit (and fail readiness from it) gets, from assess_namespace's next call, a count that makes it ready in one
confirmed step; the replicas-that-fit figure is allocatable/requests arithmetic, the same before and after; a manual
scale is a temporary measure, listed and restored.

The load model of the simulated cluster: a Deployment's `load-millicores` annotation is shared by its running pods;
a pod whose share is above its CPU limit uses its limit (throttled) and fails readiness.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from mcp import Client
from support.kubectl_runner import Kubectl
from support.mitigation_env import NS, Env, call, make_env, oom_rollout_finished, plan_and_confirm, ready, refused
from support.plan_warnings import proses

from incident_response.sim import behaviors
from incident_response.sim.scenarios.builders import deployment_body
from incident_response.sim.serve import RunningSim
from incident_response.tools.k8s.quantity import parse_quantity

pytestmark = pytest.mark.anyio

Start = Callable[[], Env]
DAYS_AGO = str(3 * 24 * 60)  # no recent rollout: nothing to roll back, the load is the problem
SETTLE = 120  # bound on the sim's controllers (pods start, probes, HPA syncs); a 60 s bound failed once at load 19


@pytest.fixture
def start(sim_factory: Callable[..., RunningSim], tmp_path: Path) -> Start:
    return lambda: make_env(sim_factory("healthy"), tmp_path / "state")


def all_ready(env: Env, app: str, replicas: int) -> Callable[[], bool]:
    def check() -> bool:
        pods = [p for p in env.pods(f"app={app}") if not p["metadata"].get("deletionTimestamp")]
        return len(pods) == replicas and all(ready(p) for p in pods)

    return check


def measured(env: Env, app: str, replicas: int) -> Callable[[], bool]:
    """All `replicas` pods ready, no other pod of the app left (terminating ones included), and as many in the
    metrics API."""
    ready_now = all_ready(env, app, replicas)

    def check() -> bool:
        metrics = env.kube.list("pods.metrics.k8s.io", NS, label_selector=f"app={app}").items
        return ready_now() and len(env.pods(f"app={app}")) == len(metrics) == replicas

    return check


def settled(env: Env, app: str, replicas: int) -> Callable[[], bool]:
    """`measured`, and the controllers caught up with the deployment's last change: the deployment observed, its
    ReplicaSets synced at `replicas` in all. Six pods alone can be a ReplicaSet still at a count just replaced (7)
    whose 7th pod is not created yet: it comes a tick later, and the tool rightly counts it (a Pending pod)."""
    measured_now = measured(env, app, replicas)

    def check() -> bool:
        sets = env.kube.list("replicasets", NS, label_selector=f"app={app}").items
        synced = all(
            (rs.get("status") or {}).get("observedGeneration") == rs["metadata"].get("generation")
            and (rs.get("status") or {}).get("replicas", 0) == rs["spec"].get("replicas", 0)
            for rs in sets
        )
        wanted = sum(int(rs["spec"].get("replicas") or 0) for rs in sets)
        return env.observed(app) and synced and wanted == replicas and measured_now()

    return check


def pinned(env: Env, app: str, replicas: int) -> Callable[[], bool]:
    """Every pod runs, none is ready, and the metrics API shows each at its CPU limit."""

    def check() -> bool:
        pods = env.pods(f"app={app}")
        running = [p for p in pods if p["status"].get("phase") == "Running" and not ready(p)]
        metrics = env.kube.list("pods.metrics.k8s.io", NS, label_selector=f"app={app}").items
        return len(pods) == len(running) == len(metrics) == replicas

    return check


def loaded(name: str, replicas: int, load: int, cpu: tuple[str, str], dated: bool = True) -> dict[str, Any]:
    annotations = {behaviors.LOAD_MILLICORES: str(load)}
    if dated:
        annotations[behaviors.ROLLED_OUT_MINUTES_AGO] = DAYS_AGO
    return deployment_body(
        name,
        namespace=NS,
        replicas=replicas,
        image=f"registry.example.com/shop/{name}:2.0",
        annotations=annotations,
        cpu=cpu,
    )


def service(name: str) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": name, "namespace": NS},
        "spec": {"selector": {"app": name}, "ports": [{"port": 80, "targetPort": 8080}]},
    }


def millicores(value: Any) -> int:
    return round((parse_quantity(value) or 0) * 1000)


def replicas_that_fit(env: Env, app: str, request_millicores: int) -> int:
    """The oracle: this app's pods bound now, plus, on every schedulable node, (allocatable CPU - CPU requested by
    the pods bound there) // one pod's request (memory and pod slots do not bind in these incidents)."""
    requested: dict[str, int] = {}
    placed = 0
    for pod in env.kube.list("pods", None).items:
        where = pod["spec"].get("nodeName")
        if not where or pod["status"].get("phase") in ("Succeeded", "Failed"):
            continue
        containers = pod["spec"]["containers"]
        requested[where] = requested.get(where, 0) + sum(
            millicores(((c.get("resources") or {}).get("requests") or {}).get("cpu", "0")) for c in containers
        )
        placed += pod["metadata"]["namespace"] == NS and pod["metadata"]["labels"].get("app") == app
    slots = sum(
        (millicores(node["status"]["allocatable"]["cpu"]) - requested.get(node["metadata"]["name"], 0))
        // request_millicores
        for node in env.kube.list("nodes", None).items
        if not node["spec"].get("unschedulable")
    )
    return placed + slots


async def test_an_hpa_pinned_at_max_is_overridden_to_what_its_formula_asks_in_one_round(start: Start) -> None:
    env = start()
    # search: 4 pods at the HPA's max of 4, 6 cores of load, 500m limits: each pod is throttled at 500m (500% of its
    # 100m request) and fails readiness; 12 pods are needed. The HPA's formula on that throttled usage: 25.
    env.kube.create("deployments", loaded("search", 4, 6000, ("100m", "500m")), NS)
    env.kube.create("services", service("search"), NS)
    hpa = {
        "apiVersion": "autoscaling/v2",
        "kind": "HorizontalPodAutoscaler",
        "metadata": {"name": "search", "namespace": NS},
        "spec": {
            "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "search"},
            "minReplicas": 2,
            "maxReplicas": 4,
            "metrics": [
                {
                    "type": "Resource",
                    "resource": {"name": "cpu", "target": {"type": "Utilization", "averageUtilization": 80}},
                }
            ],
        },
    }
    env.kube.create("horizontalpodautoscalers", hpa, NS)

    def limited() -> bool:
        status = env.get("horizontalpodautoscalers", "search").get("status") or {}
        reasons = {c.get("reason") for c in status.get("conditions") or []}
        return pinned(env, "search", 4)() and "TooManyReplicas" in reasons and bool(status.get("currentMetrics"))

    await env.until(limited, SETTLE)
    async with Client(env.server("full")) as client:
        assessed = await call(client, "assess_namespace", namespace=NS)
        decision = assessed["decision"]
        assert decision["next_tool"] == "override_hpa", decision
        arguments = decision["next_arguments"]
        # Before: at most double in one step (8 pods at 750m each: still pinned, still not ready).
        assert arguments["min_replicas"] == 25 and arguments["max_replicas"] >= 25, arguments
        evaluated = await call(client, "evaluate_decision", namespace=NS, action="SCALE", deployment="search")
        assert evaluated["next_arguments"] == arguments  # one sizing: the tree and the next call agree
        assert "usage at the limit hides the real demand" in evaluated["reason"]
        assert "HPA search's formula" in evaluated["reason"]
        plan, _ = await plan_and_confirm(client, env, "override_hpa", **arguments)
        assert not any("below what is known to be needed" in w for w in proses(plan["warnings"])), proses(
            plan["warnings"]
        )
        await env.until(all_ready(env, "search", 25), SETTLE)


@pytest.mark.parametrize(
    ("applied", "shown_by"),
    [
        (True, "kubectl.kubernetes.io/last-applied-configuration"),  # kubectl apply, then kubectl scale
        (False, 'it was scaled down from 6: event "Scaled down replica set ledger-'),  # no manifest on it (Helm...)
    ],
    ids=["manifest", "scale-event"],
)
async def test_a_scaled_down_deployment_goes_back_to_its_previous_count_and_the_scale_is_a_measure(
    start: Start, kubectl_for: Callable[[RunningSim], Kubectl], applied: bool, shown_by: str
) -> None:
    env = start()
    kubectl = kubectl_for(env.sim)
    # ledger ran with 6 replicas (2.4 cores of load, 400m each under a 500m limit), then was scaled down to 2 by
    # hand: each pod's share is 1200m, so both are throttled at 500m and fail readiness. No HPA.
    manifest = {"apiVersion": "apps/v1", "kind": "Deployment", **loaded("ledger", 6, 2400, ("100m", "500m"), applied)}
    if applied:
        # The controllers are held from the apply to the scale: the cut is told by the manifest alone, as when its
        # event has expired (1 h). Unheld, a loaded box let the ReplicaSet reach 6 first, and its "Scaled down ...
        # from 6" event, not the manifest, became the evidence (1 run in 3 at load 5).
        async with env.held():
            kubectl.run("apply", "-f", "-", stdin=json.dumps(manifest))
            kubectl.run("scale", "deployment/ledger", "--replicas=2", "-n", NS)
    else:  # created without kubectl's annotation, running 6 before the cut (the cut's event is the evidence)
        env.kube.create("deployments", manifest, NS)
        await env.until(all_ready(env, "ledger", 6), SETTLE)
        kubectl.run("scale", "deployment/ledger", "--replicas=2", "-n", NS)
    env.kube.create("services", service("ledger"), NS)
    await env.until(pinned(env, "ledger", 2), SETTLE)

    async with Client(env.server("full")) as client:
        assessed = await call(client, "assess_namespace", namespace=NS)
        decision = assessed["decision"]
        assert (decision["target"], decision["next_tool"]) == ("deployment/ledger", "scale_deployment"), decision
        # Before: +50% (3 pods at 800m each: still pinned, still not ready).
        assert decision["next_arguments"] == {"namespace": NS, "deployment": "ledger", "replicas": 6}
        sized = next(e for e in decision["evidence"] if e.startswith("Sized from what is known"))
        assert "hides the real demand" in sized and shown_by in sized, sized

        # A human who asks for less is told why it will not be enough, and where the number comes from.
        short = await call(client, "scale_deployment", namespace=NS, deployment="ledger", replicas=3)
        warned = " ".join(proses(short["warnings"]))
        assert "usage at the limit hides the real demand" in warned and "below what is known to be needed (6)" in warned
        assert shown_by in warned, warned
        await call(client, "cancel_command", token=short["token"])

        plan, _ = await plan_and_confirm(client, env, "scale_deployment", **decision["next_arguments"])
        assert any("is temporary" in w and "restore_measure" in w for w in proses(plan["warnings"])), proses(
            plan["warnings"]
        )
        await env.until(all_ready(env, "ledger", 6), SETTLE)

        listed = await call(client, "list_temporary_measures")
        scales = [m for m in listed["measures"] if m["tool"] == "scale_deployment"]
        assert [(m["target"]["name"], m["restore_command"]) for m in scales] == [
            ("ledger", f"kubectl scale deployment/ledger --replicas=2 -n {NS} --context {env.sim.context}")
        ]
        # A second scale on top: each restore puts back what its own scale replaced, the latest first.
        await plan_and_confirm(client, env, "scale_deployment", namespace=NS, deployment="ledger", replicas=7)
        out_of_order = await refused(client, "restore_measure", measure_id=scales[0]["measure_id"])
        assert "was changed again by a later scale_deployment" in out_of_order and "nothing was planned" in out_of_order
        listed = await call(client, "list_temporary_measures")
        later = [m for m in listed["measures"] if m["tool"] == "scale_deployment" and m not in scales]
        assert [m["restore_command"].split()[:3] for m in later] == [["kubectl", "scale", "deployment/ledger"]]
        assert "--replicas=6" in later[0]["restore_command"] and later[0]["measure_id"] in out_of_order
        await plan_and_confirm(client, env, "restore_measure", measure_id=later[0]["measure_id"])
        assert env.get("deployments", "ledger")["spec"]["replicas"] == 6
        # The 7th pod gone from the pods and from the metrics API too, and the controllers caught up with the
        # restore (until then the ReplicaSet may still want 7 and create that pod): the refusal below counts the pods.
        await env.until(settled(env, "ledger", 6), SETTLE)

        # Restoring the count the load saturated recreates the outage: restore_measure refuses, saying what it saw
        # (2400m over 2 replicas), plans it only when asked to anyway, and the plan says so too.
        held = await refused(client, "restore_measure", measure_id=scales[0]["measure_id"])
        assert "ledger's 6 pods use 2400m CPU in all: spread over 2 replicas that is 1200m each" in held, held
        restore, _ = await plan_and_confirm(
            client, env, "restore_measure", measure_id=scales[0]["measure_id"], restore_despite_condition=True
        )
        assert restore["command"] == scales[0]["restore_command"]
        assert "below what is known to be needed (6)" in " ".join(proses(restore["warnings"])), proses(
            restore["warnings"]
        )
        assert env.get("deployments", "ledger")["spec"]["replicas"] == 2
        listed = await call(client, "list_temporary_measures")
        assert [m for m in listed["measures"] if m["tool"] == "scale_deployment"] == []


async def test_unknown_demand_steps_like_the_hpa_within_the_replicas_that_fit(start: Start) -> None:
    env = start()
    # Only node-1 takes new pods; ledger's pods request a fifth of its free CPU, so 5 fit there in all.
    for node in ("node-2", "node-3"):
        env.kube.patch("nodes", node, {"spec": {"unschedulable": True}}, None, patch_type="merge")
    free = replicas_that_fit(env, "ledger", 1)  # free millicores on node-1 (nothing of ledger placed yet)
    request = free // 5
    # 2 pods, 3.6 x a pod's limit of load: each is throttled and fails readiness; 4 pods would do (0.9 each).
    # Nothing says how much is needed: no HPA, no metrics below the limit, no earlier count.
    cpu = (f"{request}m", f"{request}m")
    env.kube.create("deployments", loaded("ledger", 2, request * 36 // 10, cpu), NS)
    env.kube.create("services", service("ledger"), NS)
    await env.until(pinned(env, "ledger", 2), SETTLE)
    assert replicas_that_fit(env, "ledger", request) == 5

    async with Client(env.server("full")) as client:
        evaluated = await call(client, "evaluate_decision", namespace=NS, action="SCALE", deployment="ledger")
        room = next(s for s in evaluated["steps"] if s["question"].startswith("Do the nodes have room"))
        assert room["evidence"] == [f"about 5 replicas fit now (each requests cpu {request}m, memory 64Mi)"]
        # The HPA's default step (the larger of +100% and +4 pods: 6), capped by the 5 that fit. Before: 3.
        assert evaluated["next_arguments"] == {"namespace": NS, "deployment": "ledger", "replicas": 5}
        assert "default scale-up step" in evaluated["reason"] and "capped at the 5 that fit" in evaluated["reason"]
        assessed = await call(client, "assess_namespace", namespace=NS)
        assert assessed["decision"]["next_arguments"] == evaluated["next_arguments"]

        await plan_and_confirm(client, env, "scale_deployment", **evaluated["next_arguments"])
        await env.until(all_ready(env, "ledger", 5), SETTLE)
        # The same figure once they run: arithmetic on allocatable and requests, not the answer to a question.
        assert replicas_that_fit(env, "ledger", request) == 5
        again = await call(client, "evaluate_decision", namespace=NS, action="SCALE", deployment="ledger")
        room_steps = [s for s in again["steps"] if s["question"].startswith("Do the nodes have room")]
        assert all("about 5 replicas fit" in " ".join(s["evidence"]) for s in room_steps), again["steps"]


async def test_raising_only_the_memory_limit_says_what_happens_to_the_request_and_scheduling(
    sim_factory: Callable[..., RunningSim], tmp_path: Path
) -> None:
    env = make_env(sim_factory("oom"), tmp_path / "state")  # payments: limit 256Mi = request, needs 512Mi
    await oom_rollout_finished(env)  # no earlier revision serves: the limit is the answer (else the rollback, F27)
    async with Client(env.server("full")) as client:
        assessed = await call(client, "assess_namespace", namespace=NS)
        arguments = assessed["decision"]["next_arguments"]
        assert (assessed["decision"]["next_tool"], arguments["limit"]) == ("set_memory_limit", "512Mi")
        plan = await call(client, "set_memory_limit", **arguments)
        note = next(w for w in proses(plan["warnings"]) if w.startswith("Only the limit is raised"))
        assert "request stays 256Mi (scheduling unchanged)" in note
        assert "QoS class stays Burstable" in note and "first OOM-killed or evicted" in note
        # The request raised too: 512Mi a pod, with the two old pods' room freed, fits on these nodes.
        assert "Request 512Mi too: 2 of 2 replicas would fit" in note
        await call(client, "cancel_command", token=plan["token"])

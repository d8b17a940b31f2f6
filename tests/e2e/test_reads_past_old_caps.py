"""Reads that once stopped at a fixed count read every object, in pages: node room and top_nodes (every running
pod of the cluster, once at most 20,000), the handoff's rollouts (every ReplicaSet of the namespace, once 1,000) and
every Warning event of a namespace (once 5,000: assess, verify_recovery, the handoff, list_events).

Each cluster puts what matters past the old window, seeded straight into the store: lists are sorted by namespace
and name, so objects whose names sort last are the ones a capped read left out.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from mcp import Client
from support.mitigation_env import NS, Env, call, make_env, refused
from support.texts import handoff_fields, read_text, section

from incident_response.sim import behaviors
from incident_response.sim.cluster import Cluster
from incident_response.sim.controllers.common import template_hash
from incident_response.sim.resources import EVENTS, NAMESPACES, NODES, PODS, REPLICASETS, SECRETS
from incident_response.sim.scenarios.builders import (
    App,
    Revision,
    Seeder,
    ensure,
    namespace,
    node,
    seed_node,
    template,
)
from incident_response.sim.scenarios.helm import release_secret
from incident_response.sim.serve import RunningSim
from incident_response.sim.store import timestamp
from incident_response.tools.assess.metrics import MAX_NODES_READ_BY_NODE
from incident_response.tools.k8s.quantity import cpu_text, parse_quantity

pytestmark = pytest.mark.anyio

OLD_POD_WINDOW = 20_000  # running pods evaluate_decision and top_nodes read in one request
OLD_LIST_WINDOW = 1_000  # deployments and ReplicaSets the handoff read
OLD_EVENT_WINDOW = 5_000  # Warning events assess, verify_recovery, the handoff and list_events read
OLD_PODS_OF_A_WORKLOAD = 500  # pods get_logs and rollout_status read of a deployment
BIG = 600
HELM_REVISIONS = 600
REGISTRY = "registry.example.com/shop"
FILL = "zz-fill"  # a namespace whose pods sort after every pod of namespace scale
Start = Callable[..., Env]


@pytest.fixture
def start(sim_factory: Callable[..., RunningSim], tmp_path: Path) -> Start:
    return lambda scenario, **options: make_env(sim_factory(scenario, **options), tmp_path / "state")


def free_cpu(cluster: Cluster, node: str) -> float:
    """Allocatable CPU of the node minus the requests of the pods bound to it (cores)."""
    body = cluster.store.peek(NODES, None, node)
    assert body is not None
    used = sum(
        parse_quantity(((c.get("resources") or {}).get("requests") or {}).get("cpu")) or 0.0
        for pod in cluster.store.items(PODS)
        if pod["spec"].get("nodeName") == node
        for c in pod["spec"]["containers"]
    )
    return (parse_quantity(body["status"]["allocatable"]["cpu"]) or 0.0) - used


def full_nodes(cluster: Cluster) -> None:
    """node-1 and node-3 filled by one pod each of namespace zz-fill (sorting past the scale namespace's 20,100
    pods), leaving 10m of CPU: node-2's pods (250m each) fit nowhere once it is drained. The scale nodes are tainted
    for their own pods, so they take none of node-2's either."""
    for each in cluster.store.items(NODES):
        if each["metadata"]["name"].startswith("scale-node-"):
            taint = {"key": "dedicated", "value": "scale", "effect": "NoSchedule"}
            cluster.store.mutate(NODES, None, each["metadata"]["name"], lambda n, t=taint: n["spec"].update(taints=[t]))
    ensure(cluster.store, NAMESPACES, namespace(FILL))
    for full in ("node-1", "node-3"):
        cpu = cpu_text(free_cpu(cluster, full) - 0.01)
        app = App(name=f"batch-{full}", namespace=FILL, replicas=1, labels={"app": f"batch-{full}"}, cpu=(cpu, cpu))
        app.selector = dict(app.labels)
        Seeder(cluster, [full]).app(app, [Revision("registry.example.com/batch:1.0", "initial", 3600)])


async def test_node_room_counts_every_running_pod_of_the_cluster(start: Start) -> None:
    env = start("node-failure", extra_pods=OLD_POD_WINDOW + 100, seed=full_nodes)
    # The cluster is settled (every pod running) and only read: its controllers are held between two ticks, each of
    # which takes a quarter of a second of CPU at 20,000 pods (a third of a core for the whole test).
    with env.sim.cluster._tick_lock:
        bound_to_node_1 = env.kube.list("pods", None, field_selector="spec.nodeName=node-1").items
        async with Client(env.server("safe")) as client:
            # One row more than top_nodes reads node by node: every running pod of the cluster is read, in pages (the
            # rows past the 21st, 183 scale nodes, cost a third of the call's CPU and prove nothing more).
            nodes = await call(client, "top_nodes", limit=MAX_NODES_READ_BY_NODE + 1)
            few = await call(client, "top_nodes", limit=3)  # three nodes' pods are read by node, not the cluster's
            evaluated = await call(client, "evaluate_decision", namespace=NS, action="ISOLATE", node="node-2")

    node_1 = next(n for n in nodes["nodes"] if n["name"] == "node-1")
    assert node_1["pods"] == len(bound_to_node_1) and node_1["cpu_requests_percent"] >= 99, node_1
    assert nodes["allocation_known"] and len(nodes["nodes"]) == MAX_NODES_READ_BY_NODE + 1
    allocation = ("pods", "cpu_requests", "cpu_limits", "memory_requests", "memory_limits")
    whole = {n["name"]: [n[k] for k in allocation] for n in nodes["nodes"]}
    assert len(few["nodes"]) == 3 and few["allocation_known"] and few["truncation"]["truncated"]
    assert all([n[k] for k in allocation] == whole[n["name"]] for n in few["nodes"]), (few["nodes"], whole)
    room = next(s for s in evaluated["steps"] if s["question"].startswith("Can the pods on node-2 run"))
    assert room["answer"] == "no", room
    assert all(line.endswith(": no room on another node") for line in room["evidence"]), room
    assert any("would leave" in c and "replacement pods Pending" in c for c in evaluated["cautions"])


def many_replicasets(cluster: Cluster) -> None:
    """1,000 ReplicaSets scaled to 0 (a batch system's leftovers) whose names sort before checkout's."""
    for i in range(OLD_LIST_WINDOW):
        body = {
            "metadata": {"name": f"batch-{i:04d}", "namespace": NS, "labels": {"app": "batch"}},
            "spec": {
                "replicas": 0,
                "selector": {"matchLabels": {"app": "batch", "run": str(i)}},
                "template": {
                    "metadata": {"labels": {"app": "batch", "run": str(i)}},
                    "spec": {"containers": [{"name": "batch", "image": "registry.example.com/batch:1.0"}]},
                },
            },
        }
        cluster.store.create(REPLICASETS, body)


async def test_the_handoff_finds_a_rollout_past_the_1000th_replicaset(start: Start) -> None:
    env = start("bad-deploy", seed=many_replicasets)
    async with Client(env.server("safe")) as client:
        await call(client, "declare_incident", title="checkout crash-looping", severity="SEV2", namespace=NS)
        handoff = await handoff_fields(client, namespace=NS)

    assert len(env.kube.list("replicasets", NS).items) > OLD_LIST_WINDOW
    text = handoff["document"]
    assert re.search(r"deployment/checkout rolled out revision 3 \(\S+checkout:2\.5\.0\), \d+ s before", text), text
    assert "were read, so rollouts of the incident window may be missing" not in text


def warnings_sorting_first(cluster: Cluster) -> None:
    """5,000 Warning events about pods long gone (a failed batch an hour ago), named before checkout's events."""
    an_hour_ago = timestamp(cluster.store.clock() - timedelta(minutes=50))
    for i in range(OLD_EVENT_WINDOW):
        pod = f"batch-{i:04d}"
        event = {
            "metadata": {"name": f"{pod}.{i:x}", "namespace": NS},
            "involvedObject": {"kind": "Pod", "namespace": NS, "name": pod, "uid": f"gone-{i}", "apiVersion": "v1"},
            "reason": "FailedMount",
            "message": f"MountVolume.SetUp failed for volume scratch-{i}",
            "source": {"component": "kubelet"},
            "firstTimestamp": an_hour_ago,
            "lastTimestamp": an_hour_ago,
            "count": 1,
            "type": "Warning",
            "eventTime": None,
        }
        cluster.store.create(EVENTS, event)


async def test_warnings_past_the_5000th_event_are_read(start: Start) -> None:
    env = start("bad-deploy", seed=warnings_sorting_first)
    await env.until(lambda: backoffs(env) > 0)
    async with Client(env.server("safe")) as client:
        await call(client, "declare_incident", title="checkout crash-looping", severity="SEV2", namespace=NS)
        handoff = await handoff_fields(client, namespace=NS)
        verified = await call(client, "verify_recovery", namespace=NS, deployment="checkout")
        listed = await read_text(client, "list_events", namespace=NS, warnings_only=True, since_minutes=30)

    assert len(env.kube.list("events", NS, field_selector="type=Warning").items) > OLD_EVENT_WINDOW
    timeline = handoff["document"].split("Timeline Summary:")[1].split("Actions Taken:")[0]
    assert re.search(r"first BackOff warning, on pod/checkout-", timeline), timeline
    warnings = next(c for c in verified["checks"] if c["name"] == "warnings")
    assert "BackOff" in warnings["detail"] and "could be read" not in warnings["detail"], warnings
    objects = re.findall(r"\b[a-z]+/[\w.-]+", "\n".join(section(listed, "events")))
    assert objects and all(o.startswith("pod/checkout-") for o in objects), listed
    assert "truncat" not in listed, listed


def big_rollout(cluster: Cluster) -> None:
    """ledger-big: 600 replicas of a good revision, then a bad one (crash-looping) rolling out, whose pods' names
    sort after every good pod's (its template hash is chosen so): past the 500 pods get_logs and rollout_status read."""
    labels = {"app": "ledger-big"}
    app = App(name="ledger-big", namespace=NS, replicas=BIG, labels=labels, selector=dict(labels), cpu=("1m", "10m"))
    app.strategy = {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": "25%", "maxUnavailable": 0}}  # 600 stay
    good = Revision(f"{REGISTRY}/ledger:4.0.0", "initial", 3 * 86400)
    good_hash = template_hash(template(app, good))
    crash = {behaviors.BEHAVIOR: behaviors.CRASHLOOP}
    bad = next(
        rev
        for patch in range(100)
        if template_hash(template(app, rev := Revision(f"{REGISTRY}/ledger:4.1.{patch}", "ledger 4.1", 600, crash)))
        > good_hash
    )
    nodes = [f"big-node-{i}" for i in range(8)]  # 75 pods each: room left for the new revision's
    for i, name in enumerate(nodes):
        seed_node(cluster.store, node(name, 40 + i, cpu="16", memory_gi=64))
    Seeder(cluster, nodes).app(app, [good, bad], running=0)


async def test_the_failing_pods_of_a_large_deployment_are_found_past_its_500th_pod(start: Start) -> None:
    env = start("healthy", seed=big_rollout)
    await env.until(lambda: crash_looping(env) > 0, 60)
    async with Client(env.server("safe")) as client:
        logs = await read_text(client, "get_logs", namespace=NS, pod_or_deployment="deployment/ledger-big")
        status = await call(client, "rollout_status", namespace=NS, deployment="ledger-big", timeout_seconds=0)

    pods = env.kube.list("pods", NS, label_selector="app=ledger-big").items
    names = sorted(p["metadata"]["name"] for p in pods)
    failing = {p["metadata"]["name"] for p in pods if restarted(p)}
    assert len(names) > OLD_PODS_OF_A_WORKLOAD and not failing & set(names[:OLD_PODS_OF_A_WORKLOAD])
    summary = logs.splitlines()[0]
    read = re.search(r" log lines from ([\w.-]+)/", summary)
    assert read is not None and read[1] in failing, summary
    (others,) = section(logs, "other pods")
    assert others.split(", ")[0] in failing and f"{len(pods) - 1} other pods" in summary, summary
    assert status["failing_pods"] and all(p["name"] in failing for p in status["failing_pods"]), status


def long_helm_history(cluster: Cluster) -> None:
    """Release ledger with 600 revisions in helm's Secret storage (history kept without a limit), 600 deployed. Their
    names sort v1, v10, v100, v101, ...: revisions 550-600 sort past the first 500 of them."""
    for revision in range(1, HELM_REVISIONS + 1):
        body = release_secret(
            name="ledger",
            namespace=NS,
            revision=revision,
            status="deployed" if revision == HELM_REVISIONS else "superseded",
            chart="ledger",
            chart_version=f"1.{revision}.0",
            app_version=f"4.{revision}",
            first_deployed="2026-01-01T00:00:00Z",
            last_deployed="2026-01-01T00:00:00Z",
            description="Upgrade complete",
            values={},
            manifest="",
        )
        cluster.store.create(SECRETS, body)


async def test_a_helm_release_with_a_long_history_is_read_whole(start: Start) -> None:
    env = start("healthy", seed=long_helm_history)
    async with Client(env.server("full")) as client:
        history = await call(client, "helm_history", namespace=NS, release="ledger", limit=3)
        plan = await call(client, "rollback_helm_release", namespace=NS, release="ledger")
        unknown = await refused(client, "rollback_helm_release", namespace=NS, release="ledger", revision=700)

    assert history["current"]["revision"] == HELM_REVISIONS, history["summary"]
    assert history["summary"].startswith(f"helm release ledger: {HELM_REVISIONS} revisions; deployed: 600 ")
    assert [r["revision"] for r in history["revisions"]] == [600, 599, 598]
    assert plan["command"].split()[:4] == ["helm", "rollback", "ledger", "599"], plan["command"]
    assert "recorded as revision 601" in plan["summary"] and len(unknown) < 600, unknown  # the newest are named
    assert unknown.endswith(
        "591 (superseded), 592 (superseded), 593 (superseded), 594 (superseded), 595 (superseded), "
        "596 (superseded), 597 (superseded), 598 (superseded), 599 (superseded), 600 (deployed), and 590 earlier)"
    ), unknown


def crash_looping(env: Env) -> int:
    return sum(1 for p in env.kube.list("pods", NS, label_selector="app=ledger-big").items if restarted(p))


def restarted(pod: dict[str, Any]) -> bool:
    return any(s.get("restartCount") for s in pod["status"].get("containerStatuses") or [])


def backoffs(env: Env) -> int:
    events = env.kube.list("events", NS, field_selector="type=Warning,reason=BackOff").items
    return sum(1 for e in events if str(e["involvedObject"]["name"]).startswith("checkout-"))

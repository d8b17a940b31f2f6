"""The namespace read assess_namespace and evaluate_decision share (assess.observe) and what each shapes from it, on
a stand-in cluster. The decision rules are in test_decide.py, the trees in test_evaluate_decision_trees.py, the end to
end runs in test_evaluate_decision_e2e.py and test_server_e2e.py."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from support.builders import container_status, deployment, event, hpa, node, pod, replicaset, service
from support.fakekube import FakeKube

from incident_response.tools.assess.namespace import MAX_LISTED_HPAS, MAX_LISTED_ROLLOUTS, build_assessment
from incident_response.tools.assess.node_reads import MAX_NODES_READ
from incident_response.tools.assess.observation import observe_namespace
from incident_response.tools.core import errors
from incident_response.tools.decide.scale_reads import scale_facts


class ListOnly(FakeKube):
    def table(self, resource: str, namespace: str | None = None, **_: Any) -> dict[str, Any]:
        raise errors.NotFound("no Table output here", code=404, reason="NotFound")  # pods are then listed

    def logs(self, name: str, namespace: str, **_: Any) -> str:
        raise errors.NotFound(f"no log for pod {name}", code=404, reason="NotFound")


def stamp(ago: timedelta) -> str:
    # The assessment reads the real clock: "recent" is relative to now, not to the builders' fixed NOW.
    return (datetime.now(UTC) - ago).strftime("%Y-%m-%dT%H:%M:%SZ")


def test_many_recent_rollouts_and_hpas_at_max_are_capped_and_counted() -> None:
    kube = ListOnly()
    count = MAX_LISTED_ROLLOUTS + 15
    for n in range(count):
        name = f"svc-{n:02d}"
        kube.put("deployments", deployment(name, revision=2, image=f"shop/{name}:2"))
        for revision, age in ((1, timedelta(days=3)), (2, timedelta(minutes=10 + n))):
            rs = replicaset(name, f"h{revision}", revision=revision, image=f"shop/{name}:{revision}")
            rs["metadata"]["creationTimestamp"] = stamp(age)
            kube.put("replicasets", rs)
        kube.put("horizontalpodautoscalers", hpa(name, current=5, desired=5, max_replicas=5, cpu_now=180))
    assessment = build_assessment(kube, "shop")
    assert len(assessment.recent_rollouts) == MAX_LISTED_ROLLOUTS
    assert assessment.recent_rollouts[0].deployment == "svc-00"  # the newest first
    assert (assessment.recent_rollouts_total, assessment.hpas_at_max_total) == (count, count)
    assert len(assessment.hpas_at_max) == MAX_LISTED_HPAS
    assert f"{count} deployments rolled out in the last 2 hours ({MAX_LISTED_ROLLOUTS} listed)" in assessment.summary
    assert f"{count} HPAs at their maximum ({MAX_LISTED_HPAS} listed)" in assessment.summary
    assert len(assessment.model_dump_json()) < 16 * 1024


def test_credentials_in_warning_events_are_masked() -> None:
    kube = ListOnly()
    kube.put("deployments", deployment("api"))
    crashing = container_status("api", ready=False, restarts=4, waiting="CrashLoopBackOff")
    kube.put("pods", pod("api-1", deployment="api", containers=[crashing]))
    kube.put(
        "events",
        {
            "metadata": {"name": "api-1.1", "namespace": "shop"},
            "type": "Warning",
            "reason": "Unhealthy",
            "message": "Readiness probe failed: GET http://svc:hunter2@10.0.0.9/health?token=t0ps3cret refused",
            "involvedObject": {"kind": "Pod", "name": "api-1"},
            "lastTimestamp": stamp(timedelta(minutes=1)),
        },
    )
    assessment = build_assessment(kube, "shop")
    (warning,) = assessment.warnings
    assert "http://svc:[masked:" in warning.latest_message and "token=[masked:" in warning.latest_message
    assert "hunter2" not in assessment.model_dump_json() and "t0ps3cret" not in assessment.model_dump_json()


def test_scaling_sends_to_a_rollback_only_when_an_earlier_revision_is_kept() -> None:
    # SCALE's "fix unhealthy pods first" points at ROLLBACK after a recent rollout; with nothing to go back to, the
    # ROLLBACK tree would send the caller back to SCALE.
    kube = ListOnly()
    kube.put("deployments", deployment("fresh", revision=1, image="shop/fresh:1"))
    kube.put("deployments", deployment("web", revision=2, image="shop/web:2"))
    for name, revision, age in (
        ("fresh", 1, timedelta(minutes=5)),
        ("web", 1, timedelta(days=3)),
        ("web", 2, timedelta(minutes=5)),
    ):
        rs = replicaset(name, f"h{revision}", revision=revision, image=f"shop/{name}:{revision}")
        rs["metadata"]["creationTimestamp"] = stamp(age)
        kube.put("replicasets", rs)
    seen = observe_namespace(kube, "shop")
    assert scale_facts(kube, seen, "web").recently_rolled_out
    assert not scale_facts(kube, seen, "fresh").recently_rolled_out


def test_scaling_a_new_canary_sends_to_its_rollback_which_pulls_it() -> None:
    kube = ListOnly()
    for role in ("canary", "stable"):
        deploy = deployment(f"web-{role}", revision=1, image=f"shop/web:{role}")
        deploy["spec"]["template"]["metadata"]["labels"] = {"app": "web", "version": role}
        kube.put("deployments", deploy)
        rs = replicaset(f"web-{role}", "h1", revision=1, image=f"shop/web:{role}")
        rs["metadata"]["creationTimestamp"] = stamp(timedelta(minutes=5 if role == "canary" else 60 * 24))
        kube.put("replicasets", rs)
    kube.put("services", service("web", {"app": "web"}))
    seen = observe_namespace(kube, "shop")
    assert scale_facts(kube, seen, "web-canary").recently_rolled_out
    assert not scale_facts(kube, seen, "web-stable").recently_rolled_out


def test_vertical_scaling_names_the_container_that_ran_out_of_memory() -> None:
    kube = ListOnly()
    web = deployment("web", revision=1, image="shop/web:1")
    web["spec"]["template"]["spec"]["containers"] = [
        {"name": "web", "image": "shop/web:1", "resources": {"limits": {"memory": "1Gi"}}},
        {"name": "proxy", "image": "envoy:1.30", "resources": {"limits": {"memory": "128Mi"}}},
    ]
    kube.put("deployments", web)
    statuses = [container_status("web"), container_status("proxy", restarts=3, last_terminated="OOMKilled")]
    kube.put("pods", pod("web-1", deployment="web", containers=statuses))
    facts = scale_facts(kube, observe_namespace(kube, "shop"), "web")
    assert facts.oom_pods == ["web-1"]
    assert (facts.container, facts.memory_limit, facts.suggested_memory_limit) == ("proxy", "128Mi", "256Mi")


def test_a_deployment_whose_pods_were_never_created_is_not_healthy() -> None:
    # A quota or an admission webhook refusing the pods leaves no pod to fail: the deployment's status shows it.
    kube = ListOnly()
    web = deployment("web", replicas=3, ready=0, available=0)
    web["status"]["unavailableReplicas"] = 3
    kube.put("deployments", web)
    rs = replicaset("web", "h1", revision=1, image="shop/web:1", replicas=3)
    kube.put("replicasets", rs)
    assessment = build_assessment(kube, "shop")
    assert assessment.primary_action != "NONE"
    assert any("deployment web: 3 replicas unavailable" in line for line in assessment.decision.evidence)
    assert "no deployment is unavailable" not in assessment.summary


class NodesForbidden(ListOnly):
    def __init__(self) -> None:
        super().__init__()
        self.node_gets: list[str] = []

    def get(self, resource: str, name: str, namespace: str | None = None) -> dict[str, Any]:
        if resource == "nodes":
            self.node_gets.append(name)
            if not self.objects.get(("nodes", None, name)):
                raise errors.Forbidden("nodes is forbidden", code=403, reason="Forbidden")
        return super().get(resource, name, namespace)


def web_across_nodes(kube: ListOnly, down: str = "node-2") -> None:
    """web with a pod on each of node-1..3; the one on `down` is not ready."""
    kube.put("deployments", deployment("web"))
    for n in (1, 2, 3):
        name = f"node-{n}"
        statuses = [container_status("web", ready=name != down)]
        kube.put("pods", pod(f"web-{n}", deployment="web", node=name, containers=statuses))


def test_the_node_of_the_failing_pods_is_read_and_blamed_when_not_ready() -> None:
    kube = NodesForbidden()
    web_across_nodes(kube)
    for n in (1, 2, 3):
        kube.put("nodes", node(f"node-{n}", ready=n != 2))
    seen = observe_namespace(kube, "shop")
    assert kube.node_gets == ["node-2"], "only the nodes hosting failing pods are read"
    assert seen.facts.nodes["node-2"].problems == ["Ready=False"]
    assessment = build_assessment(kube, "shop")
    assert (assessment.decision.target, assessment.decision.next_tool) == ("node/node-2", "cordon_node")


def test_an_unreadable_node_is_judged_by_its_pods_events_and_overdue_deletions() -> None:
    kube = NodesForbidden()
    web_across_nodes(kube)
    reported = event("NodeNotReady", "Node is not ready", involved="web-2")
    reported["lastTimestamp"] = stamp(timedelta(minutes=3))
    kube.put("events", reported)
    seen = observe_namespace(kube, "shop")
    assert "nodes" in seen.unreadable
    assert seen.facts.nodes["node-2"].problems == ["NodeNotReady events about its pods"]
    assert build_assessment(kube, "shop").decision.target == "node/node-2"

    quiet = NodesForbidden()
    web_across_nodes(quiet)
    stuck = quiet.objects[("pods", "shop", "web-2")]
    stuck["metadata"]["deletionTimestamp"] = stamp(timedelta(minutes=10))
    assert observe_namespace(quiet, "shop").facts.nodes["node-2"].problems == [
        "pods there are past their deletion time (its kubelet does not answer)"
    ]


def test_a_failing_pod_on_an_unreadable_node_with_no_sign_blames_no_node() -> None:
    kube = NodesForbidden()
    web_across_nodes(kube)
    decision = build_assessment(kube, "shop").decision
    assert decision.primary_action == "INVESTIGATE" and not (decision.target or "").startswith("node/")


def test_node_reads_are_capped() -> None:
    kube = NodesForbidden()
    kube.put("deployments", deployment("web"))
    for n in range(MAX_NODES_READ + 3):
        kube.put("nodes", node(f"node-{n}"))
        kube.put(
            "pods",
            pod(f"web-{n}", deployment="web", node=f"node-{n}", containers=[container_status("web", ready=False)]),
        )
    seen = observe_namespace(kube, "shop")
    assert len(kube.node_gets) == MAX_NODES_READ
    assert sum(1 for state in seen.facts.nodes.values() if not state.read) == 3

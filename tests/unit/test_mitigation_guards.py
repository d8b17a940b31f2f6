"""Each planner guard triggered on plain dicts (FakeKube): refusals raise, warnings land in the plan."""

from __future__ import annotations

from typing import Any

import pytest
from support.builders import container_status, deployment, node, pod, service, with_resources
from support.fakekube import FakeKube
from support.plan_warnings import proses

from incident_response.tools.core import errors
from incident_response.tools.mitigate.isolation import plan_remove_from_service, split_heredoc, with_heredoc
from incident_response.tools.mitigate.memory import plan_memory_limit
from incident_response.tools.mitigate.nodes import plan_cordon, plan_drain
from incident_response.tools.mitigate.pods_delete import plan_delete_pod
from incident_response.tools.mitigate.traffic import plan_ingress_backend


def api_cluster(rs_selects_app: bool) -> FakeKube:
    good = [pod(f"api-{i}", labels={"app": "api", "version": "stable"}) for i in range(2)]
    bad = pod("api-bad-0", labels={"app": "api", "version": "bad"})
    bad["metadata"]["ownerReferences"] = [
        {"kind": "ReplicaSet", "name": "api-bad-x", "uid": "rs-bad", "controller": True}
    ]
    match = {"app": "api", "version": "bad"} if rs_selects_app else {"version": "bad"}
    rs = {
        "kind": "ReplicaSet",
        "metadata": {"name": "api-bad-x", "namespace": "shop", "uid": "rs-bad"},
        "spec": {"selector": {"matchLabels": match}},
    }
    return FakeKube(
        ("services", service("api", {"app": "api"})), ("replicasets", rs), *[("pods", p) for p in [*good, bad]]
    )


def test_remove_from_service_warns_when_the_replicaset_selects_by_the_label() -> None:
    draft = plan_remove_from_service(api_cluster(True), "shop", "api", "app=api,version=bad")
    assert any("ReplicaSet api-bad-x will create 1" in w for w in proses(draft.warnings))
    assert draft.command == "kubectl label pods -l app=api,version=bad app- -n shop --context test"
    assert [s.command for s in draft.steps] == ["kubectl label pod api-bad-0 app- -n shop --context test"]
    assert draft.temporary


def test_remove_from_service_refuses_to_leave_no_endpoints_unless_told() -> None:
    kube = api_cluster(False)
    with pytest.raises(errors.InvalidArgument, match="no ready endpoints"):
        plan_remove_from_service(kube, "shop", "api", "app=api")
    draft = plan_remove_from_service(kube, "shop", "api", "app=api", allow_no_endpoints=True)
    assert draft.diff[-1].after == []


def test_remove_from_service_reads_by_selector_and_names_at_most_ten_pods_left_alone() -> None:
    kube = api_cluster(True)
    for i in range(25):  # version=bad pods of a batch job, behind no Service
        kube.objects[("pods", "shop", f"job-{i:02d}")] = pod(f"job-{i:02d}", labels={"batch": "x", "version": "bad"})
    draft = plan_remove_from_service(kube, "shop", "api", "version=bad")
    [left] = [w for w in proses(draft.warnings) if "not behind service api" in w]
    assert left.startswith("25 selected pod(s) are not behind service api and are left alone: job-00, job-01, ")
    assert left.endswith("job-09 and 15 more."), left
    assert [s.command for s in draft.steps] == ["kubectl label pod api-bad-0 app- -n shop --context test"]


def test_heredoc_round_trips() -> None:
    command = with_heredoc("kubectl apply -f - -n shop", "a: 1\nb: 2\n")
    assert split_heredoc(command) == ("kubectl apply -f - -n shop", "a: 1\nb: 2\n")


def test_memory_limit_guards() -> None:
    web = with_resources(deployment("web"), requests={"memory": "256Mi"}, limits={"memory": "256Mi"})
    kube = FakeKube(("deployments", web), ("nodes", node("node-1", memory="4Gi")))
    with pytest.raises(errors.InvalidArgument, match="not a valid memory quantity"):
        plan_memory_limit(kube, "shop", "web", "web", "lots")
    with pytest.raises(errors.InvalidArgument, match="no container 'nope'"):
        plan_memory_limit(kube, "shop", "web", "nope", "1Gi")
    with pytest.raises(errors.InvalidArgument, match="more than any schedulable node"):
        plan_memory_limit(kube, "shop", "web", "web", "16Gi")
    draft = plan_memory_limit(kube, "shop", "web", "web", "1Gi")
    assert any("rolling restart" in w for w in proses(draft.warnings)) and draft.temporary


def test_cordon_and_uncordon_refuse_when_nothing_changes() -> None:
    kube = FakeKube(("nodes", node("node-1")), ("nodes", node("node-2", unschedulable=True)))
    with pytest.raises(errors.InvalidArgument, match="already cordoned"):
        plan_cordon(kube, "node-2")
    with pytest.raises(errors.InvalidArgument, match="not cordoned"):
        plan_cordon(kube, "node-1", uncordon=True)
    assert any("last schedulable node" in w for w in proses(plan_cordon(kube, "node-1").warnings))


def drain_cluster(*pods: dict[str, Any]) -> FakeKube:
    return FakeKube(("nodes", node("node-1")), ("nodes", node("node-2")), *[("pods", p) for p in pods])


def test_drain_refuses_unmanaged_pods_and_skips_daemonsets() -> None:
    lone = pod("lone", node="node-1")
    with pytest.raises(errors.InvalidArgument, match="no controller would recreate"):
        plan_drain(drain_cluster(lone), "node-1")
    ds = pod("agent", node="node-1")
    ds["metadata"]["ownerReferences"] = [{"kind": "DaemonSet", "name": "agent", "uid": "d", "controller": True}]
    draft = plan_drain(drain_cluster(ds, pod("web-1", deployment="web", node="node-1")), "node-1")
    assert draft.risk == "destructive" and len(draft.steps) == 2  # cordon + one eviction
    assert any("DaemonSet pods stay" in w for w in proses(draft.warnings))


def test_drain_says_which_evictions_a_budget_blocks_and_when_pods_do_not_fit() -> None:
    big = with_resources(pod("web-1", deployment="web", node="node-1"), requests={"cpu": "8"})
    pdb = {
        "kind": "PodDisruptionBudget",
        "metadata": {"name": "web", "namespace": "shop"},
        "spec": {"selector": {"matchLabels": {"app": "web"}}},
        "status": {"disruptionsAllowed": 0, "currentHealthy": 1, "desiredHealthy": 1},
    }
    kube = drain_cluster(big)
    kube.put("poddisruptionbudgets", pdb)
    draft = plan_drain(kube, "node-1")
    assert any("refuse to evict web-1" in w for w in proses(draft.warnings))
    assert any("would stay Pending" in w for w in proses(draft.warnings))


def test_delete_pod_says_whether_it_comes_back() -> None:
    kube = FakeKube(("pods", pod("lone")), ("pods", pod("web-1", deployment="web")))
    assert "will NOT come back" in plan_delete_pod(kube, "shop", "lone").summary
    assert "will create a replacement" in plan_delete_pod(kube, "shop", "web-1").summary


def test_switch_ingress_refuses_a_service_without_ready_endpoints() -> None:
    ingress = {
        "kind": "Ingress",
        "metadata": {"name": "shop", "namespace": "shop"},
        "spec": {
            "rules": [
                {"http": {"paths": [{"path": "/", "backend": {"service": {"name": "web", "port": {"number": 80}}}}]}}
            ]
        },
    }
    empty = {"kind": "Endpoints", "metadata": {"name": "spare", "namespace": "shop"}, "subsets": []}
    kube = FakeKube(("ingresses", ingress), ("services", service("spare", {"app": "spare"})), ("endpoints", empty))
    with pytest.raises(errors.InvalidArgument, match="no ready endpoints"):
        plan_ingress_backend(kube, "shop", "shop", "spare")
    with pytest.raises(errors.NotFound):
        plan_ingress_backend(kube, "shop", "shop", "missing")


def test_crashing_pod_builder_is_broken() -> None:
    from incident_response.tools.k8s.backends import broken

    assert (
        broken(pod("p", containers=[container_status(waiting="CrashLoopBackOff", ready=False)])) == "CrashLoopBackOff"
    )

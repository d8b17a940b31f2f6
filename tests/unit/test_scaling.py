from __future__ import annotations

import shlex
from typing import Any

import pytest
from support.builders import container_status, deployment, hpa, node, pod, with_resources
from support.fakekube import FakeKube
from support.plan_warnings import proses

from incident_response.tools.core import errors
from incident_response.tools.engine.plan import KubeWrite
from incident_response.tools.mitigate.scaling import CEILING_ENV, plan_override_hpa, plan_scale


def cluster(*extra: tuple[str, dict[str, Any]], replicas: int = 3, cpu: str = "4") -> FakeKube:
    web = with_resources(deployment("web", replicas=replicas), requests={"cpu": "500m", "memory": "256Mi"})
    pods = [
        ("pods", with_resources(pod(f"web-{i}", deployment="web"), requests={"cpu": "500m", "memory": "256Mi"}))
        for i in range(replicas)
    ]
    return FakeKube(("deployments", web), *pods, ("nodes", node("node-1", cpu=cpu)), *extra)


def test_scale_plan_renders_the_playbook_command_and_a_guarded_write() -> None:
    kube = cluster()
    draft = plan_scale(kube, "shop", "web", 6)
    assert draft.command == "kubectl scale deployment/web --replicas=6 -n shop --context test"
    assert shlex.split(draft.command)[:3] == ["kubectl", "scale", "deployment/web"]
    assert draft.undo_command == "kubectl scale deployment/web --replicas=3 -n shop --context test"
    action = draft.steps[0].action
    assert isinstance(action, KubeWrite)
    # The same change as kubectl scale, as a JSON patch the API refuses if the spec changed since the plan.
    assert (action.verb, action.subresource, action.patch_type, action.body) == (
        "patch",
        None,
        "json",
        [
            {"op": "test", "path": "/metadata/uid", "value": "uid-web"},
            {"op": "test", "path": "/metadata/generation", "value": 1},
            {"op": "replace", "path": "/spec/replicas", "value": 6},
        ],
    )
    assert [(c.path, c.before, c.after) for c in draft.diff] == [("spec.replicas", 3, 6)]
    expect = draft.preconditions[0].expect
    assert {k: expect[k] for k in ("/metadata/uid", "/metadata/generation", "/spec/replicas")} == {
        "/metadata/uid": "uid-web",
        "/metadata/generation": 1,
        "/spec/replicas": 3,
    }
    assert str(expect["/spec/template"]).startswith("sha256:")  # the template is compared, never stored
    assert draft.risk == "mutation" and draft.temporary
    # Nothing shows demand here (no metrics, no HPA): no sizing warning, only that a manual scale is temporary.
    assert [w.split(":")[0] for w in proses(draft.warnings)] == ["A manual scale is temporary"]
    assert (
        "the next apply of its manifest" in proses(draft.warnings)[0] and "restore_measure" in proses(draft.warnings)[0]
    )
    assert kube.writes == [] and kube.dry_runs  # planning only dry-runs


def test_scale_refuses_when_an_hpa_manages_the_deployment_and_suggests_override_hpa() -> None:
    kube = cluster(("horizontalpodautoscalers", hpa("web", current=3, desired=3)))
    with pytest.raises(errors.InvalidArgument, match="override_hpa"):
        plan_scale(kube, "shop", "web", 6)


def test_scale_up_refuses_while_pods_fail_on_their_own() -> None:
    kube = cluster()
    crashing = pod(
        "web-0", deployment="web", containers=[container_status("web", ready=False, waiting="CrashLoopBackOff")]
    )
    kube.put("pods", crashing)
    with pytest.raises(errors.InvalidArgument, match=r"web-0 \(CrashLoopBackOff\).*fix unhealthy pods first"):
        plan_scale(kube, "shop", "web", 6)
    assert plan_scale(kube, "shop", "web", 2).diff[0].after == 2  # scaling down is still allowed


def test_scale_up_of_overloaded_but_not_crashing_pods_is_allowed() -> None:
    kube = cluster()
    kube.put("pods", pod("web-0", deployment="web", containers=[container_status("web", ready=False)]))
    assert plan_scale(kube, "shop", "web", 6).diff[0].after == 6


def test_scale_beyond_ten_times_needs_allow_large(monkeypatch: pytest.MonkeyPatch) -> None:
    kube = cluster(cpu="64")
    with pytest.raises(errors.InvalidArgument, match="allow_large=true"):
        plan_scale(kube, "shop", "web", 31)
    assert plan_scale(kube, "shop", "web", 31, allow_large=True).diff[0].after == 31
    monkeypatch.setenv(CEILING_ENV, "8")
    with pytest.raises(errors.InvalidArgument, match="ceiling of 8"):
        plan_scale(kube, "shop", "web", 9)


def test_scale_warns_how_many_new_pods_would_stay_pending() -> None:
    kube = cluster(cpu="2500m")  # 3 x 500m used, room for 2 more
    draft = plan_scale(kube, "shop", "web", 6)
    assert any("1 of the 3 new pods would stay Pending" in w for w in proses(draft.warnings))


def test_scale_to_zero_is_destructive() -> None:
    draft = plan_scale(cluster(), "shop", "web", 0)
    assert draft.risk == "destructive"
    assert "offline" in proses(draft.warnings)[0]


def test_scale_to_the_current_count_is_refused() -> None:
    with pytest.raises(errors.InvalidArgument, match="already has 3"):
        plan_scale(cluster(), "shop", "web", 3)


def test_override_hpa_records_original_bounds_as_temporary_measure() -> None:
    kube = cluster(("horizontalpodautoscalers", hpa("web", current=3, desired=3, min_replicas=2, max_replicas=5)))
    draft = plan_override_hpa(kube, "shop", "web", 4, 6)
    assert draft.command == (
        'kubectl patch hpa web -n shop --context test -p \'{"spec":{"minReplicas":4,"maxReplicas":6}}\''
    )
    assert shlex.split(draft.command)[-1] == '{"spec":{"minReplicas":4,"maxReplicas":6}}'
    assert draft.undo_command is not None and '"minReplicas":2,"maxReplicas":5' in draft.undo_command
    assert draft.temporary and draft.restores is None
    assert {c.path: (c.before, c.after) for c in draft.diff} == {
        "spec.minReplicas": (2, 4),
        "spec.maxReplicas": (5, 6),
    }
    assert draft.preconditions[0].expect["/spec/minReplicas"] == 2


def test_override_hpa_refuses_min_above_max() -> None:
    kube = cluster(("horizontalpodautoscalers", hpa("web", current=3, desired=3)))
    with pytest.raises(errors.InvalidArgument, match="above max_replicas"):
        plan_override_hpa(kube, "shop", "web", 7, 6)


def test_override_hpa_refuses_a_minimum_beyond_node_capacity_and_warns_for_the_maximum() -> None:
    kube = cluster(("horizontalpodautoscalers", hpa("web", current=3, desired=3)), cpu="3")  # 6 pods fit
    with pytest.raises(errors.InvalidArgument, match="only about 6 replicas"):
        plan_override_hpa(kube, "shop", "web", 7, 8)
    draft = plan_override_hpa(kube, "shop", "web", 4, 8)
    assert any("max_replicas 8 is beyond what fits now (about 6" in w for w in proses(draft.warnings))


def test_override_hpa_restore_plan_points_at_the_measure_and_skips_capacity() -> None:
    kube = cluster(
        ("horizontalpodautoscalers", hpa("web", current=3, desired=3, min_replicas=6, max_replicas=9)), cpu="1"
    )
    draft = plan_override_hpa(kube, "shop", "web", 2, 5, restores="tok")
    assert draft.restores == "tok" and not draft.temporary and draft.tool == "restore_measure"

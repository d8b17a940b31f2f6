import shlex
from typing import Any

import pytest
from support.fakekube import FakeKube
from support.plan_warnings import wholes

from incident_response.tools.core import errors
from incident_response.tools.engine.plan import KubeWrite
from incident_response.tools.k8s.workloads import pick_target
from incident_response.tools.mitigate.rollback import ANNOTATIONS_TO_SKIP, REVISION, plan_rollback, undo_patch

UID = "dep-uid"


def deployment(image: str = "web:v3", revision: int = 3, **spec: Any) -> dict[str, Any]:
    return {
        "metadata": {
            "name": "web",
            "namespace": "shop",
            "uid": UID,
            "generation": 5,
            "annotations": {
                REVISION: str(revision),
                "kubernetes.io/change-cause": f"set {image}",
                "kubectl.kubernetes.io/last-applied-configuration": "{}",
            },
        },
        "spec": {
            "replicas": 3,
            "selector": {"matchLabels": {"app": "web"}},
            "template": {
                "metadata": {"labels": {"app": "web"}},
                "spec": {"containers": [{"name": "web", "image": image}]},
            },
            **spec,
        },
    }


def replicaset(revision: int, image: str, owner: str = UID) -> dict[str, Any]:
    return {
        "metadata": {
            "name": f"web-{revision}",
            "namespace": "shop",
            "labels": {"app": "web", "pod-template-hash": "h"},
            "annotations": {
                REVISION: str(revision),
                "kubernetes.io/change-cause": f"set {image}",
                "deployment.kubernetes.io/desired-replicas": "3",
            },
            "ownerReferences": [{"controller": True, "uid": owner, "kind": "Deployment", "name": "web"}],
        },
        "spec": {
            "template": {
                "metadata": {"labels": {"app": "web", "pod-template-hash": "h"}},
                "spec": {"containers": [{"name": "web", "image": image}]},
            }
        },
    }


@pytest.fixture
def kube() -> FakeKube:
    k = FakeKube()
    k.put("deployments", deployment())
    for rev, image in [(1, "web:v1"), (2, "web:v2"), (3, "web:v3")]:
        k.put("replicasets", replicaset(rev, image))
    k.put(
        "replicasets",
        {
            **replicaset(9, "other:v9", owner="someone-else"),
            "metadata": {**replicaset(9, "other:v9", owner="someone-else")["metadata"], "name": "not-ours"},
        },
    )
    return k


def test_default_target_is_the_previous_revision_and_command_round_trips(kube: FakeKube) -> None:
    draft = plan_rollback(kube, "shop", "web", None)
    assert draft.command == "kubectl rollout undo deployment/web -n shop --to-revision=2 --context test"
    assert shlex.split(draft.command)[-3:] == ["--to-revision=2", "--context", "test"]
    assert draft.undo_command == "kubectl rollout undo deployment/web -n shop --to-revision=3 --context test"
    images = [c for c in draft.diff if c.path == "spec.template.spec.containers[web].image"]
    assert images and (images[0].before, images[0].after) == ("web:v3", "web:v2")
    assert kube.writes == []  # planning only dry-runs


def test_explicit_revision_and_preconditions(kube: FakeKube) -> None:
    draft = plan_rollback(kube, "shop", "web", 1)
    assert "--to-revision=1" in draft.command
    dep, rs = draft.preconditions
    assert dep.expect["/metadata/generation"] == 5 and dep.expect["/spec/replicas"] == 3
    assert rs.name == "web-1" and rs.expect["/metadata/annotations/deployment.kubernetes.io~1revision"] == "1"


def test_patch_is_kubectls_with_test_ops_first(kube: FakeKube) -> None:
    draft = plan_rollback(kube, "shop", "web", 2)
    action = draft.steps[0].action
    assert isinstance(action, KubeWrite) and action.patch_type == "json"
    ops = action.body
    assert [(o["op"], o["path"]) for o in ops] == [
        ("test", "/metadata/uid"),
        ("test", "/metadata/generation"),
        ("replace", "/spec/template"),
        ("replace", "/metadata/annotations"),
    ]
    assert "pod-template-hash" not in ops[2]["value"]["metadata"]["labels"]
    annotations = ops[3]["value"]
    assert annotations[REVISION] == "3"  # the deployment's own, kept
    assert annotations["kubernetes.io/change-cause"] == "set web:v2"  # copied from the ReplicaSet
    assert "deployment.kubernetes.io/desired-replicas" not in annotations
    assert annotations["kubectl.kubernetes.io/last-applied-configuration"] == "{}"


def test_annotations_skip_list_matches_kubectl() -> None:
    assert set(ANNOTATIONS_TO_SKIP) == {
        "kubectl.kubernetes.io/last-applied-configuration",
        "deployment.kubernetes.io/revision",
        "deployment.kubernetes.io/revision-history",
        "deployment.kubernetes.io/desired-replicas",
        "deployment.kubernetes.io/max-replicas",
        "deprecated.deployment.rollback.to",
    }
    patch = undo_patch(deployment(), replicaset(2, "web:v2"))
    assert patch[0]["value"] == UID


@pytest.mark.parametrize("to_revision, message", [(7, "no revision 7"), (3, "already runs the template of revision 3")])
def test_refusals(kube: FakeKube, to_revision: int, message: str) -> None:
    with pytest.raises(errors.InvalidArgument, match=message):
        plan_rollback(kube, "shop", "web", to_revision)


def test_no_history_and_paused() -> None:
    with pytest.raises(errors.InvalidArgument, match="no previous revision"):
        pick_target(deployment(), [replicaset(3, "web:v3")], None)
    kube = FakeKube()
    kube.put("deployments", deployment(paused=True))
    with pytest.raises(errors.InvalidArgument, match="paused"):
        plan_rollback(kube, "shop", "web", None)


def test_missing_deployment_is_not_found() -> None:
    with pytest.raises(errors.NotFound):
        plan_rollback(FakeKube(), "shop", "web", None)


def test_a_stateful_deployment_gets_the_playbooks_migration_warning(kube: FakeKube) -> None:
    assert plan_rollback(kube, "shop", "web", None).warnings == []
    stateful = deployment()
    stateful["spec"]["template"]["spec"]["volumes"] = [
        {"name": "data", "persistentVolumeClaim": {"claimName": "web-data"}}
    ]
    kube.put("deployments", stateful)
    kube.put(
        "persistentvolumeclaims", {"metadata": {"name": "web-cache", "namespace": "shop", "labels": {"app": "web"}}}
    )
    (warning,) = wholes(plan_rollback(kube, "shop", "web", None).warnings)
    assert warning.startswith("stateful: the pods use PersistentVolumeClaims web-cache, web-data.")
    assert "revision 3 ran no forward-only database migration" in warning

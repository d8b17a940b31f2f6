"""config_failures: pods failing on a ConfigMap/Secret, and whether a rollback's target reads it the same way."""

from __future__ import annotations

from typing import Any

import pytest

from incident_response.tools.k8s.mounts import mount_failures
from incident_response.tools.playbook.config_failures import asks_for, config_failures, failure_of, shared_failure
from incident_response.tools.playbook.rollback_checks import failing_config_warnings

KEY = "couldn't find key PAYMENTS_URL in ConfigMap shop/checkout-config"
GONE = 'secret "checkout-db" not found'


def pod(name: str, message: str, reason: str = "CreateContainerConfigError") -> dict[str, Any]:
    waiting = {"reason": reason, "message": message}
    return {"metadata": {"name": name}, "status": {"containerStatuses": [{"name": "c", "state": {"waiting": waiting}}]}}


def template(
    *, env: list[Any] | None = None, env_from: list[Any] | None = None, volumes: list[Any] | None = None
) -> dict[str, Any]:
    container = {"name": "c", "env": env or [], "envFrom": env_from or []}
    return {"spec": {"containers": [container], "volumes": volumes or []}}


def key_ref(key: str, **more: Any) -> dict[str, Any]:
    return {"name": key, "valueFrom": {"configMapKeyRef": {"name": "checkout-config", "key": key, **more}}}


def test_the_kubelet_messages_name_the_object_and_key() -> None:
    found = failure_of(KEY)
    assert found is not None and (found.kind, found.name, found.key) == ("ConfigMap", "checkout-config", "PAYMENTS_URL")
    gone = failure_of(GONE)
    assert gone is not None and (gone.kind, gone.name, gone.key) == ("Secret", "checkout-db", None)
    assert failure_of("container has runAsNonRoot and image will run as root") is None
    assert config_failures([pod("a", KEY), pod("b", KEY), pod("c", KEY, reason="CrashLoopBackOff")]) == {
        failure_of(KEY): ["a", "b"]
    }


@pytest.mark.parametrize(
    ("target", "how"),
    [
        (template(env=[key_ref("PAYMENTS_URL")]), "same"),
        (template(env=[key_ref("PAYMENTS_URL", optional=True)]), None),
        (template(env=[key_ref("OTHER")]), None),  # the rollback's pods do not ask for that key
        (template(env_from=[{"configMapRef": {"name": "checkout-config"}}]), "whole"),  # they start without it
        (template(volumes=[{"name": "v", "configMap": {"name": "checkout-config"}}]), "whole"),
        (
            template(
                volumes=[
                    {
                        "name": "v",
                        "configMap": {"name": "checkout-config", "items": [{"key": "PAYMENTS_URL", "path": "u"}]},
                    }
                ]
            ),
            "same",
        ),  # fmt: skip
        (
            template(
                volumes=[
                    {"name": "v", "configMap": {"name": "checkout-config", "items": [{"key": "OTHER", "path": "o"}]}}
                ]
            ),
            None,
        ),  # fmt: skip
        (template(), None),
    ],
)
def test_a_missing_key_is_the_same_failure_only_where_the_target_asks_for_that_key(
    target: dict[str, Any], how: str | None
) -> None:
    failure = failure_of(KEY)
    assert failure is not None and asks_for(target, failure) == how


@pytest.mark.parametrize(
    ("target", "how"),
    [
        (template(env_from=[{"secretRef": {"name": "checkout-db"}}]), "same"),
        (template(env_from=[{"secretRef": {"name": "checkout-db", "optional": True}}]), None),
        (template(volumes=[{"name": "v", "secret": {"secretName": "checkout-db"}}]), "same"),
        (template(volumes=[{"name": "v", "projected": {"sources": [{"secret": {"name": "checkout-db"}}]}}]), "same"),
        (template(volumes=[{"name": "v", "secret": {"secretName": "other"}}]), None),
    ],
)
def test_a_missing_object_fails_every_required_reference_to_it(target: dict[str, Any], how: str | None) -> None:
    failure = failure_of(GONE)
    assert failure is not None and asks_for(target, failure) == how


def test_what_is_said_names_the_revision_the_key_and_the_move_or_what_cannot_be_told() -> None:
    same = shared_failure([pod("a", KEY)], template(env=[key_ref("PAYMENTS_URL")]), 2)
    assert same is not None and same.status == "warning" and not same.questions
    assert same.detail.startswith(
        "revision 2's pods read key PAYMENTS_URL of ConfigMap checkout-config too, which pods fail on now: restore it"
    )
    assert same.evidence == [f"a: {KEY}"]
    whole = shared_failure([pod("a", KEY)], template(env_from=[{"configMapRef": {"name": "checkout-config"}}]), 2)
    assert whole is not None and whole.status == "not_visible" and "not known here" in whole.detail
    assert whole.questions == ["Does revision 2 work without key PAYMENTS_URL of ConfigMap checkout-config?"]
    assert shared_failure([pod("a", KEY)], template(env=[key_ref("OTHER")]), 2) is None
    secret = shared_failure([pod("a", GONE)], template(env_from=[{"secretRef": {"name": "checkout-db"}}]), 1)
    assert secret is not None and "or where the Secret is kept" in secret.detail


def test_a_workload_rollback_plan_warns_only_when_its_pods_would_fail_the_same_way() -> None:
    same = failing_config_warnings([pod("kv-2", KEY)], template(env=[key_ref("PAYMENTS_URL")]), 1)
    assert len(same) == 1 and same[0].whole().startswith("config: revision 1's pods read key PAYMENTS_URL"), same
    said = "revision 1 reads key PAYMENTS_URL of ConfigMap checkout-config too, failing now: restore it"
    assert same[0].brief == said + ", do not roll back", same
    whole = template(env_from=[{"configMapRef": {"name": "checkout-config"}}])
    assert failing_config_warnings([pod("kv-2", KEY)], whole, 1) == []  # asked in check_rollback_safety instead
    assert failing_config_warnings([pod("kv-2", KEY)], template(), 1) == []


MOUNT = 'MountVolume.SetUp failed for volume "files" : configmap "checkout-files" not found'


def mount_event(pod_name: str, message: str, reason: str = "FailedMount") -> dict[str, Any]:
    return {"reason": reason, "message": message, "involvedObject": {"kind": "Pod", "name": pod_name}}


def test_a_failed_mount_of_a_missing_configmap_every_revision_mounts_is_shared() -> None:
    creating = pod("new", "", reason="ContainerCreating")
    started = pod("old", "", reason="CrashLoopBackOff")  # mounted once: its FailedMount is history
    events = [mount_event("new", MOUNT), mount_event("old", MOUNT), mount_event("new", "no space", "FailedMount")]
    mounts = mount_failures(events, [creating, started])
    assert mounts == {"new": MOUNT}
    mounting = template(volumes=[{"name": "files", "configMap": {"name": "checkout-files"}}])
    found = shared_failure([creating, started], mounting, 3, mounts)
    assert found is not None and found.status == "warning", found
    assert found.detail.startswith("revision 3's pods read ConfigMap checkout-files too"), found.detail
    assert any(MOUNT in line for line in found.evidence), found.evidence
    optional = template(volumes=[{"name": "files", "configMap": {"name": "checkout-files", "optional": True}}])
    assert shared_failure([creating], optional, 3, mounts) is None
    assert shared_failure([creating], template(), 3, mounts) is None  # the target does not mount it: the fix

"""Pod templates compared by what they run: equal however they were recorded, different whenever the pods differ."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from incident_response.tools.k8s.pod_templates import default_pull_policy, differences, normalized, same_pod_template


def template(**container: Any) -> dict[str, Any]:
    main = {"name": "web", "image": "registry.example.com/web:1.2", **container}
    return {"metadata": {"labels": {"app": "web"}}, "spec": {"containers": [main]}}


def defaulted(t: dict[str, Any]) -> dict[str, Any]:
    """The template as an API server stores it: every default filled in."""
    out = copy.deepcopy(t)
    out["metadata"]["creationTimestamp"] = None
    spec = out["spec"]
    spec.update(
        restartPolicy="Always",
        terminationGracePeriodSeconds=30,
        dnsPolicy="ClusterFirst",
        schedulerName="default-scheduler",
        securityContext={},
        enableServiceLinks=True,
    )
    for c in spec["containers"]:
        c.update(
            imagePullPolicy=default_pull_policy(c["image"]),
            terminationMessagePath="/dev/termination-log",
            terminationMessagePolicy="File",
            resources=c.get("resources", {}),
        )
        for port in c.get("ports", []):
            port.setdefault("protocol", "TCP")
        for probe in ("livenessProbe", "readinessProbe"):
            if probe in c:
                c[probe].update(timeoutSeconds=1, periodSeconds=10, successThreshold=1, failureThreshold=3)
                c[probe].get("httpGet", {}).setdefault("scheme", "HTTP")
    return out


PROBE = {"httpGet": {"path": "/healthz", "port": 8080}}


def with_hash(t: dict[str, Any], label: str, value: str) -> dict[str, Any]:
    out = copy.deepcopy(t)
    out["metadata"]["labels"][label] = value
    return out


@pytest.mark.parametrize(
    ("a", "b"),
    [
        pytest.param(template(), defaulted(template()), id="defaults filled in on one side"),
        pytest.param(
            template(ports=[{"containerPort": 80}], readinessProbe=PROBE),
            defaulted(template(ports=[{"containerPort": 80}], readinessProbe=copy.deepcopy(PROBE))),
            id="port protocol and probe defaults",
        ),
        pytest.param(template(), with_hash(template(), "pod-template-hash", "7d9f8b6c5"), id="pod-template-hash"),
        pytest.param(
            with_hash(template(), "controller-revision-hash", "sessions-5f4d"),
            with_hash(template(), "controller-revision-hash", "sessions-6c7b"),
            id="controller-revision-hash",
        ),
        pytest.param(
            template(resources={"limits": {"cpu": "1", "memory": "1Gi"}}),
            template(resources={"limits": {"cpu": "1000m", "memory": "1024Mi"}}),
            id="quantities spelled differently",
        ),
        pytest.param(
            template(ports=[{"containerPort": 80}, {"containerPort": 9090}]),
            template(ports=[{"containerPort": 9090}, {"containerPort": 80}]),
            id="port order",
        ),
        pytest.param(
            template(volumeMounts=[{"name": "a", "mountPath": "/a"}, {"name": "b", "mountPath": "/b"}]),
            template(volumeMounts=[{"name": "b", "mountPath": "/b"}, {"name": "a", "mountPath": "/a"}]),
            id="mount order",
        ),
        pytest.param(template(args=[]), template(), id="an empty list is an absent one"),
        pytest.param(template(image="web:latest"), template(image="web:latest", imagePullPolicy="Always"), id="latest"),
        pytest.param(template(image="web"), template(image="web", imagePullPolicy="Always"), id="no tag"),
        pytest.param(
            template(image="web@sha256:ab"),
            template(image="web@sha256:ab", imagePullPolicy="IfNotPresent"),
            id="digest",
        ),
        pytest.param(
            template(image="web:latest@sha256:ab"),
            template(image="web:latest@sha256:ab", imagePullPolicy="Always"),
            id="latest with a digest",
        ),
    ],
)
def test_templates_that_run_the_same_pods_are_the_same(a: dict[str, Any], b: dict[str, Any]) -> None:
    assert same_pod_template(a, b), differences(a, b)
    assert same_pod_template(b, a)


def test_volume_order_and_secret_mode_default_do_not_matter() -> None:
    a, b = template(), template()
    a["spec"]["volumes"] = [{"name": "x", "secret": {"secretName": "x"}}, {"name": "y", "emptyDir": {}}]
    b["spec"]["volumes"] = [
        {"name": "y", "emptyDir": {}},
        {"name": "x", "secret": {"secretName": "x", "defaultMode": 420}},
    ]
    assert same_pod_template(a, b)


@pytest.mark.parametrize(
    ("a", "b", "where"),
    [
        pytest.param(template(), template(image="registry.example.com/web:1.3"), "spec/containers/0/image", id="image"),
        pytest.param(
            template(env=[{"name": "A", "value": "1"}, {"name": "B", "value": "$(A)"}]),
            template(env=[{"name": "B", "value": "$(A)"}, {"name": "A", "value": "1"}]),
            "spec/containers/0/env/0/name",
            id="env order (a $(VAR) sees only earlier ones)",
        ),
        pytest.param(
            template(resources={"limits": {"memory": "256Mi"}}),
            template(resources={"limits": {"memory": "512Mi"}}),
            "spec/containers/0/resources/limits/memory",
            id="memory limit",
        ),
        pytest.param(
            template(image="web:1.2"),
            template(image="web:1.2", imagePullPolicy="Always"),
            "spec/containers/0/imagePullPolicy",
            id="a pull policy other than the default",
        ),
        pytest.param(
            template(),
            template(readinessProbe={"httpGet": {"path": "/healthz", "port": 8080}, "periodSeconds": 30}),
            "spec/containers/0/readinessProbe",
            id="a probe added",
        ),
        pytest.param(
            template(readinessProbe={"httpGet": {"path": "/healthz", "port": 8080}}),
            template(readinessProbe={"httpGet": {"path": "/healthz", "port": 8080}, "periodSeconds": 30}),
            "spec/containers/0/readinessProbe/periodSeconds",
            id="a probe period other than the default",
        ),
        pytest.param(
            template(),
            with_hash(template(), "version", "2"),
            "metadata/labels/version",
            id="a label that is not a hash",
        ),
        pytest.param(
            template(),
            {
                **template(),
                "metadata": {"labels": {"app": "web"}, "annotations": {"kubectl.kubernetes.io/restartedAt": "x"}},
            },
            "metadata/annotations",
            id="a rollout restart stamp",
        ),
        pytest.param(
            template(command=["run", "--fast"]),
            template(command=["--fast", "run"]),
            "spec/containers/0/command/0",
            id="argument order",
        ),
    ],
)
def test_a_real_difference_is_never_hidden(a: dict[str, Any], b: dict[str, Any], where: str) -> None:
    assert not same_pod_template(a, b)
    assert not same_pod_template(defaulted(a), b), "defaults on one side must not hide the difference"
    assert where in differences(a, b)


def test_container_order_is_a_difference() -> None:
    """Init containers run in order, and the first container is the one kubectl logs and exec default to."""
    two = [{"name": "a", "image": "a:1"}, {"name": "b", "image": "b:1"}]
    a = {"spec": {"containers": two}}
    b = {"spec": {"containers": list(reversed(two))}}
    assert not same_pod_template(a, b)


def test_normalizing_changes_nothing_it_was_given() -> None:
    t = defaulted(template(ports=[{"containerPort": 80}]))
    before = copy.deepcopy(t)
    normalized(t)
    assert t == before

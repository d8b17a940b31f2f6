"""Dict builders for unit tests: the API's JSON shapes with only the fields a test cares about."""

from __future__ import annotations

import copy
from datetime import UTC, datetime, timedelta
from typing import Any

NOW = datetime(2026, 5, 1, 12, 0, 0, tzinfo=UTC)


def ts(ago: timedelta = timedelta(0)) -> str:
    return (NOW - ago).strftime("%Y-%m-%dT%H:%M:%SZ")


def container_status(
    name: str = "app",
    *,
    ready: bool = True,
    restarts: int = 0,
    waiting: str | None = None,
    terminated: str | None = None,
    exit_code: int = 1,
    last_terminated: str | None = None,
    last_exit_code: int = 1,
) -> dict[str, Any]:
    state: dict[str, Any]
    if waiting:
        state = {"waiting": {"reason": waiting}}
    elif terminated is not None:
        state = {"terminated": {"reason": terminated or None, "exitCode": exit_code, "finishedAt": ts()}}
    else:
        state = {"running": {"startedAt": ts(timedelta(minutes=5))}}
    status: dict[str, Any] = {"name": name, "ready": ready, "restartCount": restarts, "state": state}
    if last_terminated:
        status["lastState"] = {
            "terminated": {
                "reason": last_terminated,
                "exitCode": last_exit_code,
                "finishedAt": ts(timedelta(minutes=1)),
            }
        }
    return status


def pod(
    name: str,
    *,
    namespace: str = "shop",
    phase: str = "Running",
    deployment: str | None = None,
    pod_hash: str = "abc123",
    labels: dict[str, str] | None = None,
    containers: list[dict[str, Any]] | None = None,
    node: str | None = "node-1",
    ip: str | None = "10.0.0.1",
    age: timedelta = timedelta(hours=1),
    resources: dict[str, Any] | None = None,
    deleting: bool = False,
) -> dict[str, Any]:
    statuses = containers if containers is not None else [container_status()]
    all_labels = dict(labels or {})
    metadata: dict[str, Any] = {
        "name": name,
        "namespace": namespace,
        "uid": f"uid-{name}",
        "creationTimestamp": ts(age),
        "labels": all_labels,
    }
    if deployment:
        all_labels.setdefault("app", deployment)
        all_labels["pod-template-hash"] = pod_hash
        metadata["ownerReferences"] = [
            {"kind": "ReplicaSet", "name": f"{deployment}-{pod_hash}", "controller": True, "uid": "rs-uid"}
        ]
    if deleting:
        metadata["deletionTimestamp"] = ts()
    ready = all(s.get("ready") for s in statuses)
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": metadata,
        "spec": {
            "nodeName": node,
            "containers": [{"name": s["name"], "image": "img:1", "resources": resources or {}} for s in statuses],
        },
        "status": {
            "phase": phase,
            "podIP": ip,
            "conditions": [{"type": "Ready", "status": "True" if ready else "False"}],
            "containerStatuses": statuses,
        },
    }


def deployment(
    name: str,
    *,
    namespace: str = "shop",
    replicas: int = 3,
    revision: int = 1,
    image: str = "shop/web:1",
    ready: int | None = None,
    updated: int | None = None,
    available: int | None = None,
    generation: int = 1,
    observed: int | None = None,
) -> dict[str, Any]:
    ready = replicas if ready is None else ready
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {
            "name": name,
            "namespace": namespace,
            "uid": f"uid-{name}",
            "generation": generation,
            "annotations": {"deployment.kubernetes.io/revision": str(revision)},
            "creationTimestamp": ts(timedelta(days=3)),
        },
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": {"app": name}},
            "template": {
                "metadata": {"labels": {"app": name}},
                "spec": {"containers": [{"name": name, "image": image}]},
            },
        },
        "status": {
            "observedGeneration": generation if observed is None else observed,
            "replicas": replicas,
            "updatedReplicas": replicas if updated is None else updated,
            "readyReplicas": ready,
            "availableReplicas": ready if available is None else available,
        },
    }


def replicaset(
    deploy: str,
    pod_hash: str,
    *,
    revision: int,
    image: str,
    age: timedelta = timedelta(days=2),
    replicas: int = 0,
    namespace: str = "shop",
    change_cause: str | None = None,
    env: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    annotations = {"deployment.kubernetes.io/revision": str(revision)}
    if change_cause:
        annotations["kubernetes.io/change-cause"] = change_cause
    container: dict[str, Any] = {"name": deploy, "image": image}
    if env is not None:
        container["env"] = env
    return {
        "apiVersion": "apps/v1",
        "kind": "ReplicaSet",
        "metadata": {
            "name": f"{deploy}-{pod_hash}",
            "namespace": namespace,
            "uid": f"uid-{deploy}-{pod_hash}",
            "creationTimestamp": ts(age),
            "annotations": annotations,
            "labels": {"app": deploy, "pod-template-hash": pod_hash},
            "ownerReferences": [{"kind": "Deployment", "name": deploy, "uid": f"uid-{deploy}", "controller": True}],
        },
        "spec": {
            "replicas": replicas,
            "template": {
                "metadata": {"labels": {"app": deploy, "pod-template-hash": pod_hash}},
                "spec": {"containers": [container]},
            },
        },
        "status": {"replicas": replicas},
    }


def event(
    reason: str,
    message: str,
    *,
    involved: str,
    kind: str = "Pod",
    type_: str = "Warning",
    count: int = 1,
    ago: timedelta = timedelta(minutes=1),
    namespace: str = "shop",
) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Event",
        "metadata": {"name": f"{involved}.{reason}.{count}", "namespace": namespace},
        "involvedObject": {"kind": kind, "name": involved, "namespace": namespace},
        "reason": reason,
        "message": message,
        "type": type_,
        "count": count,
        "lastTimestamp": ts(ago),
        "firstTimestamp": ts(ago + timedelta(minutes=5)),
    }


def hpa(
    name: str,
    *,
    current: int,
    desired: int,
    min_replicas: int = 2,
    max_replicas: int = 5,
    cpu_now: int = 50,
    cpu_target: int = 70,
    namespace: str = "shop",
) -> dict[str, Any]:
    return {
        "apiVersion": "autoscaling/v2",
        "kind": "HorizontalPodAutoscaler",
        "metadata": {"name": name, "namespace": namespace},
        "spec": {
            "scaleTargetRef": {"kind": "Deployment", "name": name, "apiVersion": "apps/v1"},
            "minReplicas": min_replicas,
            "maxReplicas": max_replicas,
            "metrics": [
                {
                    "type": "Resource",
                    "resource": {"name": "cpu", "target": {"type": "Utilization", "averageUtilization": cpu_target}},
                }
            ],
        },
        "status": {
            "currentReplicas": current,
            "desiredReplicas": desired,
            "currentMetrics": [
                {"type": "Resource", "resource": {"name": "cpu", "current": {"averageUtilization": cpu_now}}}
            ],
        },
    }


def node(
    name: str,
    *,
    cpu: str = "4",
    memory: str = "8Gi",
    ready: bool = True,
    unschedulable: bool = False,
    taints: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    spec: dict[str, Any] = {}
    if unschedulable:
        spec["unschedulable"] = True
    if taints:
        spec["taints"] = taints
    return {
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": {"name": name, "labels": {"kubernetes.io/hostname": name}},
        "spec": spec,
        "status": {
            "allocatable": {"cpu": cpu, "memory": memory, "pods": "110"},
            "conditions": [{"type": "Ready", "status": "True" if ready else "False"}],
        },
    }


def service(name: str, selector: dict[str, str], *, namespace: str = "shop") -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": name, "namespace": namespace},
        "spec": {"selector": selector, "ports": [{"port": 80, "targetPort": 8080, "protocol": "TCP"}]},
    }


def with_resources(obj: dict[str, Any], **resources: dict[str, str]) -> dict[str, Any]:
    """Set resources on every container of a pod or deployment template."""
    spec = obj["spec"]["template"]["spec"] if obj["kind"] == "Deployment" else obj["spec"]
    for container in spec["containers"]:
        container["resources"] = copy.deepcopy(resources)
    return obj

"""Pure facts about one pod dict: kubectl's STATUS (fallback), readiness, restarts, last termination, owner.

Layer: tools.k8s.
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field

from incident_response.tools.k8s.quantity import age_seconds, human_age, parse_time
from incident_response.tools.k8s.views import meta

# STATUS values that mean the pod finished on purpose rather than failing.
FINISHED = {"Completed", "Succeeded"}
NODE_UNREACHABLE_REASON = "NodeLost"


class Termination(BaseModel):
    container: str
    reason: str | None
    exit_code: int | None
    finished_at: str | None


class PodRow(BaseModel):
    name: str
    status: str = Field(description="STATUS exactly as `kubectl get pods` prints it.")
    ready: str = Field(description="READY containers, as kubectl prints it: 1/2.")
    restarts: int
    last_restart_age: str | None = Field(description="How long ago the last restart happened, when known.")
    age: str
    node: str | None
    ip: str | None
    owner: str | None = Field(description="Deployment (or other controller) that owns the pod: deployment/web.")
    last_termination: Termination | None
    problem: bool = Field(description="Not Running with every container ready (finished pods are not problems).")


def containers_ready(pod: dict[str, Any]) -> tuple[int, int]:
    statuses = (pod.get("status") or {}).get("containerStatuses") or []
    total = len((pod.get("spec") or {}).get("containers") or []) or len(statuses)
    return sum(1 for s in statuses if s.get("ready")), total


def restart_count(pod: dict[str, Any]) -> int:
    status = pod.get("status") or {}
    statuses = [*(status.get("initContainerStatuses") or []), *(status.get("containerStatuses") or [])]
    return sum(int(s.get("restartCount") or 0) for s in statuses)


def last_termination(pod: dict[str, Any]) -> Termination | None:
    """The most recent terminated state among containers (current or last)."""
    best: Termination | None = None
    best_time = ""
    for status in (pod.get("status") or {}).get("containerStatuses") or []:
        for state in (status.get("state") or {}, status.get("lastState") or {}):
            terminated = state.get("terminated")
            if not terminated:
                continue
            finished = str(terminated.get("finishedAt") or "")
            if best is None or finished > best_time:
                best_time = finished
                best = Termination(
                    container=str(status.get("name") or ""),
                    reason=terminated.get("reason"),
                    exit_code=terminated.get("exitCode"),
                    finished_at=terminated.get("finishedAt"),
                )
    return best


def last_restart_time(pod: dict[str, Any]) -> str | None:
    times = [
        str(((s.get("lastState") or {}).get("terminated") or {}).get("finishedAt") or "")
        for s in (pod.get("status") or {}).get("containerStatuses") or []
    ]
    latest = max((t for t in times if t), default="")
    return latest or None


def owner_of(pod: dict[str, Any]) -> str | None:
    """deployment/NAME for pods of a Deployment's ReplicaSet (from the pod-template-hash), else KIND/NAME."""
    metadata = pod.get("metadata") or {}
    for ref in metadata.get("ownerReferences") or []:
        if not ref.get("controller"):
            continue
        kind, name = str(ref.get("kind") or ""), str(ref.get("name") or "")
        pod_hash = (metadata.get("labels") or {}).get("pod-template-hash")
        if kind == "ReplicaSet" and pod_hash and name.endswith(f"-{pod_hash}"):
            return f"deployment/{name.removesuffix(f'-{pod_hash}')}"
        return f"{kind.lower()}/{name}"
    return None


WORKLOAD_OWNERS = ("deployment/", "statefulset/", "daemonset/")


def component_of(pod: dict[str, Any]) -> str:
    """The unit an incident is about: the owning Deployment, StatefulSet, DaemonSet or Job, else the app label, else
    the pod itself. A Job's pods are the Job's even when they carry the app's label (a migration Job's failed pods
    are not the app's Deployment failing)."""
    owner = owner_of(pod)
    if owner and owner.startswith((*WORKLOAD_OWNERS, "job/")):
        return owner.split("/", 1)[1]
    labels = meta(pod).labels
    return str(labels.get("app") or labels.get("app.kubernetes.io/name") or meta(pod).name)


def _is_restartable_init(spec: dict[str, Any], name: str) -> bool:
    return any(c.get("name") == name and c.get("restartPolicy") == "Always" for c in spec.get("initContainers") or [])


def failing_init_container(pod: dict[str, Any]) -> str | None:
    """The init container a pod is stuck on (crash-looping, exited non-zero, or waiting on an error): its log, not
    the app container's (which never started), says why. None when the pod is past its init containers."""
    spec, status = pod.get("spec") or {}, pod.get("status") or {}
    if any(c.get("type") == "Initialized" and c.get("status") == "True" for c in status.get("conditions") or []):
        return None
    for container in status.get("initContainerStatuses") or []:
        name = str(container.get("name"))
        state = container.get("state") or {}
        terminated, waiting = state.get("terminated") or {}, state.get("waiting") or {}
        if terminated.get("exitCode") == 0 or (_is_restartable_init(spec, name) and container.get("started")):
            continue
        if (
            terminated
            or int(container.get("restartCount") or 0)
            or waiting.get("reason") not in (None, "PodInitializing")
        ):
            return name
        return None  # the first unfinished one is still starting
    return None


def kubectl_status(pod: dict[str, Any]) -> str:
    """kubectl's STATUS computed from the pod (its printPod logic). Only a fallback: the server-side Table's
    STATUS column is what kubectl actually prints, so callers prefer it whenever the Table is available."""
    spec = pod.get("spec") or {}
    status = pod.get("status") or {}
    reason = str(status.get("reason") or status.get("phase") or "")
    for condition in status.get("conditions") or []:
        if condition.get("type") == "PodScheduled" and condition.get("reason") == "SchedulingGated":
            reason = "SchedulingGated"
    initializing = False
    init_total = len(spec.get("initContainers") or [])
    for index, container in enumerate(status.get("initContainerStatuses") or []):
        state = container.get("state") or {}
        terminated, waiting = state.get("terminated"), state.get("waiting")
        if terminated and terminated.get("exitCode") == 0:
            continue
        if _is_restartable_init(spec, str(container.get("name"))) and container.get("started"):
            continue
        initializing = True
        if terminated:
            if terminated.get("reason"):
                reason = f"Init:{terminated['reason']}"
            elif terminated.get("signal"):
                reason = f"Init:Signal:{terminated['signal']}"
            else:
                reason = f"Init:ExitCode:{terminated.get('exitCode')}"
        elif waiting and waiting.get("reason") and waiting.get("reason") != "PodInitializing":
            reason = f"Init:{waiting['reason']}"
        else:
            reason = f"Init:{index}/{init_total}"
        break
    initialized = any(
        c.get("type") == "Initialized" and c.get("status") == "True" for c in status.get("conditions") or []
    )
    if not initializing or initialized:
        has_running = False
        for container in reversed(status.get("containerStatuses") or []):
            state = container.get("state") or {}
            waiting, terminated = state.get("waiting"), state.get("terminated")
            if waiting and waiting.get("reason"):
                reason = str(waiting["reason"])
            elif terminated and terminated.get("reason"):
                reason = str(terminated["reason"])
            elif terminated:
                signal = terminated.get("signal")
                reason = f"Signal:{signal}" if signal else f"ExitCode:{terminated.get('exitCode')}"
            elif container.get("ready") and state.get("running") is not None:
                has_running = True
        if reason == "Completed" and has_running:
            pod_ready = any(
                c.get("type") == "Ready" and c.get("status") == "True" for c in status.get("conditions") or []
            )
            reason = "Running" if pod_ready else "NotReady"
    metadata = pod.get("metadata") or {}
    if metadata.get("deletionTimestamp"):
        if status.get("reason") == NODE_UNREACHABLE_REASON:
            reason = "Unknown"
        elif status.get("phase") not in ("Succeeded", "Failed"):
            reason = "Terminating"
    return reason


def is_problem(status: str, ready: int, total: int) -> bool:
    if status in FINISHED:
        return False
    return status != "Running" or ready < total


def pod_row(pod: dict[str, Any], now: datetime, *, status: str | None = None) -> PodRow:
    """One row of list_pods. `status` is the Table's STATUS cell when the server provided it."""
    metadata = pod.get("metadata") or {}
    ready, total = containers_ready(pod)
    shown = status if status is not None else kubectl_status(pod)
    restart_at = last_restart_time(pod)
    restart_age = age_seconds(restart_at, now) if restart_at else None
    return PodRow(
        name=str(metadata.get("name")),
        status=shown,
        ready=f"{ready}/{total}",
        restarts=restart_count(pod),
        last_restart_age=human_age(restart_age) if restart_age is not None else None,
        age=human_age(age_seconds(metadata.get("creationTimestamp"), now)),
        node=(pod.get("spec") or {}).get("nodeName"),
        ip=(pod.get("status") or {}).get("podIP"),
        owner=owner_of(pod),
        last_termination=last_termination(pod),
        problem=is_problem(shown, ready, total),
    )


def started_at(pod: dict[str, Any]) -> datetime | None:
    return parse_time(meta(pod).creation_timestamp)


def oom_container(pods: list[dict[str, Any]]) -> str | None:
    """The container most often OOMKilled last in these pods: the one whose limit to raise (often a sidecar)."""
    killed = Counter(
        str(cs.get("name"))
        for pod in pods
        for cs in (pod.get("status") or {}).get("containerStatuses") or []
        if "OOMKilled"
        in (
            ((cs.get("lastState") or {}).get("terminated") or {}).get("reason"),
            ((cs.get("state") or {}).get("terminated") or {}).get("reason"),
        )
    )
    return killed.most_common(1)[0][0] if killed else None

"""A pod's status as the kubelet writes it, built from its runtime state (runtime.py).

Layer: sim (the simulated cluster; apart from the product).
"""

from __future__ import annotations

from incident_response.sim.controllers.common import Obj
from incident_response.sim.controllers.podfactory import qos_class
from incident_response.sim.controllers.runtime import ContainerRuntime, PodRuntime


def build_status(pod: Obj, rt: PodRuntime, now: str) -> Obj:
    """The pod's status from the kubelet's runtime state; `now` dates conditions that change in it."""
    started = any(c.ever_started for c in rt.containers)
    unready = [c.name for c in rt.containers if not c.ready]
    for existing in (pod.get("status") or {}).get("conditions") or []:
        if existing.get("type") == "PodScheduled" and "PodScheduled" not in rt.cond_times:
            rt.cond_times["PodScheduled"] = (
                str(existing.get("status")),
                str(existing.get("lastTransitionTime") or now),
            )
    wanted = [
        ("PodReadyToStartContainers", "True", None),
        ("Initialized", "True", None),
        ("Ready", "True" if rt.ready else "False", None if rt.ready else unready),
        ("ContainersReady", "True" if rt.ready else "False", None if rt.ready else unready),
        ("PodScheduled", "True", None),
    ]
    conditions = []
    for kind, value, names in wanted:
        previous = rt.cond_times.get(kind)
        if previous is None or previous[0] != value:
            rt.cond_times[kind] = (value, now)
        cond: Obj = {
            "type": kind,
            "status": value,
            "lastProbeTime": None,
            "lastTransitionTime": rt.cond_times[kind][1],
        }
        if names:
            cond["reason"] = "ContainersNotReady"
            cond["message"] = f"containers with unready status: [{' '.join(names)}]"
        conditions.append(cond)
    phase = "Running" if started else "Pending"
    if rt.finished:
        codes = [(c.terminated or {}).get("exitCode", 1) for c in rt.containers]
        phase = "Succeeded" if all(code == 0 for code in codes) else "Failed"
        for cond in conditions:
            if cond["type"] in ("Ready", "ContainersReady"):
                cond["reason"] = "PodCompleted"  # as the kubelet words a finished pod's readiness
                cond.pop("message", None)
    status: Obj = {
        "phase": phase,
        "conditions": conditions,
        "hostIP": rt.host_ip,
        "hostIPs": [{"ip": rt.host_ip}],
        "podIP": rt.pod_ip,
        "podIPs": [{"ip": rt.pod_ip}],
        "startTime": rt.start_time,
        "containerStatuses": [container_status(c) for c in rt.containers],
        "qosClass": qos_class(pod.get("spec") or {}),
    }
    return status


def container_status(c: ContainerRuntime) -> Obj:
    if c.state == "running":
        state: Obj = {"running": {"startedAt": c.started_at}}
    elif c.state == "terminated" and c.terminated is not None:
        state = {"terminated": dict(c.terminated)}
    else:
        state = {"waiting": {"reason": c.reason, **({"message": c.message} if c.message else {})}}
    out: Obj = {
        "name": c.name,
        "state": state,
        "lastState": {"terminated": dict(c.last_terminated)} if c.last_terminated else {},
        "ready": c.ready,
        "restartCount": c.restarts,
        "image": c.image,
        "imageID": c.image_id,
        "started": c.state == "running",
    }
    if c.container_id and c.ever_started:
        out["containerID"] = c.container_id
    return out

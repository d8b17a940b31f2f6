"""What fits in place of a rollback that has nowhere to go (one revision kept), from what the workload's pods show.

The refusal used to say "consider scale or isolate instead" whatever the pods did. For a crash loop that is wrong
twice: more replicas of a pod that fails on its own fail the same way, and a pod that is never ready gets no traffic
to isolate. What fits:
  pods OOMKilled            raise the memory limit (set_memory_limit);
  pods crashing             the crashed container's log (get_logs previous=true), then a fixed config or image
                            rolled forward as a new revision;
  pods that never start     their Warning events (list_events): image pull, missing ConfigMap/Secret, no node room;
  pods failing readiness    their Warning events (what the probe answers): scale only if that shows load;
  no pod failing            only then capacity: scale it if load is what hurts (a deployment), isolate it if it
                            harms others.

Layer: tools.playbook.
"""

from __future__ import annotations

from typing import Any

from incident_response.tools.k8s import backends
from incident_response.tools.k8s.podstatus import containers_ready, kubectl_status, restart_count
from incident_response.tools.playbook.investigate import investigation, worst_pod
from incident_response.tools.playbook.suspects import Placement


def call_text(tool: str, arguments: dict[str, Any]) -> str:
    shown = ", ".join(f"{k}={'true' if v is True else repr(v)}" for k, v in arguments.items())
    return f"{tool}({shown})"


def placements(name: str, pods: list[dict[str, Any]]) -> list[Placement]:
    found = []
    for pod in pods:
        if backends.terminating(pod):
            continue
        ready, total = containers_ready(pod)
        status = kubectl_status(pod)
        failing = bool(backends.broken(pod)) or not backends.ready(pod)
        node = (pod.get("spec") or {}).get("nodeName")
        found.append(
            Placement(backends.name_of(pod), name, node, status, failing, f"{ready}/{total}", restart_count(pod))
        )
    return found


def instead(namespace: str, kind: str, name: str, pods: list[dict[str, Any]]) -> str:
    """One sentence: what to do instead of rolling `kind` `name` back, given its pods."""
    if any(backends.oom_killed(p) for p in pods if not backends.terminating(p)):
        memory = {"namespace": namespace, "deployment": name} | ({"kind": kind} if kind != "deployment" else {})
        return (
            f"its pods run out of memory (OOMKilled): raise the memory limit, {call_text('set_memory_limit', memory)} "
            "with the container and limit (assess_namespace proposes both)"
        )
    placed = placements(name, pods)
    worst = worst_pod(placed, name)
    if worst is not None:
        tool, arguments, _ = investigation(namespace, placed, name)
        seen = f"{worst.pod} {worst.status}, {worst.restarts} restarts"
        if worst.restarts:
            return (
                f"its pods crash on their own ({seen}): read why in the crashed container's log, "
                f"{call_text(tool, arguments)}; a corrected config or image, rolled forward as a new revision, is the "
                "fix (more replicas of a pod that crashes on its own crash the same way)"
            )
        if worst.status == "Running":
            return (
                f"its pods run but fail readiness ({seen}): their Warning events say what the probe answers, "
                f"{call_text(tool, arguments)}; scale only if that shows load"
            )
        return (
            f"its pods do not start ({seen}): their Warning events say why, {call_text(tool, arguments)}; fix what "
            "they show (an image that cannot be pulled, a missing ConfigMap or Secret, no node room) and roll forward"
        )
    if kind == "deployment":
        return (
            "none of its pods fails: if load is what hurts, scale it (evaluate_decision with action=SCALE sizes it); "
            "if it harms other services, isolate it (action=ISOLATE)"
        )
    return "none of its pods fails: if it harms other services, isolate it (evaluate_decision with action=ISOLATE)"

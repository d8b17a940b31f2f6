"""INVESTIGATE: the honest next step when pods fail and nothing the framework sees explains it.

No recent deploy is a suspect, nothing shows load, no component names another: every mitigation tool would be a guess
(more replicas of a pod that fails on its own fail the same way). What an on-call engineer does then is read why the
pods fail, so the decision names that read as an exact call:
  a pod that restarted     get_logs(pod, previous=true): the crashed instance's last words;
  a pod that ran and exited (not restarted: a Job's pod)  get_logs(pod): its log is the current one;
  a pod that never ran     list_events(pod/NAME, warnings_only): image pull, scheduling, config errors;
  no pod at all            list_events(warnings_only): FailedCreate from a quota or an admission webhook.

Layer: tools.playbook.
"""

from __future__ import annotations

from typing import Any

from incident_response.tools.playbook.suspects import Placement

EXITED = ("Error", "OOMKilled", "ContainerCannotRun")  # kubectl's STATUS of a pod whose container ran and exited


def worst_pod(placements: list[Placement], component: str) -> Placement | None:
    """The failing pod of `component` whose log says most: most restarts, then by name (stable between reads)."""
    failing = [p for p in placements if p.component == component and p.failing]
    return min(failing, key=lambda p: (-p.restarts, p.pod)) if failing else None


def investigation(namespace: str, placements: list[Placement], component: str) -> tuple[str, dict[str, Any], str]:
    """(tool, arguments, what the read shows) for finding out why `component` fails."""
    pod = worst_pod(placements, component)
    if pod is not None and pod.init_container:
        # Stuck on an init container: the app container never ran; the init container's log says why.
        arguments = {"namespace": namespace, "pod_or_deployment": pod.pod, "container": pod.init_container}
        return (
            "get_logs",
            arguments | ({"previous": True} if pod.restarts else {}),
            f"read the {'previous (crashed) ' if pod.restarts else ''}log of init container {pod.init_container} "
            f"of {pod.pod} ({pod.status}, {pod.restarts} restarts) with get_logs for why it does not finish (the app "
            "container never started)",
        )
    if pod is not None and pod.restarts:
        return (
            "get_logs",
            {"namespace": namespace, "pod_or_deployment": pod.pod, "previous": True},
            f"read the previous (crashed) log of {pod.pod} ({pod.status}, {pod.restarts} restarts) with get_logs "
            "previous=true for why it exits",
        )
    if pod is not None and pod.status in EXITED:
        # It ran and exited, never restarted (restartPolicy Never: a Job's pod): its log is the current one.
        return (
            "get_logs",
            {"namespace": namespace, "pod_or_deployment": pod.pod},
            f"read the log of {pod.pod} ({pod.status}: it ran and exited, not restarted) with get_logs for why it "
            "exits",
        )
    if pod is not None:
        return (
            "list_events",
            {"namespace": namespace, "object": f"pod/{pod.pod}", "warnings_only": True},
            f"read the Warning events of {pod.pod} ({pod.status}, never restarted: no previous log) with list_events "
            "for why it does not start",
        )
    return (
        "list_events",
        {"namespace": namespace, "warnings_only": True},
        f"read the namespace's Warning events with list_events for why {component}'s pods are not created "
        "(FailedCreate: a quota or an admission webhook)",
    )

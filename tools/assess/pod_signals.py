"""What the pods and deployments read say per component, for the playbook's facts: containers the kubelet cannot
create, evicted pods, pods no node takes, replicas missing with no pod to show, and the pods a read left out.

Layer: tools.assess.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from incident_response.tools.assess.pods import FetchedPods
from incident_response.tools.core.errors import truncate
from incident_response.tools.core.masking import mask_text
from incident_response.tools.k8s.attach_waits import AttachWait, attach_waits
from incident_response.tools.k8s.podstatus import PodRow
from incident_response.tools.k8s.pull_failures import pull_refusals
from incident_response.tools.k8s.views import meta


def replaced(row: PodRow) -> bool:
    """A Deployment's pod being deleted is no failure of it: its ReplicaSet no longer counts it and has replaced it
    (a replacement that fails is the problem). On a node whose kubelet is down it stays Terminating for good."""
    return row.status in ("Terminating", "Unknown") and (row.owner or "").startswith(("deployment/", "replicaset/"))


CONFIG_ERRORS = ("CreateContainerConfigError", "CreateContainerError")


def config_errors(pods: list[dict[str, Any]], components: dict[str, str]) -> dict[str, str]:
    """Per component, one pod whose container the kubelet cannot create, with the kubelet's message ("couldn't find
    key PAYMENTS_URL in ConfigMap shop/checkout-config")."""
    found: dict[str, str] = {}
    for pod in pods:
        status = pod.get("status") or {}
        for c in [*(status.get("initContainerStatuses") or []), *(status.get("containerStatuses") or [])]:
            waiting = (c.get("state") or {}).get("waiting") or {}
            if waiting.get("reason") in CONFIG_ERRORS and waiting.get("message"):
                name = str(meta(pod).name)
                found.setdefault(components[name], f"{name}: {waiting['message']} ({waiting['reason']})")
    return found


def pull_errors(events: list[dict[str, Any]], pods: list[dict[str, Any]], components: dict[str, str]) -> dict[str, str]:
    """Per component, one pod whose image pull its registry refused (credentials: pull_failures), as config_errors
    words it ("NAME: Failed to pull image ...: registry HOST answered 401 Unauthorized (...) (ImagePullBackOff)")."""
    found: dict[str, str] = {}
    for name, refusal in pull_refusals(events, pods).items():
        if name in components:
            found.setdefault(components[name], f"{name}: {refusal.text()} (ImagePullBackOff)")
    return found


def waits_by_component(
    events: list[dict[str, Any]], pods: list[dict[str, Any]], components: dict[str, str]
) -> dict[str, AttachWait]:
    """Per component, one pod waiting for a volume attached to another node (Multi-Attach: attach_waits)."""
    found: dict[str, AttachWait] = {}
    for name, wait in attach_waits(events, pods).items():
        if name in components:
            found.setdefault(components[name], wait)
    return found


def evicted_pods(pods: list[dict[str, Any]], components: dict[str, str]) -> dict[str, tuple[int, str]]:
    """Per component, how many of its pods the kubelet evicted (phase Failed, reason Evicted) and one's message."""
    found: dict[str, tuple[int, str]] = {}
    for pod in pods:
        status = pod.get("status") or {}
        if status.get("phase") == "Failed" and status.get("reason") == "Evicted":
            component = components[str(meta(pod).name)]
            count, sample = found.get(component, (0, f"{meta(pod).name}: {status.get('message') or 'Evicted'}"))
            found[component] = (count + 1, sample)
    return found


def unschedulable_pods(pods: list[dict[str, Any]], components: dict[str, str]) -> dict[str, list[str]]:
    """Per component, its Pending pods the scheduler found no node for (PodScheduled False, Unschedulable)."""
    found: dict[str, list[str]] = {}
    for pod in pods:
        status = pod.get("status") or {}
        if status.get("phase") != "Pending":
            continue
        if any(
            c.get("type") == "PodScheduled" and c.get("status") == "False" and c.get("reason") == "Unschedulable"
            for c in status.get("conditions") or []
        ):
            name = str(meta(pod).name)
            found.setdefault(components[name], []).append(name)
    return found


def unavailable_without_failing_pods(deployments: list[dict[str, Any]], failing: set[str]) -> dict[str, int]:
    """Deployments short of available replicas with no failing pod to show for it (pods never created)."""
    found = {}
    for deploy in deployments:
        name = str(meta(deploy).name)
        missing = int((deploy.get("status") or {}).get("unavailableReplicas") or 0)
        if missing and name not in failing:
            found[name] = missing
    return found


def unread_text(fetched: FetchedPods) -> str | None:
    if not fetched.truncated:
        return None
    if fetched.remaining is not None:
        return f"{fetched.remaining} more pods"
    return "more pods (the API did not say how many)"


JOB_ENDS = ("BackoffLimitExceeded", "DeadlineExceeded")


def job_failures(events: list[dict[str, Any]], read_job: Callable[[str], dict[str, Any] | None]) -> dict[str, str]:
    """Job -> 'REASON: MESSAGE' of its Failed condition. The job controller's Warning (events are anyone's to write)
    only says which Job to read: a Job is named failed when its own status says Failed=True (not while it retries)."""
    named = {
        str(involved.get("name"))
        for event in events
        if (involved := event.get("involvedObject") or {}).get("kind") == "Job" and event.get("reason") in JOB_ENDS
    }
    found: dict[str, str] = {}
    for name in sorted(named):
        job = read_job(name) or {}
        conditions = (job.get("status") or {}).get("conditions") or []
        for c in conditions:
            if c.get("type") == "Failed" and c.get("status") == "True":
                text = " ".join(f"{c.get('reason') or 'Failed'}: {c.get('message') or ''}".split())
                found[name] = truncate(mask_text(text), 200)
    return found

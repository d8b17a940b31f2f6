"""The reads behind the ISOLATE rule's "one component poisons others", and what clears a component of it.

A failing pod's Warning events are read for peers it names; when they name nobody, the current log of a few failing
pods that do NOT crash (a poisoned pod runs and fails its readiness) and the previous log of the pods that do (their
crash line is their own cause, quoted as evidence). Which named peer is blamed is tools/playbook/poisoning.py's job.

Layer: tools.assess.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from incident_response.tools.core import errors
from incident_response.tools.core.masking import mask_text
from incident_response.tools.core.secret_echoes import echoed_secrets, mask_echoes
from incident_response.tools.k8s.events import EventGroup
from incident_response.tools.k8s.podstatus import PodRow
from incident_response.tools.k8s.quantity import parse_time
from incident_response.tools.kube.client import Kube
from incident_response.tools.playbook.decision import RecentRollout
from incident_response.tools.playbook.poisoning import crash_line

LOG_SAMPLE_PODS = 3  # failing pods whose logs are searched for a poisoner when events name none
LOG_SAMPLE_LINES = 30
LOG_LIMIT_BYTES = 16 * 1024
CRASH_STATUSES = ("CrashLoopBackOff", "Error", "OOMKilled", "RunContainerError")
RECENT_CRASH = timedelta(hours=1)  # a container that exited this recently still crashes (its back-off runs on)


def crashes_on_its_own(row: PodRow, now: datetime) -> bool:
    """A pod whose container exits on its own (crash loop, error exit, OOM) rather than running and failing its
    readiness: its failure has a cause of its own, so it is no poisoning victim."""
    if any(status in row.status for status in CRASH_STATUSES):
        return True
    ended = row.last_termination
    if ended is None or not ended.exit_code:
        return False
    finished = parse_time(ended.finished_at)
    return finished is not None and now - finished <= RECENT_CRASH


def suspects(rollouts: list[RecentRollout], failing: dict[str, list[str]]) -> dict[str, str]:
    """Components a poisoning may be blamed on, with why, in order of preference: rolled out recently (newest first),
    then failing themselves."""
    why: dict[str, str] = {}
    for rollout in sorted(rollouts, key=lambda r: r.minutes_ago):
        why.setdefault(rollout.deployment, f"rolled out revision {rollout.revision} {rollout.minutes_ago} minutes ago")
    for component, pods in failing.items():
        why.setdefault(component, f"fail themselves ({len(pods)} pods)")
    return why


@dataclass
class LogSample:
    messages: list[tuple[str, str]] = field(default_factory=list)  # (pod, line) of pods that run but fail
    crash_lines: dict[str, str] = field(default_factory=dict)  # component -> "pod crashed with: LINE"


def event_messages(groups: list[EventGroup]) -> list[tuple[str, str]]:
    """(pod, message) of the Warning events about pods."""
    return [
        (g.object.removeprefix("pod/"), g.message)
        for g in groups
        if g.type == "Warning" and g.object.startswith("pod/")
    ]


def sample_logs(
    kube: Kube, namespace: str, problems: list[PodRow], components: dict[str, str], now: datetime
) -> LogSample:
    """Logs of a few failing pods: the current log of those that run (searched for a poisoner), the previous log of
    one crashing pod per component (its crash line). Masked as every log is."""
    sample = LogSample()
    crashing = [row for row in problems if crashes_on_its_own(row, now)]
    running = [row for row in problems if not crashes_on_its_own(row, now)]
    worst: dict[str, PodRow] = {}
    for row in sorted(crashing, key=lambda r: (-r.restarts, r.name)):
        worst.setdefault(components.get(row.name, row.name), row)
    for component, row in list(worst.items())[:LOG_SAMPLE_PODS]:
        text = read_log(kube, namespace, row.name, previous=row.restarts > 0)
        line = crash_line(text) if text else None
        if line is not None:
            sample.crash_lines[component] = f"{row.name} crashed with: {line}"
    for row in running[:LOG_SAMPLE_PODS]:
        text = read_log(kube, namespace, row.name, previous=False)
        sample.messages.extend((row.name, line) for line in (text or "").splitlines())
    return sample


def read_log(kube: Kube, namespace: str, pod: str, *, previous: bool, since_seconds: int | None = None) -> str | None:
    try:
        text = kube.logs(
            pod,
            namespace,
            tail_lines=LOG_SAMPLE_LINES,
            limit_bytes=LOG_LIMIT_BYTES,
            previous=previous,
            since_seconds=since_seconds,
        )
        # The pod's credentials by position (DB_PASSWORD's value) have no shape: masked where the app echoed them.
        held = echoed_secrets(kube.get("pods", pod, namespace).get("spec")) if text else []
    except (errors.ApiError, errors.Timeout):
        return None  # a pod without a readable log (or spec: its echoes unknown) gives no evidence either way
    return mask_text(mask_echoes(text, held)[0])

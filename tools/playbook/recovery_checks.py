"""The five recovery checks of verify_recovery as pure functions over what it read (no I/O), and the verdict.

Each check answers passed True/False, or None when it cannot say (no metrics API, no Service) or the answer is not
in yet (a rollout still bringing pods up). Only a False makes the service DEGRADED; "not settled yet" makes it
RECOVERING, and so does a state younger than the stability window; "blocked" (a paused rollout) is RECOVERING too,
with no time to look again, since waiting alone changes nothing.

Layer: tools.playbook.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Literal

from pydantic import BaseModel, Field

from incident_response.tools.core.masking import mask_text
from incident_response.tools.k8s.backends import addresses
from incident_response.tools.k8s.events import EventGroup, event_time, group_events
from incident_response.tools.k8s.podstatus import PodRow
from incident_response.tools.k8s.quantity import human_age, parse_time
from incident_response.tools.k8s.usage import NEAR_LIMIT_PERCENT, PodUsage
from incident_response.tools.k8s.views import meta
from incident_response.tools.k8s.workloads import RolloutProgress
from incident_response.tools.playbook.service_reach import declared, unreached

CheckName = Literal["pods", "endpoints", "warnings", "resources", "restarts"]
RecoveryVerdict = Literal["RECOVERED", "RECOVERING", "ISOLATED", "DEGRADED"]

MAX_EVIDENCE = 10
MAX_EVIDENCE_CHARS = 240
# A pod still not Ready this long after it was created is failing, not starting (slow starters get this much).
STARTUP_GRACE = timedelta(minutes=3)
# How soon to look again while a rollout is still bringing pods up.
SETTLING_RECHECK = timedelta(minutes=1)
STARTING_STATUSES = {"Pending", "ContainerCreating", "PodInitializing"}
INIT_PROGRESS = re.compile(r"^Init:\d+/\d+$")


class RecoveryCheck(BaseModel):
    name: CheckName
    passed: bool | None = Field(
        description="True/False; None when it could not be checked (the detail says why) or the answer is not in yet."
    )
    detail: str
    evidence: list[str] = Field(description=f"At most {MAX_EVIDENCE} lines; a last line says how many were left out.")


def plural(count: int, noun: str) -> str:
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


def capped(lines: list[str]) -> list[str]:
    """Evidence lines, credentials masked (event messages quote probes, URLs and commands) and bounded."""
    masked = [mask_text(line) for line in lines]
    cut = [line if len(line) <= MAX_EVIDENCE_CHARS else line[: MAX_EVIDENCE_CHARS - 3] + "..." for line in masked]
    if len(cut) <= MAX_EVIDENCE:
        return cut
    return [*cut[: MAX_EVIDENCE - 1], f"... and {len(cut) - MAX_EVIDENCE + 1} more"]


@dataclass
class CheckResult:
    check: RecoveryCheck
    settling: list[str] = field(default_factory=list)  # why stability cannot be judged yet (not failures)
    blocked: list[str] = field(default_factory=list)  # why it cannot settle until a human acts (not failures)


# --- pods ---------------------------------------------------------------------------------------------------------


@dataclass
class PodFacts:
    """One pod of the deployment as the checks see it."""

    row: PodRow
    labels: dict[str, str]
    terminating: bool
    finished: bool
    ready: bool
    recent_exits: list[str]  # "container checkout: Error (exit 1) 40s ago"
    crash_looping: list[str]  # containers waiting in CrashLoopBackOff
    failing: str | None  # why it counts as failing; None when ready or still starting
    ready_since: datetime | None
    ports: dict[int, str] = field(default_factory=dict)  # containerPort -> name, as its containers declare them
    # A previous revision's pod the rollout under way replaces (tools/playbook/rollout_replacing.py): not judged.
    replaced: bool = False

    @property
    def name(self) -> str:
        return self.row.name

    @property
    def active(self) -> bool:
        return not self.terminating and not self.finished and not self.replaced

    @property
    def starting(self) -> bool:
        return self.active and not self.ready and self.failing is None


def _ago(when: datetime, now: datetime) -> str:
    seconds = int((now - when).total_seconds())
    return "just now" if seconds <= 0 else f"{human_age(seconds)} ago"


def exits_since(pod: dict[str, Any], since: datetime, now: datetime) -> list[str]:
    """Container terminations (lastState, or the current state) that finished at or after `since`."""
    status = pod.get("status") or {}
    found = []
    for init, statuses in ((True, status.get("initContainerStatuses")), (False, status.get("containerStatuses"))):
        for container in statuses or []:
            states = [container.get("lastState") or {}, container.get("state") or {}]
            for index, state in enumerate(states):
                terminated = state.get("terminated") or {}
                finished = parse_time(terminated.get("finishedAt"))
                if finished is None or finished < since:
                    continue
                if init and index == 1 and terminated.get("exitCode") == 0:
                    continue  # an init container that completed is the normal start, not a restart
                reason = terminated.get("reason") or "terminated"
                found.append(
                    f"container {container.get('name')}: {reason} (exit {terminated.get('exitCode')}) "
                    f"{_ago(finished, now)}"
                )
    return found


def crash_looping(pod: dict[str, Any]) -> list[str]:
    status = pod.get("status") or {}
    return [
        str(c.get("name"))
        for c in [*(status.get("initContainerStatuses") or []), *(status.get("containerStatuses") or [])]
        if ((c.get("state") or {}).get("waiting") or {}).get("reason") == "CrashLoopBackOff"
    ]


def ready_since(pod: dict[str, Any]) -> datetime | None:
    for condition in (pod.get("status") or {}).get("conditions") or []:
        if condition.get("type") == "Ready" and condition.get("status") == "True":
            return parse_time(condition.get("lastTransitionTime"))
    return None


def pod_facts(pod: dict[str, Any], row: PodRow, now: datetime, window: timedelta) -> PodFacts:
    metadata, status = pod.get("metadata") or {}, pod.get("status") or {}
    terminating = bool(metadata.get("deletionTimestamp"))
    finished = status.get("phase") in ("Succeeded", "Failed")
    ready = row.status == "Running" and not row.problem and not terminating
    exits = exits_since(pod, now - window, now)
    loops = crash_looping(pod)
    created = parse_time(metadata.get("creationTimestamp"))
    young = created is None or now - created < STARTUP_GRACE
    failing = None
    if terminating or finished or ready:
        pass  # a Ready pod that restarted in the window fails the restarts check, not this one
    elif loops:
        failing = f"{row.status}, {plural(row.restarts, 'restart')}"
    elif exits:
        failing = f"{row.status} ({row.ready} ready), {plural(len(exits), 'container exit')} in the window"
    elif not (row.status in STARTING_STATUSES or INIT_PROGRESS.match(row.status) or row.status == "Running"):
        failing = row.status  # ImagePullBackOff, CreateContainerConfigError, OOMKilled, Error...
    elif not young:
        failing = f"{row.status} but not Ready ({row.ready}) at age {row.age}"
    return PodFacts(
        row=row,
        labels={str(k): str(v) for k, v in (metadata.get("labels") or {}).items()},
        terminating=terminating,
        finished=finished,
        ready=ready,
        recent_exits=exits,
        crash_looping=loops,
        failing=failing,
        ready_since=ready_since(pod) if ready else None,
        ports=declared(pod),
    )


def pods_check(
    facts: list[PodFacts],
    desired: int,
    progress: RolloutProgress,
    truncated: bool,
    resume_command: str | None = None,
    waiting_on: str | None = None,
    stuck: str | None = None,
) -> CheckResult:
    """`resume_command` is given when the deployment is paused, `waiting_on` when a human must act otherwise (an
    OnDelete StatefulSet's or DaemonSet's pods to delete): an unfinished rollout then waits on a human. `stuck`: its
    Terminating pods sit on a not-Ready node (only a force delete ends them): it waits on a human too."""
    active = [f for f in facts if f.active]
    ready = [f for f in active if f.ready]
    failing = [f for f in active if f.failing]
    starting = [f for f in active if f.starting]
    terminating = [f for f in facts if f.terminating]
    finished = [f for f in facts if f.finished]
    replaced = [f for f in facts if f.replaced and not f.terminating]
    counts = f"{len(ready)}/{desired} ready ({len(active)} running"
    counts += f", {len(starting)} starting" if starting else ""
    counts += f", {len(replaced)} of the previous revision being replaced" if replaced else ""
    counts += f", {len(terminating)} terminating)" if terminating else ")"
    evidence = [f"{f.name}: {f.failing}" for f in failing]
    evidence += [f"{f.name}: {f.row.status}, starting" for f in starting]
    evidence += [f"{f.name}: left behind as {f.row.status} (not counted)" for f in finished]
    if truncated:
        evidence.insert(0, "pod list truncated: only the pods read were judged")
    settling = []
    if failing or progress.failed:
        passed: bool | None = False
        what = f"{len(failing)} of {len(active)} pods failing" if failing else "rollout failed"
        detail = f"{what}; {counts}; {progress.message}"
    elif progress.done and len(ready) == len(active) == desired and not terminating:
        passed = True
        detail = f"all {desired} pods Running and Ready; rollout of revision {progress.revision} complete"
        if desired == 0:
            detail = f"scaled to 0: no pod is wanted and none runs (revision {progress.revision})"
    elif truncated and progress.done and progress.ready == desired:
        # Not every pod could be listed, so the count comes from the deployment's status (none read is failing).
        passed = True
        detail = (
            f"all {desired} pods Ready by the deployment's status ({len(facts)} of its pods read, none failing); "
            f"rollout of revision {progress.revision} complete"
        )
    elif stuck is not None and terminating:
        # Pods stuck Terminating on a dead node end only by a human's force delete: nothing settles on its own.
        detail = f"not settled, nothing failing: {counts}; {stuck}"
        check = RecoveryCheck(name="pods", passed=None, detail=detail, evidence=capped(evidence))
        return CheckResult(check, blocked=[stuck])
    elif (resume_command is not None or waiting_on is not None) and not progress.done:
        blocked = waiting_on or f"the rollout is paused and will not finish until resumed: {resume_command}"
        detail = f"not settled, nothing failing: {counts}; {blocked}"
        check = RecoveryCheck(name="pods", passed=None, detail=detail, evidence=capped(evidence))
        return CheckResult(check, blocked=[blocked])
    else:
        passed, settling = None, [f"pods {counts}"]
        detail = f"not settled yet, nothing failing: {counts}; {progress.message}"
    return CheckResult(RecoveryCheck(name="pods", passed=passed, detail=detail, evidence=capped(evidence)), settling)


# --- endpoints ----------------------------------------------------------------------------------------------------


def selects(selector: dict[str, str], labels: dict[str, str]) -> bool:
    return bool(selector) and all(labels.get(k) == v for k, v in selector.items())


def endpoints_check(
    deployment: str,
    services: list[tuple[dict[str, Any], dict[str, Any]]],
    facts: list[PodFacts],
    desired: int,
    now: datetime,
) -> CheckResult:
    """`services`: (Service, its Endpoints or {} when it has none) for each Service in front of the deployment."""
    if not services:
        detail = f"no Service selects {deployment}'s pods: no endpoints to check (it serves no Service traffic)"
        return CheckResult(RecoveryCheck(name="endpoints", passed=None, detail=detail, evidence=[]))
    by_name = {f.name: f for f in facts if f.active}
    lines, failures, settling = [], [], []
    for svc, endpoints in services:
        name = str(meta(svc).name)
        selector = {str(k): str(v) for k, v in ((svc.get("spec") or {}).get("selector") or {}).items()}
        ours = {n for n, f in by_name.items() if selects(selector, f.labels)}
        ready = [a.pod for a in addresses(endpoints, "addresses")]
        not_ready = [a.pod for a in addresses(endpoints, "notReadyAddresses")]
        ready_ours = ours & set(ready)
        if by_name and not ours and not ready and not not_ready:
            # The Service of its name selects none of its pods nor any other (a selector edited wrong); one that
            # still serves other pods while these are taken out of it is an isolation, judged as such.
            shown = ",".join(f"{k}={v}" for k, v in sorted(selector.items()))
            failures.append(f"service {name} selects none of {deployment}'s pods (its selector: {shown})")
            lines.append(f"service {name}: selects none of {deployment}'s pods")
            continue
        line = f"service {name}: {len(ready_ours)}/{len(ours)} of its pods ready in endpoints"
        if len(ready) != len(ready_ours) or len(not_ready):
            line += f" ({len(ready)} ready, {len(not_ready)} not ready addresses in all)"
        lines.append(line)
        # Ready pods, endpoints or none, and no port of theirs may get the traffic: a failure, or a note to check.
        reach = unreached(svc, [by_name[n].ports for n in sorted(ours) if by_name[n].ready], now)
        if reach is not None:
            (failures if reach.failed else lines).append(reach.text)
        if not ready and (reach is None or not reach.failed):
            scaled = f" ({deployment} is scaled to 0)" if desired == 0 else ""
            failures.append(f"service {name} has no ready endpoints: it sends traffic nowhere{scaled}")
        for pod in sorted(ours & set(not_ready)):
            if by_name[pod].failing:
                failures.append(f"service {name}: {pod} not ready ({by_name[pod].failing})")
            else:
                settling.append(f"service {name}: {pod} not ready yet (starting)")
        missing = sorted(n for n in ours - ready_ours if by_name[n].ready)
        if missing:
            settling.append(f"service {name}: ready pods not in its endpoints yet: {', '.join(missing)}")
    evidence = capped(failures + settling + lines)
    if failures:
        check = RecoveryCheck(name="endpoints", passed=False, detail="; ".join(failures[:3]), evidence=evidence)
        return CheckResult(check)
    if settling:
        check = RecoveryCheck(
            name="endpoints", passed=None, detail="not settled yet: " + settling[0], evidence=evidence
        )
        return CheckResult(check, settling[:1])
    return CheckResult(RecoveryCheck(name="endpoints", passed=True, detail="; ".join(lines[:3]), evidence=evidence))


# --- warnings -----------------------------------------------------------------------------------------------------


def warning_groups(
    events: list[dict[str, Any]],
    deployment: str,
    replicasets: list[str],
    facts: list[PodFacts],
    now: datetime,
    window: timedelta,
) -> tuple[list[EventGroup], int]:
    """(groups of the window's Warning events about the deployment, its ReplicaSets and its current pods, how many
    were about its pods that are gone or terminating). Those pods were replaced: what they said is history."""
    kept, gone = sort_warnings(events, deployment, replicasets, facts)
    ignored = sum(g.count for g in group_events(gone, now, window))
    return group_events(kept, now, window), ignored


def sort_warnings(
    events: list[dict[str, Any]], deployment: str, replicasets: list[str], facts: list[PodFacts]
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(events about the deployment, its ReplicaSets and its current pods; about its pods gone or terminating)."""
    current = {f.name for f in facts if not f.terminating and not f.replaced}
    kept, gone = [], []
    for event in events:
        involved = event.get("involvedObject") or event.get("regarding") or {}
        kind, name = str(involved.get("kind")), str(involved.get("name"))
        if (
            (kind == "Deployment" and name == deployment)
            or (kind == "ReplicaSet" and name in replicasets)
            or (kind == "Pod" and name in current)
        ):
            kept.append(event)
        elif kind == "Pod" and any(name.startswith(f"{rs}-") for rs in replicasets):
            gone.append(event)
    return kept, gone


def replaced_warned_at(
    events: list[dict[str, Any]],
    deployment: str,
    replicasets: list[str],
    facts: list[PodFacts],
    now: datetime,
    window: timedelta,
) -> datetime | None:
    """When a pod of it already replaced last warned, inside the window: the current state began no earlier. A
    rollback nobody here made (by hand, or ours whose outcome is unknown) starts no window of its own, and its
    surviving pods may have been Ready for weeks: their age would call a failure of seconds ago stable."""
    _, gone = sort_warnings(events, deployment, replicasets, facts)
    times = [when for event in gone if (when := event_time(event)) is not None and now - window <= when <= now]
    return max(times, default=None)


def warnings_check(
    groups: list[EventGroup],
    ignored: int,
    window_minutes: int,
    truncated: bool = False,
    read_limit: int = 0,
    earlier: int = 0,
    since: str = "",
) -> CheckResult:
    """`groups`: Warning events of the window about the deployment, its ReplicaSets and its current pods, only
    those `since` the current state began when it began inside the window; `earlier`: those before it; `ignored`:
    those about pods already gone or terminating (the mitigation replaced them); `truncated`: the namespace held
    more than the `read_limit` Warning events read, so the rest were not seen."""
    total = sum(g.count for g in groups)
    note = f"; {earlier} more from before then, not counted" if earlier else ""
    note += f"; {ignored} more about pods already replaced (not counted)" if ignored else ""
    partial = f"only the first {read_limit} Warning events of the namespace could be read"
    if truncated:
        note += f"; {partial}"
    evidence = capped([f"{g.reason} {g.object} x{g.count} ({g.last_seen} ago): {g.message}" for g in groups])
    if groups:
        newest = groups[0]
        when = f"since {since}" if since else f"in the last {window_minutes}m"
        detail = f"{plural(total, 'Warning event')} {when}, newest {newest.reason} on {newest.object}"
        return CheckResult(RecoveryCheck(name="warnings", passed=False, detail=detail + note, evidence=evidence))
    if truncated:
        # The unread events may be the newest ones: "none" would be a guess.
        detail = f"not judged: {partial} and none of them is about it in the last {window_minutes}m; read its "
        detail += "pods' own with list_events(object='pod/<name>', warnings_only=True)"
        return CheckResult(RecoveryCheck(name="warnings", passed=None, detail=detail, evidence=[]))
    detail = f"no Warning events {f'since {since}' if since else f'in the last {window_minutes}m'}" + note
    return CheckResult(RecoveryCheck(name="warnings", passed=True, detail=detail, evidence=[]))


# --- resources ----------------------------------------------------------------------------------------------------


def resources_check(usage: list[PodUsage] | None, missing_reason: str) -> CheckResult:
    """`usage` of the deployment's running pods, or None when no metrics could be read (`missing_reason` says why)."""
    if usage is None:
        return CheckResult(RecoveryCheck(name="resources", passed=None, detail=missing_reason, evidence=[]))
    measured = [u for u in usage if u.cpu_cores is not None]
    limited = [u for u in measured if u.cpu_percent_of_limit is not None or u.memory_percent_of_limit is not None]
    if not limited:
        why = "no metrics for its pods yet" if not measured else "its pods set no CPU or memory limit"
        detail = f"usage not judged: {why}, so there is no limit to compare with"
        return CheckResult(RecoveryCheck(name="resources", passed=None, detail=detail, evidence=[]))
    high = []
    for u in limited:
        if (u.cpu_percent_of_limit or 0) >= NEAR_LIMIT_PERCENT:
            high.append(f"{u.name} cpu {u.cpu} of limit {u.cpu_limit} ({u.cpu_percent_of_limit}%)")
        if (u.memory_percent_of_limit or 0) >= NEAR_LIMIT_PERCENT:
            high.append(f"{u.name} memory {u.memory} of limit {u.memory_limit} ({u.memory_percent_of_limit}%)")
    cpu = max(limited, key=lambda u: u.cpu_percent_of_limit or 0)
    mem = max(limited, key=lambda u: u.memory_percent_of_limit or 0)
    peak = (
        f"highest cpu {cpu.cpu_percent_of_limit}% of limit ({cpu.name}), "
        f"memory {mem.memory_percent_of_limit}% ({mem.name})"
    )
    unmeasured = len(usage) - len(measured)
    peak += f"; {plural(unmeasured, 'pod')} without metrics yet" if unmeasured else ""
    if high:
        detail = f"{len(high)} at or above {NEAR_LIMIT_PERCENT}% of a limit; {peak}"
        return CheckResult(RecoveryCheck(name="resources", passed=False, detail=detail, evidence=capped(high)))
    detail = f"all {len(limited)} measured pods below {NEAR_LIMIT_PERCENT}% of their limits; {peak}"
    return CheckResult(RecoveryCheck(name="resources", passed=True, detail=detail, evidence=[]))


# --- restarts -----------------------------------------------------------------------------------------------------


def restarts_check(facts: list[PodFacts], window_minutes: int) -> CheckResult:
    active = [f for f in facts if f.active]
    cycling = [f for f in active if f.recent_exits or f.crash_looping]
    total = sum(f.row.restarts for f in active)
    if cycling:
        evidence = []
        for f in cycling:
            looping = f"CrashLoopBackOff ({', '.join(f.crash_looping)}); " if f.crash_looping else ""
            restarts = plural(f.row.restarts, "restart")
            evidence.append("; ".join([f"{f.name}: {looping}{restarts}", *f.recent_exits[:2]]))
        detail = f"{len(cycling)} of {len(active)} pods restarted in the last {window_minutes}m or are crash-looping"
        return CheckResult(RecoveryCheck(name="restarts", passed=False, detail=detail, evidence=capped(evidence)))
    detail = f"no container restarted in the last {window_minutes}m"
    if total:
        detail += f" ({total} older restarts in all, no longer increasing)"
    return CheckResult(RecoveryCheck(name="restarts", passed=True, detail=detail, evidence=[]))


# --- verdict ------------------------------------------------------------------------------------------------------


def verdict_of(
    checks: list[RecoveryCheck],
    settling: list[str],
    stable_since: datetime | None,
    now: datetime,
    window: timedelta,
    blocked: Sequence[str] = (),
) -> tuple[RecoveryVerdict, datetime | None]:
    """(verdict, when to check again). Any failed check: DEGRADED, act rather than wait. Blocked on a human:
    RECOVERING with no time to check again. Still settling, or a state younger than the window: RECOVERING.
    Otherwise RECOVERED."""
    if any(c.passed is False for c in checks):
        return "DEGRADED", None
    if blocked:
        return "RECOVERING", None
    if settling:
        return "RECOVERING", now + min(SETTLING_RECHECK, window)
    if stable_since is not None and now - stable_since < window:
        return "RECOVERING", stable_since + window
    return "RECOVERED", None

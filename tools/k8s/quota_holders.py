"""What fills a ResourceQuota: the workloads whose pods hold the most of the resource it ran out of (review-assist7
H12). "Raise the quota" is one answer; the on-call engineer's other is "8 hung nightly-report pods hold 8 of the 26:
delete those Jobs". Pure: the pods and the quota come from the caller's reads.

A pod is charged while it is not Succeeded or Failed (the quota controller's rule) and the quota's scopes take it.
Pods are grouped by what owns them: a Deployment (through its ReplicaSet), StatefulSet, DaemonSet or Job; the Jobs a
CronJob names `<name>-<minutes since the epoch>` are one group (its runs pile up when they hang); a pod of no
controller stands alone.

Layer: tools.k8s.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from incident_response.tools.k8s.podstatus import owner_of
from incident_response.tools.k8s.quantity import human_age, parse_time
from incident_response.tools.k8s.quotas import amount_text, pod_charge, quota_scopes_take
from incident_response.tools.k8s.views import meta

CRONJOB_RUN = re.compile(r"^(?P<cronjob>.+)-\d{8,}$")  # the CronJob controller's Job name: NAME-<scheduled minute>
TERMINAL = ("Succeeded", "Failed")
COUNTS = ("pods", "count/pods")
SHOWN = 3
BATCH = ("Jobs ", "Job ", "pod ")  # groups that serve no traffic: freeing them costs no capacity


@dataclass(frozen=True)
class Holder:
    """One workload's share of a quota'd resource."""

    what: str  # "deployment web", "Jobs nightly-report-*", "pod debug-shell"
    pods: int
    each: float | None  # what one pod charges (None: its pods differ)
    total: float
    oldest: datetime | None  # the earliest start of its pods

    def text(self, key: str, now: datetime) -> str:
        """'Jobs nightly-report-* 8 pods (oldest 2h)', 'deployment web 6 pods x 200m = 1200m'."""
        count = f"{self.pods} pod{'s' if self.pods != 1 else ''}"
        if key not in COUNTS:
            each = amount_text(key, self.each) if self.each is not None else "mixed"
            count += f" x {each} = {amount_text(key, self.total)}"
        age = ""
        if self.what.startswith(BATCH) and self.oldest is not None:
            age = f" (oldest {human_age(max(0, int((now - self.oldest).total_seconds())))})"
        return f"{self.what} {count}{age}"


def holder_of(pod: dict[str, Any]) -> str:
    owner = owner_of(pod)
    if owner is None:
        return f"pod {meta(pod).name}"
    kind, _, name = owner.partition("/")
    if kind == "job" and (run := CRONJOB_RUN.match(name)) is not None:
        return f"Jobs {run.group('cronjob')}-*"
    return f"{'Job' if kind == 'job' else kind} {name}"


def holders(quota: dict[str, Any] | None, key: str, pods: list[dict[str, Any]], *, leave_out: str = "") -> list[Holder]:
    """Who holds `key` of the quota, most first (a batch group before a serving one that holds as much).
    `quota`: the ResourceQuota whose scopes choose the pods (None: not read, every pod it could charge);
    `leave_out`: the workload asking for room ("deployment web"): its own pods are not room to free for it."""
    groups: dict[str, list[tuple[float, datetime | None]]] = {}
    for pod in pods:
        spec, status = pod.get("spec") or {}, pod.get("status") or {}
        if status.get("phase") in TERMINAL or (quota is not None and not quota_scopes_take(quota, spec)):
            continue
        charge = pod_charge(spec).get(key)
        what = holder_of(pod)
        if not charge or what == leave_out:
            continue
        started = parse_time(status.get("startTime")) or parse_time(meta(pod).creation_timestamp)
        groups.setdefault(what, []).append((charge, started))
    found = []
    for what, held in groups.items():
        charges = {round(c, 6) for c, _ in held}
        starts = [s for _, s in held if s is not None]
        each = held[0][0] if len(charges) == 1 else None
        found.append(Holder(what, len(held), each, sum(c for c, _ in held), min(starts, default=None)))
    return sorted(found, key=lambda h: (-round(h.total, 6), not h.what.startswith(BATCH), h.what))


def holders_text(
    quota: dict[str, Any] | None, key: str, pods: list[dict[str, Any]], now: datetime, *, leave_out: str = ""
) -> str:
    """'what holds it: Jobs nightly-report-* 8 pods (oldest 2h), deployment checkout 4 pods, ...' (the SHOWN
    largest), or '' when no pod read holds any of it."""
    found = holders(quota, key, pods, leave_out=leave_out)
    if not found:
        return ""
    shown = ", ".join(h.text(key, now) for h in found[:SHOWN])
    more = f" and {len(found) - SHOWN} more" if len(found) > SHOWN else ""
    return f"what holds it: {shown}{more}"

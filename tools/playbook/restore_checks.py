"""Whether what a temporary measure answered is gone, before restore_measure plans putting things back.

Restoring an HPA's max while the load still needs the raised one recreates the outage; so does ending an isolation
while the pods it isolated still run, or uncordoning a node that is still NotReady. For each kind of measure,
"gone" means:
- override_hpa: the HPA's own formula fits within the restored max (its utilization, spread over the restored max,
  stays within its target's tolerance);
- scale_deployment: the CPU its pods use now, spread over the old count, stays below the near-limit share of a
  pod's CPU limit (usage at the limit is a floor on demand, so this errs towards holding);
- set_memory_limit: no pod of the deployment uses the memory the old limit allows (it would be OOMKilled again);
- isolate_network and remove_pods_from_service: none of the pods it cut off still runs (replaced, scaled away);
- patch_service_selector: the pods it routed the traffic away from (the old selector's, not the current one's) no
  longer run, and the old selector has Ready pods to take the traffic back;
- switch_ingress_backend: likewise for the old backend Service (its pods that the current backend's are not);
- cordon_node and drain_node: the node is Ready with no pressure condition.
Each function returns what it saw that says the condition holds (empty: gone), or raises nothing: what it cannot
see it says in `unchecked` lines, which the plan carries as warnings without refusing. Pure: facts in, lines out.

Layer: tools.playbook.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from incident_response.tools.k8s.hpa_load import TOLERANCE, HpaLoad
from incident_response.tools.k8s.oom_runs import LEAK, PEAK, said
from incident_response.tools.k8s.quantity import cpu_text, memory_text
from incident_response.tools.k8s.usage import NEAR_LIMIT_PERCENT

MAX_NAMES = 5
PRESSURE = ("MemoryPressure", "DiskPressure", "PIDPressure", "NetworkUnavailable")


@dataclass
class Findings:
    holds: list[str] = field(default_factory=list)  # the condition the measure answered is still there
    unchecked: list[str] = field(default_factory=list)  # what could not be seen
    # A hold in a few words (its numbers and what to do), for the plan's warning brief (tools/core/plan_warnings.py);
    # a hold without one is said whole.
    briefs: dict[str, str] = field(default_factory=dict)

    def hold(self, line: str, brief: str) -> None:
        self.holds.append(line)
        self.briefs[line] = brief

    def merge(self, other: Findings) -> Findings:
        """These findings and `other`'s."""
        self.holds += other.holds
        self.unchecked += other.unchecked
        self.briefs |= other.briefs
        return self


@dataclass(frozen=True)
class PodState:
    name: str
    uid: str
    ready: bool
    running: bool


def names(pods: Sequence[str]) -> str:
    shown = ", ".join(sorted(pods)[:MAX_NAMES])
    return shown + (f" and {len(pods) - MAX_NAMES} more" if len(pods) > MAX_NAMES else "")


def hpa_restore(load: HpaLoad, old_max: int) -> Findings:
    found = Findings()
    if not load.utilization:
        found.unchecked.append(
            f"the load was not checked: HPA {load.name} reports no utilization (no metrics yet, or no Resource "
            "utilization target); look at list_hpas and top_pods before confirming"
        )
        return found
    needed = load.needed() or 0
    spread = [(u, math.ceil(u.current * load.current / old_max)) for u in load.utilization if u.target and old_max > 0]
    over = [(u, after) for u, after in spread if after > u.target * (1 + TOLERANCE)]
    if over and needed > old_max:
        after = ", ".join(f"{u.resource} about {pct}% of requests (target {u.target}%)" for u, pct in over)
        found.hold(
            f"{load.text()}: its own formula asks for {needed} replicas, and restoring max {old_max} caps it at "
            f"{old_max}, {after} on each: the load the override answered is still there",
            f"HPA {load.name} asks for {needed} replicas; max {old_max} leaves {after} on each: the load is still "
            "there",
        )
    return found


def memory_restore(container: str, old_limit: float | None, usage: dict[str, float] | None) -> Findings:
    """`usage`: memory bytes of `container` in each running pod of the deployment (None: no metrics)."""
    found = Findings()
    if old_limit is None:
        return found  # restoring "no limit" cannot OOMKill anything
    if usage is None:
        found.unchecked.append(
            f"memory use was not checked (no metrics API): compare container {container}'s use with "
            f"{memory_text(old_limit)} (top_pods) before confirming"
        )
        return found
    near = {pod: used for pod, used in usage.items() if used >= old_limit * NEAR_LIMIT_PERCENT / 100}
    if near:
        top = max(near.values())
        found.hold(
            f"container {container} uses up to {memory_text(top)} in {len(near)} of {len(usage)} pods "
            f"({names(list(near))}), at or above {NEAR_LIMIT_PERCENT}% of the old limit {memory_text(old_limit)}: "
            "they would be OOMKilled again",
            f"{container} uses up to {memory_text(top)} in {len(near)} of {len(usage)} pods, over "
            f"{NEAR_LIMIT_PERCENT}% of the old limit {memory_text(old_limit)}: OOMKilled again",
        )
    return found


def leak_restore(found: Findings, summary: str, revision_then: Any, revision_now: Any) -> Findings:
    """A raise its plan made for kills after hours of running (tools/k8s/oom_runs.py): the pods use little right after
    its restart, or between peaks. A leak's memory climbs back past the old limit as they run: it holds until a later
    revision than the raise's own runs (a fix rolled out: its memory is then what the usage check above sees). A peak
    comes back whatever runs: it holds. Either of the two holds like a leak, saying how to tell them apart."""
    reading = said(summary)
    if reading is None:
        return found
    later = str(revision_then).isdigit() and str(revision_now).isdigit() and int(revision_now) > int(revision_then) + 1
    if reading == PEAK:
        found.hold(
            f"the raise answered {PEAK} (its plan: pods killed together after runs of different lengths): they use "
            "less between peaks, and the old limit is OOMKilled again at the next one; keep the raise (put it in the "
            "manifest) unless that load is gone",
            f"the raise answered {PEAK}: the old limit is OOMKilled at the next one; keep the raise unless that load "
            "is gone",
        )
    elif not later:
        when = (
            "once a version without the leak runs"
            if reading == LEAK
            else "once their memory over time (or a fixed version) shows the old limit holds at peak traffic"
        )
        found.hold(
            f"the raise answered {reading} (its plan: each killed run lasted hours), and no revision has rolled out "
            f"since it: memory grows back past the old limit as the pods run, however little they use now; restore "
            f"{when}",
            f"the raise answered {reading}, no revision since: memory grows back past the old limit; restore {when}",
        )
    return found


def still_running(what: str, pods: Sequence[PodState], cut_uids: set[str], undo: str) -> Findings:
    """An isolation or a removal from a Service: the pods it would let traffic reach again (`cut_uids`: the very
    pods it cut off, as its plan recorded them)."""
    found = Findings()
    running = [p for p in pods if p.running]
    if not running:
        return found
    same = [p.name for p in running if p.uid in cut_uids]
    others = [p.name for p in running if p.uid not in cut_uids]
    parts, short = [], []
    if same:
        parts.append(f"{len(same)} of the pods it cut off still run ({names(same)})")
        short.append(f"{len(same)} cut-off pods run ({names(same)})")
    if others:
        parts.append(f"{len(others)} other pod(s) match it now ({names(others)})")
        short.append(f"{len(others)} others match ({names(others)})")
    found.hold(
        f"{what}: {' and '.join(parts)}; {undo} sends them traffic again. Replace or remove them first "
        "(rollback_deployment, delete_pod, scale_deployment)",
        f"{what}: {', '.join(short)}: replace or remove them before {undo}",
    )
    return found


def backend_restore(what: str, pods: Sequence[PodState]) -> Findings:
    """A Service or Ingress sent back to its old backend: it must have Ready pods to take the traffic."""
    found = Findings()
    running = [p for p in pods if p.running]
    ready = [p for p in running if p.ready]
    if not ready:
        found.holds.append(f"{what} has no Ready pod ({len(running)} running): restoring sends the traffic nowhere")
    elif len(ready) < len(running):
        failing = [p.name for p in running if not p.ready]
        found.holds.append(
            f"{what}: {len(failing)} of its {len(running)} pods are not Ready ({names(failing)}): the old "
            "backend is still unhealthy"
        )
    return found


def node_restore(node: dict[str, Any]) -> Findings:
    found = Findings()
    name = str((node.get("metadata") or {}).get("name"))
    bad = []
    for condition in (node.get("status") or {}).get("conditions") or []:
        kind, status = condition.get("type"), condition.get("status")
        if (kind == "Ready" and status != "True") or (kind in PRESSURE and status == "True"):
            reason = condition.get("reason") or condition.get("message") or ""
            detail = f"{kind}={status}" + (f", {reason}" if reason else "")
            bad.append(f"NotReady ({detail})" if kind == "Ready" else detail)
    if bad:
        found.holds.append(f"node {name} is still {', '.join(bad)}: pods scheduled there would fail")
    return found


def scale_restore(
    deployment: str, old: int, pods: Sequence[PodState], cpu_used: float | None, cpu_limit: float | None
) -> Findings:
    """`cpu_used`: cores its running pods use in all now (None: no metrics); `cpu_limit`: a pod's (None: none)."""
    found = Findings()
    running = [p for p in pods if p.running]
    if cpu_used is None or cpu_limit is None or old <= 0:
        if cpu_used is None:
            found.unchecked.append(
                f"the load was not checked (no metrics API): compare deployment {deployment}'s CPU use (top_pods) "
                f"with what {old} replicas can carry before confirming"
            )
        return found
    each = cpu_used / old
    if each >= cpu_limit * NEAR_LIMIT_PERCENT / 100:
        found.hold(
            f"deployment {deployment}'s {len(running)} pods use {cpu_text(cpu_used)} CPU in all: spread over {old} "
            f"replicas that is {cpu_text(each)} each, at or above {NEAR_LIMIT_PERCENT}% of the {cpu_text(cpu_limit)} "
            "limit: the load the scale answered is still there",
            f"{len(running)} pods use {cpu_text(cpu_used)} CPU: {old} replicas run {cpu_text(each)} each, over "
            f"{NEAR_LIMIT_PERCENT}% of the {cpu_text(cpu_limit)} limit: the load is still there",
        )
    return found

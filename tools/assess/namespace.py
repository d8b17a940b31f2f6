"""assess_namespace: the playbook's rapid state assessment in one call, and the ONE primary action it points to.

The namespace is read in tools/assess/observation.py, its problems ranked and their decisions completed in
tools/assess/ranked_decisions.py; this module states the result and records the decision on the timeline.

Layer: tools.assess.
"""

from __future__ import annotations

import logging
import sqlite3
from collections import Counter
from typing import Annotated, Any

from pydantic import BaseModel, Field, PrivateAttr

from incident_response.tools.assess.demand import NodeRoom
from incident_response.tools.assess.denied_first import denied_first
from incident_response.tools.assess.hpas import HpaRow, hpa_row
from incident_response.tools.assess.impacts import mitigated_components
from incident_response.tools.assess.observation import observe_namespace
from incident_response.tools.assess.own_rollouts import own_templates, without_own_rollouts
from incident_response.tools.assess.quota_first import QuotaFirst
from incident_response.tools.assess.ranked_decisions import ranked
from incident_response.tools.assess.ruled_out import with_rulings
from incident_response.tools.core.collection import collection_held
from incident_response.tools.core.models import ToolResult
from incident_response.tools.engine.deps import Deps
from incident_response.tools.engine.rollback_answers import rulings
from incident_response.tools.k8s.changes import Change
from incident_response.tools.k8s.events import EventGroup
from incident_response.tools.k8s.podstatus import PodRow
from incident_response.tools.k8s.usage import PodUsage
from incident_response.tools.kube.client import Kube
from incident_response.tools.playbook.decision import Action, Decision, RecentRollout
from incident_response.tools.playbook.ranking import Problem

logger = logging.getLogger(__name__)

MAX_PROBLEM_PODS = 20
MAX_RECORDED_EVIDENCE = 5
MAX_TOP = 5
MAX_LISTED_ROLLOUTS = 10
MAX_LISTED_CHANGES = 8
MAX_LISTED_HPAS = 10
MAX_WARNING_REASONS = 10
MAX_LISTED_PROBLEMS = 10


class WarningReason(BaseModel):
    reason: str
    count: int
    objects: list[str] = Field(description="Up to five objects the warnings are about.")
    latest_message: str


class Assessment(ToolResult):
    namespace: str
    primary_action: Action
    decision: Decision = Field(description="The framework's decision for problems[0], the worst for users.")
    problems: list[Problem] = Field(
        default_factory=list,
        description=f"Every problem found, worst for users first (at most {MAX_LISTED_PROBLEMS}; problems_total "
        "counts them all), each with the action the framework picks for it.",
    )
    problems_total: int = 0
    pods_total: int
    status_counts: dict[str, int]
    problem_pods: list[PodRow] = Field(description="Pods not Running and ready, worst first (capped).")
    recent_rollouts: list[RecentRollout] = Field(
        description=f"Deployments rolled out in the last 2 hours (or unfinished), failing ones then newest first "
        f"(at most {MAX_LISTED_ROLLOUTS})."
    )
    recent_rollouts_total: int = Field(description="How many deployments rolled out in the last 2 hours in all.")
    recent_changes: list[str] = Field(
        default_factory=list, description="Other changes of the last 2 hours, newest first: what, when, who."
    )
    metrics_available: bool
    top_cpu: list[PodUsage]
    top_memory: list[PodUsage]
    hpas_at_max: list[HpaRow] = Field(description=f"HPAs at their maximum replicas (at most {MAX_LISTED_HPAS}).")
    hpas_at_max_total: int
    warnings: list[WarningReason] = Field(description="Warning events of the last hour grouped by reason.")
    not_readable: list[str] = Field(
        default_factory=list,
        description="What these credentials may not read (forbidden): blind spots of the assessment.",
    )
    # The changes with their times, for incident_handoff's timeline (not part of the result).
    _changes: list[Change] = PrivateAttr(default_factory=list)


def warning_reasons(groups: list[EventGroup]) -> list[WarningReason]:
    by_reason: dict[str, WarningReason] = {}
    for group in groups:
        if group.type != "Warning":
            continue
        entry = by_reason.setdefault(
            group.reason, WarningReason(reason=group.reason, count=0, objects=[], latest_message=group.message)
        )
        entry.count += group.count
        if group.object not in entry.objects and len(entry.objects) < 5:
            entry.objects.append(group.object)
    return sorted(by_reason.values(), key=lambda w: -w.count)[:MAX_WARNING_REASONS]


def assess_namespace(
    deps: Deps,
    namespace: Annotated[str, Field(description="Namespace of the incident.")],
) -> Assessment:
    """Rapid state assessment in one call: failing pods with kubectl's STATUS, deployments rolled out in the last 2
    hours, top CPU/memory against limits, HPAs at max, recent Warning events; then ONE primary action (ROLLBACK,
    SCALE, ISOLATE, INVESTIGATE or NONE) by the playbook's decision framework, with its evidence and the next tool to
    call.
    Call this first. It changes nothing in the cluster; its decision is noted on the incident's timeline."""
    assessment = build_assessment(deps.kube, namespace, deps)
    record_decision(deps, namespace, assessment.decision)
    return assessment


def record_decision(deps: Deps, namespace: str, decision: Decision) -> None:
    """Put the decision on the incident's timeline when it differs from the last one recorded for this namespace:
    once the mitigation works, a fresh assessment says NONE, and the handoff must still say what the response was
    based on. Bookkeeping like the server's tool-call log: a journal that cannot be written does not fail the call."""
    detail: dict[str, Any] = {
        "namespace": namespace,
        "primary_action": decision.primary_action,
        "rule": decision.rule,
        "target": decision.target,
        "next_tool": decision.next_tool,
        "reason": decision.reason,
        "evidence": decision.evidence[:MAX_RECORDED_EVIDENCE],
        "cluster": deps.cluster_record(),
    }
    key = ("primary_action", "rule", "target")
    try:
        journal = deps.journal
        incident = journal.current_incident(namespace)
        previous = [e.detail or {} for e in journal.events(incident=incident) if e.kind == "assessed"]
        last = next(
            (d for d in reversed(previous) if (d.get("namespace"), d.get("cluster")) == (namespace, detail["cluster"])),
            None,
        )
        if last is None or [last.get(k) for k in key] != [detail[k] for k in key]:
            journal.record_event("assessed", incident=incident, detail=detail)
    except (OSError, sqlite3.Error) as e:
        logger.warning("could not record the assessment of %s: %s", namespace, e)


def build_assessment(kube: Kube, namespace: str, deps: Deps | None = None) -> Assessment:
    """The assessment itself: reads only, records nothing (incident_handoff uses it as it stands now). With `deps`,
    problems a mitigation of the current incident acted on rank after the others."""
    # The collector is held until the read's objects are freed with the call: held for the read alone, the first
    # collections after it examine every pod still kept (tools.core.collection).
    with collection_held():
        return assessment_of(kube, namespace, deps)


def assessment_of(kube: Kube, namespace: str, deps: Deps | None) -> Assessment:
    seen = observe_namespace(kube, namespace, deps.settings.namespaces if deps is not None else ())
    mitigated = mitigated_components(deps, seen) if deps is not None else frozenset()
    judged = without_own_rollouts(seen, own_templates(deps, namespace)) if deps is not None else seen
    judged = with_rulings(judged, rulings(deps, namespace)) if deps is not None else judged
    quota = QuotaFirst(kube, namespace, seen.deployments, seen.hpas, seen.pods, seen.now)
    decision, ranking = ranked(judged, mitigated, NodeRoom(kube), quota)
    denied = denied_first(deps, seen, decision) if deps is not None else decision
    if denied is not decision and ranking:
        ranking[0][0].next_tool = None  # the problem says no tool either: the human answers first
    decision = denied
    rows = seen.rows
    problems = [row for row in rows if row.problem]
    counts = Counter(row.status for row in rows)
    summary = f"{decision.primary_action}: {decision.reason}"
    if decision.next_tool:
        summary += f". Next: {decision.next_tool}({', '.join(f'{k}={v}' for k, v in decision.next_arguments.items())})"
    if ranking:
        summary += f". {problems_text([p for p, _ in ranking])}"
    summary += f". {len(problems)}/{len(rows)} pods with problems"
    if len(problems) > MAX_PROBLEM_PODS:
        summary += (
            f" (the {MAX_PROBLEM_PODS} worst in problem_pods, {len(problems) - MAX_PROBLEM_PODS} more counted only)"
        )
    if seen.fetched.truncated:
        summary += " (pod list truncated)"
    rollouts = sorted(
        seen.facts.recent_rollouts, key=lambda r: (not (r.failing_pods or r.unavailable_replicas), r.minutes_ago)
    )
    if len(rollouts) > MAX_LISTED_ROLLOUTS:
        summary += f". {len(rollouts)} deployments rolled out in the last 2 hours ({MAX_LISTED_ROLLOUTS} listed)"
    if seen.facts.changes:
        shown = [c.text(seen.now) for c in seen.facts.changes[:3]]
        more = len(seen.facts.changes) - len(shown)
        summary += f". Changed in the last 2 hours (not rollouts): {'; '.join(shown)}" + (
            f"; {more} more" if more else ""
        )
    at_max = [h for h in map(hpa_row, seen.hpas) if h.at_max]
    if len(at_max) > MAX_LISTED_HPAS:
        summary += f". {len(at_max)} HPAs at their maximum ({MAX_LISTED_HPAS} listed)"
    if seen.unreadable:
        summary += f". Not readable with these credentials: {', '.join(seen.unreadable)} (decided without them)"
    usage = seen.usage if seen.metrics_available else []
    result = Assessment(
        summary=summary,
        namespace=namespace,
        primary_action=decision.primary_action,
        decision=decision,
        problems=[p for p, _ in ranking][:MAX_LISTED_PROBLEMS],
        problems_total=len(ranking),
        pods_total=len(rows),
        status_counts=dict(counts),
        problem_pods=sorted(problems, key=lambda r: (-r.restarts, r.name))[:MAX_PROBLEM_PODS],
        recent_rollouts=rollouts[:MAX_LISTED_ROLLOUTS],
        recent_rollouts_total=len(rollouts),
        recent_changes=[c.text(seen.now) for c in seen.facts.changes[:MAX_LISTED_CHANGES]],
        metrics_available=seen.metrics_available,
        top_cpu=sorted(usage, key=lambda u: -(u.cpu_cores or 0))[:MAX_TOP],
        top_memory=sorted(usage, key=lambda u: -(u.memory_bytes or 0))[:MAX_TOP],
        hpas_at_max=at_max[:MAX_LISTED_HPAS],
        hpas_at_max_total=len(at_max),
        warnings=warning_reasons(seen.groups),
        not_readable=seen.unreadable,
    )
    result._changes = list(seen.facts.changes)
    return result


def problems_text(problems: list[Problem]) -> str:
    """Every problem in rank order, one clause each (the first MAX_LISTED_PROBLEMS, then how many more)."""
    shown = [
        f"{p.rank}) {p.impact.upper().replace('_', ' ')}: {p.detail} -> {p.action}"
        + (f" with {p.next_tool}" if p.next_tool else " (no tool plans it: its reason says what a human runs)")
        + (" (mitigated already: verify_recovery follows it)" if p.mitigated else "")
        for p in problems[:MAX_LISTED_PROBLEMS]
    ]
    more = f"; and {len(problems) - MAX_LISTED_PROBLEMS} more" if len(problems) > MAX_LISTED_PROBLEMS else ""
    head = "1 problem" if len(problems) == 1 else f"{len(problems)} problems, worst for users first"
    return f"{head}: {'; '.join(shown)}{more}"

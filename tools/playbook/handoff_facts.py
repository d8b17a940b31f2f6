"""The handoff's timeline, actions and times, from the journal's rows and a few cluster reads. Pure: no I/O.

Layer: tools.playbook.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from incident_response.tools.core.masking import mask_text
from incident_response.tools.core.models import Truncation
from incident_response.tools.engine import approvals
from incident_response.tools.engine.journal import CommandRow, Event, IncidentRow
from incident_response.tools.engine.plan import pointer, target_text
from incident_response.tools.k8s.quantity import parse_time
from incident_response.tools.k8s.views import meta
from incident_response.tools.k8s.workloads import REVISION, images_of, revision_of, rollout_time
from incident_response.tools.playbook.handoff_models import (
    MAX_TEXT,
    MAX_TIMELINE,
    TIMELINE_HEAD,
    ActionTaken,
    DeploymentState,
    TimelineEntry,
    TimePoint,
)

RAN = ("succeeded", "failed", "partial", "unknown")
ROLLBACK_REVISION = pointer("metadata", "annotations", REVISION)
MAX_WARNING_REASONS = 8


@dataclass
class ClusterFacts:
    """What the handoff read from the cluster itself (verify_recovery and the assessment read the rest)."""

    deployments: dict[str, dict[str, Any]] = field(default_factory=dict)
    replicasets: dict[str, list[dict[str, Any]]] = field(default_factory=dict)  # deployment -> its ReplicaSets
    warnings: list[dict[str, Any]] = field(default_factory=list)  # Warning events about those deployments' objects
    error: str | None = None  # why the cluster could not be read


@dataclass(frozen=True)
class BadRevision:
    deployment: str
    revision: int
    rolled_out: datetime | None
    images: list[str]


def clean(text: Any, limit: int = MAX_TEXT) -> str:
    """One line, credentials masked, bounded: everything from the cluster or the journal passes through here."""
    line = " ".join(str(text).split())
    masked = mask_text(line)
    return masked if len(masked) <= limit else masked[: limit - 3] + "..."


def about(event: dict[str, Any], deployment: str) -> bool:
    """Whether an event is about the deployment or one of its objects (its ReplicaSets' and pods' names extend it)."""
    involved = event.get("involvedObject")
    name = str(involved.get("name") or "") if isinstance(involved, dict) else ""
    return name == deployment or name.startswith(deployment + "-")


def stamp(epoch: float) -> datetime:
    return datetime.fromtimestamp(epoch, UTC)


def first_line(command: str) -> str:
    """Multi-line commands (a manifest in a heredoc) are shown by their first line."""
    head, _, rest = command.partition("\n")
    return head + (" ..." if rest else "")


# --- timeline -----------------------------------------------------------------------------------------------------


def approval_note(claimed: dict[str, Any]) -> str:
    """How a confirmed command was approved, as the claim recorded it (older journals recorded only the flag)."""
    channel = claimed.get("approval_channel")
    if channel == approvals.NO_APPROVAL or (channel is None and claimed.get("human_approved") is False):
        return " in full mode, without a human approval"
    if channel is None or approvals.human_verified(channel):
        return ""
    return f" on an approval via {channel} ({approvals.attestation(channel)})"


def journal_entry(event: Event, commands: dict[str, CommandRow]) -> TimelineEntry | None:
    detail = event.detail or {}
    row = commands.get(event.token or "")
    tool = row.tool if row else str(detail.get("tool") or "command")
    note = f" ({detail['note']})" if detail.get("note") else ""
    texts: dict[str, tuple[str, str]] = {
        "incident_opened": ("opened", "first tool call recorded for this incident"),
        "declared": (
            "declared",
            f"declared {detail.get('title')!r} as {detail.get('severity')}"
            + (" (adopting the untitled incident)" if detail.get("adopted") else "")
            + note,
        ),
        "severity_changed": ("severity_changed", f"severity {detail.get('from')} -> {detail.get('to')}{note}"),
        "title_changed": ("title_changed", f"title {detail.get('from')!r} -> {detail.get('to')!r}{note}"),
        "namespace_changed": ("namespace_changed", f"namespace {detail.get('from')} -> {detail.get('to')}{note}"),
        "stabilized": ("stabilized", f"declared stabilized{note}"),
        "reactivated": ("reactivated", f"declared active again{note}"),
        "resolved": ("resolved", f"resolved{note}"),
        "proposed": ("planned", f"planned {tool}: {first_line(str(detail.get('command') or ''))}"),
        "approved": ("approved", f"{tool} approved by {event.actor} via {event.channel}"),
        "denied": ("denied", f"{tool} denied by {event.actor} via {event.channel}"),
        "claimed": ("confirmed", f"{tool} confirmed" + approval_note(detail)),
        "executed": (str(detail.get("status") or "unknown"), f"{tool} {detail.get('status')}: {detail.get('message')}"),
        "stale": ("stale", f"{tool} not run: the cluster changed since the plan"),
        "expired": ("expired", f"{tool} plan expired without being confirmed"),
        "cancelled": ("cancelled", f"{tool} cancelled"),
        "abandoned": ("unknown", f"{tool}: the process running it died; outcome unknown"),
        "blocked": ("advice", f"advice only, not executable here: {first_line(str(detail.get('command') or ''))}"),
        "approval_dismissed": ("dismissed", f"{tool}: the human dismissed the approval prompt"),
        "refused_here": (
            "refused",
            f"{tool} not run: a server on another cluster or with another allow-list was "
            f"asked to confirm or cancel it ({detail.get('status')})",
        ),
        "assessed": (
            "assessed",
            f"assess_namespace: {detail.get('primary_action')} {detail.get('target') or ''} ({detail.get('rule')})",
        ),
    }
    if event.kind == "released":
        return None  # a claim handed back after a failed re-read: the token simply stays approved
    kind, text = texts.get(event.kind, (event.kind, event.kind))
    return TimelineEntry(at=stamp(event.at), source="journal", kind=kind, text=clean(text))


def cluster_entries(facts: ClusterFacts, bad: list[BadRevision], since: datetime) -> list[TimelineEntry]:
    """The bad revisions' rollouts, current revisions rolled out after `since`, and the first Warning per reason."""
    entries: list[TimelineEntry] = []
    for revision in bad:
        if revision.rolled_out is None:
            continue
        text = (
            f"deployment/{revision.deployment} revision {revision.revision} rolled out "
            f"({', '.join(revision.images)}): the revision the rollback replaced"
        )
        entries.append(TimelineEntry(at=revision.rolled_out, source="cluster", kind="rollout", text=clean(text)))
    rolled_back = {b.deployment for b in bad}
    for name, deploy in facts.deployments.items():
        current, when = revision_of(deploy), rollout_time(deploy, facts.replicasets.get(name, []))
        # A rollback's own revision is on the journal's side of the timeline; an old rollout is not part of it.
        if when is None or current is None or name in rolled_back or when < since:
            continue
        images = images_of((deploy.get("spec") or {}).get("template") or {})
        text = f"deployment/{name} revision {current} (current) rolled out ({', '.join(images)})"
        entries.append(TimelineEntry(at=when, source="cluster", kind="rollout", text=clean(text)))
    for when, reason, event in first_warnings(facts.warnings):
        involved = event.get("involvedObject") or {}
        what = f"{str(involved.get('kind', '')).lower()}/{involved.get('name')}"
        text = f"first {reason} warning, on {what}: {event.get('message') or ''}"
        entries.append(TimelineEntry(at=when, source="cluster", kind="warning", text=clean(text)))
    return entries


def first_seen(event: dict[str, Any]) -> datetime | None:
    for value in (event.get("firstTimestamp"), event.get("eventTime"), event.get("lastTimestamp")):
        when = parse_time(value)
        if when is not None:
            return when
    return parse_time(meta(event).creation_timestamp)


def first_warnings(events: list[dict[str, Any]]) -> list[tuple[datetime, str, dict[str, Any]]]:
    """The earliest Warning per reason, oldest first, at most MAX_WARNING_REASONS."""
    first: dict[str, tuple[datetime, str, dict[str, Any]]] = {}
    for event in events:
        when, reason = first_seen(event), str(event.get("reason") or "")
        if when is not None and (reason not in first or when < first[reason][0]):
            first[reason] = (when, reason, event)
    return sorted(first.values(), key=lambda item: item[0])[:MAX_WARNING_REASONS]


def capped_timeline(entries: list[TimelineEntry]) -> tuple[list[TimelineEntry], Truncation]:
    """Oldest first; over the cap, the start and the most recent part are kept and the middle is left out."""
    ordered = sorted(entries, key=lambda e: e.at)
    if len(ordered) <= MAX_TIMELINE:
        return ordered, Truncation.of(len(ordered), len(ordered))
    kept = ordered[:TIMELINE_HEAD] + ordered[len(ordered) - (MAX_TIMELINE - TIMELINE_HEAD) :]
    return kept, Truncation.of(len(kept), len(ordered))


# --- actions and the revisions they replaced ----------------------------------------------------------------------


def action_of(row: CommandRow) -> ActionTaken:
    plan, result = row.plan, row.result or {}
    return ActionTaken(
        tool=row.tool,
        target=target_text(plan),
        command=clean(first_line(str(plan.get("command") or "")), 600),
        result=row.state,
        ran=row.state in RAN,
        message=clean(result["message"]) if result.get("message") else None,
        approved_by=row.decided_by,
        approval_channel=row.decided_channel,
        planned_at=stamp(row.created_at),
        finished_at=stamp(row.finished_at) if row.finished_at else None,
        undo_command=clean(first_line(str(plan["undo_command"])), 600) if plan.get("undo_command") else None,
        temporary=row.temporary,
        restores=row.restores is not None,
    )


def bad_revisions(commands: list[CommandRow], facts: ClusterFacts) -> list[BadRevision]:
    """The revisions that succeeded (or possibly-applied) rollbacks moved away from, as the plans recorded them."""
    found: list[BadRevision] = []
    for row in commands:
        if row.tool != "rollback_deployment" or row.state not in ("succeeded", "unknown"):
            continue
        name = str((row.plan.get("target") or {}).get("name"))
        expected = ((row.plan.get("preconditions") or [{}])[0].get("expect") or {}).get(ROLLBACK_REVISION)
        if expected is None or not str(expected).isdigit():
            continue
        number = int(str(expected))
        rs = next((r for r in facts.replicasets.get(name, []) if revision_of(r) == number), None)
        created = parse_time(meta(rs).creation_timestamp) if rs else None
        images = images_of((rs.get("spec") or {}).get("template") or {}) if rs else []
        if all((b.deployment, b.revision) != (name, number) for b in found):
            found.append(BadRevision(name, number, created, images))
    return found


# --- start and stabilization --------------------------------------------------------------------------------------


def start_time(incident: IncidentRow, facts: ClusterFacts, bad: list[BadRevision]) -> TimePoint | None:
    """The earliest cluster signal (the bad revision's rollout, the first Warning), else the declaration."""
    candidates = [
        TimePoint(
            at=b.rolled_out, basis=f"rollout of the bad revision (deployment/{b.deployment} revision {b.revision})"
        )
        for b in bad
        if b.rolled_out is not None
    ]
    warnings = first_warnings(facts.warnings)
    if warnings:
        when, reason, event = warnings[0]
        name = (event.get("involvedObject") or {}).get("name")
        candidates.append(TimePoint(at=when, basis=f"first Warning event ({reason} on {name})"))
    if candidates:
        return min(candidates, key=lambda c: c.at)
    if incident.declared_at is not None:
        return TimePoint(at=stamp(incident.declared_at), basis="declared (no earlier signal in the cluster)")
    return TimePoint(at=stamp(incident.opened_at), basis="first tool call recorded (never declared)")


def stabilization(incident: IncidentRow, actions: list[ActionTaken], states: list[DeploymentState]) -> TimePoint | None:
    if incident.stabilized_at is not None:
        return TimePoint(at=stamp(incident.stabilized_at), basis="declared stabilized")
    verdicts = [s.verdict for s in states]
    if verdicts and all(v == "RECOVERED" for v in verdicts):
        done = [a for a in actions if a.result == "succeeded" and not a.restores and a.finished_at is not None]
        if done:
            last = max(done, key=lambda a: a.finished_at or a.planned_at)
            assert last.finished_at is not None
            return TimePoint(
                at=last.finished_at,
                basis=f"last succeeded mitigation ({last.tool}); verify_recovery now says RECOVERED",
            )
        since = [s.stable_since for s in states if s.stable_since is not None]
        if since:
            return TimePoint(at=max(since), basis="verify_recovery says RECOVERED, stable since then")
    if incident.closed_at is not None:
        return TimePoint(at=stamp(incident.closed_at), basis="resolved (no stabilization was recorded)")
    return None

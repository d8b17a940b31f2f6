"""The handoff's timeline, actions and times, from the journal's rows and a few cluster reads. Pure: no I/O.

Layer: tools.playbook.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Collection
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
from incident_response.tools.k8s.workloads import REVISION, images_of, revision_of
from incident_response.tools.playbook.handoff_models import (
    MAX_TEXT,
    MAX_TIMELINE,
    TIMELINE_HEAD,
    ActionTaken,
    DeploymentState,
    TimelineCut,
    TimelineEntry,
    TimePoint,
)
from incident_response.tools.playbook.handoff_rollouts import Rollout, relation, suspected_change
from incident_response.tools.playbook.handoff_workloads import replaced_revision
from incident_response.tools.playbook.stabilization import (
    KIND_OF,
    Verification,
    acted_on,
    applied,
    effect_of,
    finished,
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
    rollouts: list[Rollout] = field(default_factory=list)  # every rollout in the namespace in the incident window
    available: dict[str, str] = field(default_factory=dict)  # every deployment in the namespace -> "2/2 available"
    nodes: dict[str, list[str]] = field(default_factory=dict)  # node a mitigation acted on -> its conditions now
    calm: dict[str, datetime] = field(default_factory=dict)  # such a node, healthy now -> since when
    load: dict[str, list[str]] = field(default_factory=dict)  # what a scale targeted -> load figures now
    scale_targets: dict[str, str] = field(default_factory=dict)  # HPA a command targeted -> the deployment it scales
    started_by: dict[tuple[str, int], str] = field(default_factory=dict)  # (deployment, revision) -> our mitigation
    kinds: dict[str, str] = field(default_factory=dict)  # a verified StatefulSet or DaemonSet -> its kind
    # The namespace's StatefulSets and DaemonSets as (kind, object), and their ControllerRevisions: their rollouts.
    workloads: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    revisions: list[dict[str, Any]] = field(default_factory=list)
    error: str | None = None  # why the cluster could not be read
    # The failing components, the assessment's ranked problems' first, then those verified; and of them, those
    # failing since long before the incident was opened (standing, tools/playbook/handoff_focus.py) -> since when.
    failing: list[str] = field(default_factory=list)
    standing: dict[str, datetime] = field(default_factory=dict)


@dataclass(frozen=True)
class BadRevision:
    deployment: str
    revision: int
    rolled_out: datetime | None
    images: list[str]
    changes: tuple[str, ...] = ()  # what it changed from the revision running now (values masked)
    kind: str = "deployment"


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


def journal_entry(
    event: Event, commands: dict[str, CommandRow], actions: dict[str, ActionTaken]
) -> TimelineEntry | None:
    """One journal event as a timeline line; `actions` (by token) carry each mitigation's verified effect."""
    detail = event.detail or {}
    row = commands.get(event.token or "")
    tool = row.tool if row else str(detail.get("tool") or "command")
    note = f" ({detail['note']})" if detail.get("note") else ""
    effect = executed_text(tool, detail, actions.get(event.token or ""))
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
        "stabilized": ("stabilized", stabilized_text(detail, note)),
        "reactivated": ("reactivated", f"declared active again{note}"),
        "resolved": ("resolved", f"resolved{note}"),
        "proposed": ("planned", f"planned {tool}: {first_line(str(detail.get('command') or ''))}"),
        "approved": ("approved", f"{tool} approved by {event.actor} via {event.channel}"),
        "denied": (
            "denied",
            f"{tool} denied by {event.actor} via {event.channel}"
            + (f": {clean(str(detail['reason']), 300)}" if detail.get("reason") else ""),
        ),
        "claimed": ("confirmed", f"{tool} confirmed" + approval_note(detail)),
        "executed": (str(detail.get("status") or "unknown"), effect),
        "stale": ("stale", f"{tool} not run: the cluster changed since the plan"),
        "handed_back": ("denied", f"{tool} not run: {event.actor}'s deny arrived as it was confirmed"),
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
        "rollback_answered": ("answered", answered_text(detail)),
        "verified": (
            "verified",
            f"verify_recovery: {detail.get('deployment')} {detail.get('verdict')}"
            + (f" (failing: {', '.join(map(str, detail['failing']))})" if detail.get("failing") else ""),
        ),
    }
    if event.kind == "released":
        return None  # a claim handed back after a failed re-read: the token simply stays approved
    kind, text = texts.get(event.kind, (event.kind, event.kind))
    return TimelineEntry(at=stamp(event.at), source="journal", kind=kind, text=clean(text))


def answered_text(detail: dict[str, Any]) -> str:
    """The human's answer to evaluate_decision's rollback questions (tools/engine/rollback_answers.py)."""
    answers = detail.get("answers") or {}
    said = ", ".join(f"{q}={'true' if v else 'false'}" for q, v in answers.items())
    verdict = "a rollback past it is ruled out" if any(answers.values()) else "no rollback ruled out by it"
    return (
        f"the human answered {said} about {detail.get('kind')} {detail.get('name')} revision "
        f"{detail.get('revision')}: {verdict}"
    )


def stabilized_text(detail: dict[str, Any], note: str) -> str:
    if detail.get("by") == "verify_recovery":
        return f"service recovered: {detail.get('note')}; incident marked stabilized"
    return f"declared stabilized{note}"


def executed_text(tool: str, detail: dict[str, Any], action: ActionTaken | None) -> str:
    """'override_hpa succeeded at the API, but did not fix the service: ...': the API's answer, then what the
    verification after it found (the effect first: a long message is what gets cut)."""
    status, message = detail.get("status"), detail.get("message")
    if action is None or action.effect is None or action.effect_detail is None:
        return f"{tool} {status}: {message}"
    joint = ", but" if action.effect == "not_fixed" else ";"
    # A success's message is the API's "accepted every write"; what counts after it is the verified effect.
    done = "succeeded at the API" if status == "succeeded" else "was partly applied"
    tail = f". {message}" if status != "succeeded" and message else ""
    return f"{tool} {done}{joint} {action.effect_detail}{tail}"


def cluster_entries(facts: ClusterFacts, bad: list[BadRevision], rolled_back: set[str]) -> list[TimelineEntry]:
    """Every rollout in the namespace in the incident window (how far from the first warning), and the first
    Warning per reason. A rollback made through this server is on the journal's side."""
    entries: list[TimelineEntry] = []
    for rollout in facts.rollouts:
        if rollout.rollback and rollout.deployment in rolled_back:
            continue
        key = (rollout.deployment, rollout.revision)
        # A renumbered revision's first rollout is neither the one a rollback replaced nor one we started: its
        # number is the one our rollback (or another) gave it later.
        replaced = next((b for b in bad if (b.deployment, b.revision) == key), None) if not rollout.renumbered else None
        text = f"{rollout.ref} {rollout.what()}"
        ours = facts.started_by.get(key) if not rollout.renumbered else None
        if ours is not None:
            text += f": the rollout {ours} started"
        elif replaced is not None:
            text += ": the revision the rollback replaced" + (
                f"; it changed {'; '.join(replaced.changes)}" if replaced.changes else ""
            )
        else:
            text += f", {relation(rollout.at, *reference(facts, rollout.deployment))}"
        entry = TimelineEntry(at=rollout.at, source="cluster", kind="rollout", text=clean(text))
        if rollout.deployment not in facts.failing and ours is None and replaced is None:
            entry._spare = 3 if creation(rollout) else 2
        entries.append(entry)
    # The first Warning per reason of this incident, and of each standing failure apart (said as standing).
    groups = [("", incident_warnings(facts))]
    groups += [(name, [e for e in facts.warnings if about(e, name)]) for name in facts.standing]
    for name, events in groups:
        for when, reason, event in first_warnings(events):
            involved = event.get("involvedObject") or {}
            what = f"{str(involved.get('kind', '')).lower()}/{involved.get('name')}"
            note = f" (a standing failure of {name}: older than this incident)" if name else ""
            text = f"first {reason} warning, on {what}{note}: {event.get('message') or ''}"
            entries.append(TimelineEntry(at=when, source="cluster", kind="warning", text=clean(text)))
    return entries


def warning_name(first: tuple[datetime, str, dict[str, Any]]) -> str:
    """'BackOff warning (on pod/checkout-1)'."""
    _, reason, event = first
    involved = event.get("involvedObject") or {}
    return f"{reason} warning (on {str(involved.get('kind', '')).lower()}/{involved.get('name')})"


def incident_warnings(facts: ClusterFacts) -> list[dict[str, Any]]:
    """The Warning events of this incident: those about a standing failure are older than it."""
    return [e for e in facts.warnings if not any(about(e, name) for name in facts.standing)]


def reference(facts: ClusterFacts, deployment: str | None = None) -> tuple[datetime | None, str]:
    """The warning a moment is measured against: a failing deployment's own first warning, else this incident's
    first (the first of all when every failure is standing): (when, 'BackOff warning (on pod/web-1)')."""
    own = [e for e in facts.warnings if about(e, deployment)] if deployment and deployment in facts.failing else []
    first = first_warnings(own) or first_warnings(incident_warnings(facts)) or first_warnings(facts.warnings)
    return (first[0][0], warning_name(first[0])) if first else (None, "warning")


def creation(rollout: Rollout) -> bool:
    """A workload's first revision: it was created then (nothing it ran before changed)."""
    return rollout.revision == 1 and not rollout.rollback and not rollout.renumbered


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


SPARE_WORDS = {
    1: "{n} change(s) to objects of workloads that are not failing",
    2: "{n} rollout(s) of workloads that are not failing",
    3: "{n} workload(s) created that are not failing",
}


def capped_timeline(entries: list[TimelineEntry]) -> tuple[list[TimelineEntry], Truncation, TimelineCut | None]:
    """Oldest first. Over the cap, what bears least on the failing components goes first (workloads created that
    are not failing, then other workloads' rollouts, then changes to other objects; the oldest of each first); if
    it is still over, the start and the most recent part are kept and the middle is left out. The cut says what."""
    ordered = sorted(entries, key=lambda e: e.at)
    if len(ordered) <= MAX_TIMELINE:
        return ordered, Truncation.of(len(ordered), len(ordered)), None
    spare = sorted((e for e in ordered if e._spare), key=lambda e: (-e._spare, e.at))
    dropped = {id(e) for e in spare[: len(ordered) - MAX_TIMELINE]}
    kept = [e for e in ordered if id(e) not in dropped]
    middle = max(0, len(kept) - MAX_TIMELINE)
    if middle:
        dropped |= {id(e) for e in kept[TIMELINE_HEAD : TIMELINE_HEAD + middle]}
        kept = kept[:TIMELINE_HEAD] + kept[TIMELINE_HEAD + middle :]
    left = [e for e in ordered if id(e) in dropped]
    before = next(i for i, e in enumerate(ordered) if id(e) in dropped)
    if len(left) == middle:  # one stretch
        note = f"... {len(left)} entries left out here ..."
    else:
        counts = Counter(e._spare for e in left if e._spare)
        parts = [SPARE_WORDS[tier].format(n=counts[tier]) for tier in sorted(counts, reverse=True)]
        parts += [f"{middle} from the middle"] if middle else []
        span = f"{left[0].at.strftime('%m-%d %H:%M')} to {left[-1].at.strftime('%m-%d %H:%M')}"
        note = f"... {len(left)} entries left out ({'; '.join(parts)}), from {span} UTC ..."
    return kept, Truncation.of(len(kept), len(ordered)), TimelineCut(before=before, note=note)


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
        kind=KIND_OF.get(row.tool) if row.restores is None else None,
    )


def with_effects(
    rows: list[CommandRow],
    actions: list[ActionTaken],
    seen: list[Verification],
    scale_target: Callable[[str], str | None],
    namespace: str,
    skip: Collection[str] = (),
) -> list[ActionTaken]:
    """Each mitigation that changed the cluster, with what the verifications after it (and before the next) found.
    `skip`: tokens of node maintenance (maintenance_nodes), no mitigation: no effect of their own."""
    done = [row for row in applied(rows, namespace) if row.token not in skip]
    by_token = {row.token: action for row, action in zip(rows, actions, strict=True)}
    for index, row in enumerate(done):
        until = finished(done[index + 1]) if index + 1 < len(done) else None
        after = [v for v in seen if v.at >= finished(row) and (until is None or v.at < until)]
        outcome = effect_of(acted_on([row], namespace, scale_target), after, last=until is None)
        update = {"effect": outcome.effect, "effect_detail": clean(outcome.detail), "verified_at": outcome.verified_at}
        by_token[row.token] = by_token[row.token].model_copy(update=update)
    return [by_token[row.token] for row in rows]


def bad_revisions(commands: list[CommandRow], facts: ClusterFacts) -> list[BadRevision]:
    """The revisions that succeeded (or possibly-applied) rollbacks moved away from, as the plans recorded them, with
    what each changed from the revision running now."""
    found: list[BadRevision] = []
    for row in commands:
        if row.tool == "rollback_workload" and row.state in ("succeeded", "unknown"):
            known = {(b.deployment, b.revision) for b in found}
            found += [b for b in workload_bad_revision(row, facts) if (b.deployment, b.revision) not in known]
        if row.tool != "rollback_deployment" or row.state not in ("succeeded", "unknown"):
            continue
        name = str((row.plan.get("target") or {}).get("name"))
        expected = ((row.plan.get("preconditions") or [{}])[0].get("expect") or {}).get(ROLLBACK_REVISION)
        if expected is None or not str(expected).isdigit():
            continue
        number = int(str(expected))
        rs = next((r for r in facts.replicasets.get(name, []) if revision_of(r) == number), None)
        created = parse_time(meta(rs).creation_timestamp) if rs else None
        template = (rs.get("spec") or {}).get("template") or {} if rs else None
        images = images_of(template) if template is not None else []
        deploy = facts.deployments.get(name)
        current = (deploy.get("spec") or {}).get("template") if deploy else None
        # Compared by template, not by the deployment's revision annotation: right after the rollback's write the
        # controller has not yet renumbered the revision brought back (the annotation still names the bad one), but
        # the spec already holds the template rolled back to. Same templates (the write never landed): no change.
        changes = tuple(suspected_change(current, template))
        if all((b.deployment, b.revision) != (name, number) for b in found):
            found.append(BadRevision(name, number, created, images, changes))
    return found


def workload_bad_revision(row: CommandRow, facts: ClusterFacts) -> list[BadRevision]:
    """The revision a rollback_workload moved a StatefulSet or DaemonSet away from."""
    target = row.plan.get("target") or {}
    name, kind = str(target.get("name")), str(target.get("kind") or "").lower()
    found = replaced_revision(row, facts.deployments.get(name), facts.replicasets.get(name, []))
    if found is None:
        return []
    return [BadRevision(name, found.revision, found.rolled_out, found.images, found.changes, kind=kind)]


# --- start and stabilization --------------------------------------------------------------------------------------


def start_time(incident: IncidentRow, facts: ClusterFacts, bad: list[BadRevision]) -> TimePoint | None:
    """The earliest cluster signal (the bad revision's rollout, the first Warning), else the declaration. A standing
    failure (failing since long before the incident was opened) is older than the incident: it sets no start."""
    candidates = [
        TimePoint(at=b.rolled_out, basis=f"rollout of the bad revision ({b.kind}/{b.deployment} revision {b.revision})")
        for b in bad
        if b.rolled_out is not None
    ]
    warnings = first_warnings(incident_warnings(facts))
    if warnings:
        when, reason, event = warnings[0]
        name = (event.get("involvedObject") or {}).get("name")
        candidates.append(TimePoint(at=when, basis=f"first Warning event ({reason} on {name})"))
    if candidates:
        return min(candidates, key=lambda c: c.at)
    older = "".join(
        f"; {name} has failed since {since.strftime('%Y-%m-%d %H:%M UTC')}, a standing failure older than it"
        for name, since in facts.standing.items()
    )
    if incident.declared_at is not None:
        return TimePoint(at=stamp(incident.declared_at), basis=f"declared (no earlier signal in the cluster){older}")
    return TimePoint(at=stamp(incident.opened_at), basis=f"first tool call recorded (never declared){older}")


def stabilization(incident: IncidentRow, events: list[Event], states: list[DeploymentState]) -> TimePoint | None:
    """When the incident was marked stabilized (by verify_recovery's RECOVERED, or declared); else, when every
    deployment verified now is RECOVERED, since when it has held; else when it was resolved."""
    if incident.stabilized_at is not None:
        marked = next((e for e in reversed(events) if e.kind == "stabilized"), None)
        detail = (marked.detail or {}) if marked is not None else {}
        if detail.get("by") == "verify_recovery":
            held = f", stable since {str(detail['stable_since'])[11:19]} UTC" if detail.get("stable_since") else ""
            return TimePoint(at=stamp(incident.stabilized_at), basis=f"{detail.get('note')}{held}")
        return TimePoint(at=stamp(incident.stabilized_at), basis="declared stabilized")
    verdicts = [s.verdict for s in states]
    if verdicts and all(v == "RECOVERED" for v in verdicts):
        since = [s.stable_since for s in states if s.stable_since is not None]
        if since:
            return TimePoint(
                at=max(since),
                basis="verify_recovery (run for this handoff) says RECOVERED, stable "
                "since then; the incident was not marked stabilized",
            )
    if incident.closed_at is not None:
        return TimePoint(at=stamp(incident.closed_at), basis="resolved (no stabilization was recorded)")
    return None

"""The handoff as a document: the playbook's plain-text format (INCIDENT HANDOFF TO RCA), or the same content as
markdown. Pure: renders the structured handoff, nothing else.

Both formats come from one list of sections, so they cannot say different things. Every line is masked again on the
way out (the masking boundary masks the answer too; this keeps the document safe where it is pasted).

Layer: tools.incident.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from incident_response.tools.core.masking import mask_text
from incident_response.tools.playbook.handoff_models import (
    MAX_DOCUMENT,
    TIMELINE_HEAD,
    ActionTaken,
    Handoff,
    TemporaryMeasure,
    TimelineCut,
    TimePoint,
)

TITLE = "INCIDENT HANDOFF TO RCA"
RULE = "=" * 24  # as the playbook draws it
RESULTS = {
    "failed": "failed, nothing changed",
    "partial": "partly applied",
    "unknown": "outcome unknown (it may have applied)",
    "stale": "not run: the cluster changed since the plan",
}


@dataclass
class DocumentItem:
    """One bullet: `head` (a label in markdown), `text`, continuation lines, and a command shown as code."""

    text: str
    head: str | None = None
    more: list[str] = field(default_factory=list)
    command: str | None = None
    sub: list[DocumentItem] = field(default_factory=list)  # nested bullets
    stamp: bool = False  # `head` is a time: "- 12:04 text", as the playbook's timeline


@dataclass
class DocumentSection:
    name: str
    items: list[DocumentItem]


def moment(point: TimePoint | None, missing: str) -> str:
    return point.at.strftime("%Y-%m-%d %H:%M UTC") if point is not None else missing


def duration(handoff: Handoff) -> str:
    start, end = moment(handoff.started, "unknown"), moment(handoff.stabilized, "not stabilized yet")
    minutes = handoff.duration_minutes
    if minutes is None:
        return f"{start} to {end}"
    hours, rest = divmod(minutes, 60)
    length = f"{hours} h {rest} min" if hours else f"{rest} min"
    return f"{start} to {end} ({length}{' so far' if handoff.ongoing else ''})"


def timeline(handoff: Handoff) -> list[DocumentItem]:
    entries = handoff.timeline
    shape = "%H:%M" if len({e.at.date() for e in entries}) <= 1 else "%m-%d %H:%M"
    items, cut, note = [], handoff.timeline_truncation, handoff.timeline_cut
    if note is None and cut.truncated:  # a handoff made before the cut said what it left out
        note = TimelineCut(before=TIMELINE_HEAD, note=f"... {(cut.total or 0) - cut.shown} entries left out here ...")
    for index, entry in enumerate(entries):
        if note is not None and index == note.before:
            items.append(DocumentItem(note.note))
        items.append(DocumentItem(entry.text, head=entry.at.strftime(shape), stamp=True))
    return items or [DocumentItem("nothing recorded")]


def result(action: ActionTaken) -> str:
    at = (action.finished_at or action.planned_at).strftime("%H:%M UTC")
    who = f" (approved by {action.approved_by} via {action.approval_channel})" if action.approved_by else ""
    if action.result == "denied" and action.approved_by:  # decided_by is who denied it
        who = f" by {action.approved_by} via {action.approval_channel}"
    if action.result == "succeeded":
        text = f"succeeded at the API at {at}{who}"
        if action.effect_detail:
            text += (", but " if action.effect == "not_fixed" else "; ") + action.effect_detail
        return text
    text = f"{RESULTS.get(action.result, action.result)} at {at}{who}"
    text += f": {action.message}" if action.message else ""
    if action.effect_detail:  # a partial write changed the cluster too: what it did is verified like a success's
        text += (", but " if action.effect == "not_fixed" else "; ") + action.effect_detail
    return text


def actions(handoff: Handoff) -> list[DocumentItem]:
    items = [
        DocumentItem(result(a), head=f"{a.tool} on {a.target}", command=a.command)
        for a in handoff.actions
        if not a.maintenance
    ] or [DocumentItem("no mitigation was planned")]
    # A cordon/drain of a node that was healthy and no assessment named (maintenance): no mitigation of anything.
    other = [
        DocumentItem(
            f"{result(a)}; the node reported Ready with no pressure and no assessment named it: not a mitigation",
            head=f"{a.tool} on {a.target}",
            command=a.command,
        )
        for a in handoff.actions
        if a.maintenance
    ]
    return items + ([DocumentItem("", head="Other actions taken during the incident", sub=other)] if other else [])


def measure(entry: TemporaryMeasure) -> DocumentItem:
    restore = f"restore: {entry.restore_command}" if entry.restore_command else "restore by hand"
    more = [entry.offline_by_choice] if entry.offline_by_choice else []
    if entry.evictions:
        more.append(
            f"evicted {entry.evictions_total} pod(s): {', '.join(entry.evictions)}"
            + (f"; {entry.evictions_rest}" if entry.evictions_rest else "")
        )
    return DocumentItem(f"{entry.what} ({', '.join(entry.tools)}); {restore}", more=more)


def state(handoff: Handoff) -> list[DocumentItem]:
    current = handoff.current_state
    unsure = any(a.result == "unknown" for a in handoff.actions)
    kinds = ", ".join(current.mitigation) or ("none known to be" if unsure else "none")
    measures = [measure(m) for m in current.temporary_measures]
    return [
        DocumentItem(f"{current.service} ({current.service_detail})", head="Service"),
        DocumentItem(f"{kinds} applied ({current.mitigation_detail})", head="Mitigation"),
        DocumentItem("none" if not measures else "", head="Temporary measures", sub=measures),
    ]


def hypotheses(handoff: Handoff) -> list[DocumentItem]:
    items = []
    for hypothesis in handoff.hypotheses:
        support = "; ".join(hypothesis.evidence_for) or "nothing found"
        against = "; ".join(hypothesis.evidence_against) or "nothing found"
        items.append(DocumentItem(f"for: {support}. Against: {against}.", head=hypothesis.statement))
    return items or [DocumentItem("none recorded")]


def evidence(handoff: Handoff) -> list[DocumentItem]:
    found = handoff.evidence
    items = [DocumentItem(e.text, head=e.kind) for e in found.collected]
    used = ", ".join(f"{t.tool} x{t.calls}" + (f" ({t.errors} failed)" if t.errors else "") for t in found.tools_called)
    items.append(DocumentItem(used or "none", head="tools used"))
    return items + [DocumentItem("", command=command) for command in found.reproduce]


def sections(handoff: Handoff) -> list[DocumentSection]:
    questions = [DocumentItem(q) for q in handoff.open_questions] or [DocumentItem("none")]
    return [
        DocumentSection("Timeline Summary", timeline(handoff)),
        DocumentSection("Actions Taken", actions(handoff)),
        DocumentSection("Current State", state(handoff)),
        DocumentSection("Hypotheses", hypotheses(handoff)),
        DocumentSection("Evidence Collected", evidence(handoff)),
        DocumentSection("Open Questions", questions),
    ]


def text_item(item: DocumentItem, indent: str = "") -> list[str]:
    head = f"{item.head}{' ' if item.stamp else ': '}" if item.head else ""
    body = item.text or (item.command if not item.head else "") or ""
    lines = [f"{indent}- {head}{body}".rstrip()]
    if item.command and (item.text or item.head):
        lines.append(f"{indent}  command: {item.command}")
    lines += [f"{indent}  {line}" for line in item.more]
    return lines + [line for sub in item.sub for line in text_item(sub, indent + "  ")]


def as_text(handoff: Handoff) -> str:
    incident = handoff.incident
    lines = [
        TITLE,
        RULE,
        "",
        f"Incident ID: {incident.incident_id}",
        f"Duration: {duration(handoff)}",
        f"Severity: {incident.severity or 'not declared'}",
    ]
    for section in sections(handoff):
        lines += ["", f"{section.name}:"]
        lines += [line for item in section.items for line in text_item(item)]
    return "\n".join(lines) + "\n"


def code(text: str) -> str:
    return f"`` {text} ``" if "`" in text else f"`{text}`"


def markdown_item(item: DocumentItem, indent: str = "") -> list[str]:
    head = f"**{item.head}**" + (" " if item.stamp else ": ") if item.head else ""
    body = item.text if item.text else (code(item.command) if item.command and not item.head else "")
    lines = [f"{indent}- {head}{body}".rstrip()]
    if item.command and (item.text or item.head):
        lines.append(f"{indent}  - command: {code(item.command)}")
    lines += [f"{indent}  - {line}" for line in item.more]
    return lines + [line for sub in item.sub for line in markdown_item(sub, indent=indent + "  ")]


def as_markdown(handoff: Handoff) -> str:
    incident = handoff.incident
    severity = incident.severity or "not declared"
    lines = [
        f"# {TITLE}",
        "",
        f"**Incident ID:** {incident.incident_id}  ",
        f"**Duration:** {duration(handoff)}  ",
        f"**Severity:** {severity}",
    ]
    for section in sections(handoff):
        lines += ["", f"## {section.name}", ""]
        lines += [line for item in section.items for line in markdown_item(item)]
    return "\n".join(lines) + "\n"


def render(handoff: Handoff) -> str:
    """The document in the handoff's format, masked, at most MAX_DOCUMENT characters (cut at a line's end)."""
    text = as_markdown(handoff) if handoff.format == "markdown" else as_text(handoff)
    masked = mask_text(text)
    if len(masked) > MAX_DOCUMENT:
        kept = masked[:MAX_DOCUMENT].rpartition("\n")[0]
        masked = kept + "\n... (cut here; format='json' has every section in full)\n"
    return masked

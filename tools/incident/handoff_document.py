"""The handoff as markdown a human pastes into the RCA ticket. Pure: renders the structured handoff, nothing else.

Layer: tools.incident.
"""

from __future__ import annotations

from datetime import datetime

from incident_response.tools.core.masking import mask_text
from incident_response.tools.playbook.handoff_models import MAX_DOCUMENT, TIMELINE_HEAD, Handoff, TimePoint


def code(text: str) -> str:
    return f"`` {text} ``" if "`" in text else f"`{text}`"


def cell(text: str) -> str:
    return text.replace("|", "\\|")


def moment(point: TimePoint | None, missing: str) -> str:
    if point is None:
        return missing
    return f"{point.at.strftime('%Y-%m-%d %H:%M:%S UTC')} (based on: {point.basis})"


def duration(minutes: int | None, ongoing: bool) -> str:
    if minutes is None:
        return "unknown"
    hours, rest = divmod(minutes, 60)
    text = f"{hours} h {rest} min" if hours else f"{rest} min"
    return text + (" so far, not stabilized" if ongoing else "")


def header(handoff: Handoff) -> list[str]:
    incident = handoff.incident
    return [
        f"# RCA handoff: {incident.title}",
        "",
        "| | |",
        "|---|---|",
        f"| Incident | {cell(incident.incident_id)} |",
        f"| Severity | {incident.severity or 'not declared'} (status: {incident.status}) |",
        f"| Namespace | {handoff.namespace} |",
        f"| Started | {cell(moment(handoff.started, 'unknown'))} |",
        f"| Stabilized | {cell(moment(handoff.stabilized, 'not yet'))} |",
        f"| Duration | {duration(handoff.duration_minutes, handoff.ongoing)} |",
        f"| Service now | {handoff.overall_verdict} |",
    ]


def timeline(handoff: Handoff) -> list[str]:
    entries = handoff.timeline
    days = {e.at.date() for e in entries}
    shape = "%H:%M:%S" if len(days) <= 1 else "%m-%d %H:%M:%S"
    lines = ["", "## What happened (UTC)", ""]
    cut = handoff.timeline_truncation
    for index, entry in enumerate(entries):
        if cut.truncated and index == TIMELINE_HEAD:
            lines.append(f"- ... {(cut.total or 0) - cut.shown} entries left out here ...")
        lines.append(f"- {entry.at.strftime(shape)} [{entry.source}] {entry.text}")
    return lines if entries else [*lines, "- nothing recorded"]


def actions(handoff: Handoff) -> list[str]:
    lines = ["", "## What we did", ""]
    if not handoff.actions:
        return [*lines, "No mitigation was planned."]
    for number, action in enumerate(handoff.actions, 1):
        who = f", approved by {action.approved_by} via {action.approval_channel}" if action.approved_by else ""
        at = (action.finished_at or action.planned_at).strftime("%H:%M UTC")
        lines.append(f"{number}. {action.tool} on {action.target}: **{action.result}** at {at}{who}")
        lines.append(f"   - command: {code(action.command)}")
        if action.message:
            lines.append(f"   - result: {action.message}")
        if action.undo_command:
            lines.append(f"   - undo: {code(action.undo_command)}")
    return lines


def state(handoff: Handoff) -> list[str]:
    lines = ["", "## Where things stand", ""]
    if not handoff.current_state:
        lines.append("No deployment was verified.")
    for deployment in handoff.current_state:
        lines.append(f"- {deployment.deployment}: **{deployment.verdict or 'UNKNOWN'}**: {deployment.summary}")
        lines += [f"  - {check.name}: {check.detail}" for check in deployment.checks]
    lines += ["", "### Temporary measures still in place", ""]
    if not handoff.temporary_measures:
        lines.append("None.")
    for measure in handoff.temporary_measures:
        restore = code(measure.restore_command) if measure.restore_command else "restore by hand"
        lines.append(
            f"- {measure.tool} {measure.target.kind.lower()}/{measure.target.name} "
            f"({measure.summary}); restore: {restore}"
        )
    return lines


def hypotheses(handoff: Handoff) -> list[str]:
    lines = ["", "## Hypotheses", ""]
    if not handoff.hypotheses:
        lines.append("None recorded.")
    for number, hypothesis in enumerate(handoff.hypotheses, 1):
        lines.append(f"{number}. {hypothesis.statement} (from {hypothesis.source})")
        lines += [f"   - for: {line}" for line in hypothesis.evidence_for]
        lines += [f"   - against: {line}" for line in hypothesis.evidence_against]
    return lines


def evidence(handoff: Handoff) -> list[str]:
    used = ", ".join(
        f"{t.tool} x{t.calls}" + (f" ({t.errors} failed)" if t.errors else "") for t in handoff.evidence.tools_called
    )
    lines = ["", "## Evidence", "", f"Tools used: {used or 'none'}.", "", "To repeat the key reads:", "", "```bash"]
    return [*lines, *handoff.evidence.reproduce, "```"]


def questions(handoff: Handoff) -> list[str]:
    lines = ["", "## Open questions", ""]
    return [*lines, *(f"- {q}" for q in handoff.open_questions)] if handoff.open_questions else [*lines, "None."]


def render(handoff: Handoff, now: datetime) -> str:
    parts = [
        header(handoff),
        timeline(handoff),
        actions(handoff),
        state(handoff),
        hypotheses(handoff),
        evidence(handoff),
        questions(handoff),
    ]
    text = "\n".join(line for part in parts for line in part)
    text += f"\n\n_Built by incident-response-mcp at {now.strftime('%Y-%m-%d %H:%M:%S UTC')}._\n"
    masked = mask_text(text)
    if len(masked) > MAX_DOCUMENT:
        masked = masked[:MAX_DOCUMENT] + "\n\n... (cut here; the structured handoff has every section in full)\n"
    return masked

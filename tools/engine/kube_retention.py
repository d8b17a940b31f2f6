"""Retention of the team-mode store: a resolved incident's objects become one summary object after an age.

An incident makes one object per tool call and per event, which the API server keeps in etcd for ever unless someone
removes them. After `retention` seconds past its resolution, an incident's journal entries and finished commands (with
who decided them) are written into one `JournalEntry` of type summary (gzip, base64: a large incident stays far below
etcd's object size limit) and then deleted; the Approval objects stay (the server may not delete them: it could
erase a denial), and are small. Reads merge the summary back in, so the timeline, the handoff and the
temporary measures read the same before and after. A command still holding a temporary measure in place keeps its
object: restore_measure reads it by token.

Several replicas may compact at once: the summary is created or merged at the resourceVersion it was read at, and a
delete of what another replica deleted first is no error.

Layer: tools.engine.
"""

from __future__ import annotations

import base64
import gzip
import json
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from incident_response.tools.core import errors
from incident_response.tools.engine import call_reads
from incident_response.tools.engine import kube_objects as objects
from incident_response.tools.engine.kube_objects import COMMANDS, ENTRIES
from incident_response.tools.engine.records import CommandRow, Event, ToolCall

if TYPE_CHECKING:
    from incident_response.tools.engine.kube_store import KubeStore

DEFAULT_RETENTION = 30 * 86400.0
# A command in these states may still change (a claimer may still be running it): its object stays.
UNFINISHED = ("pending", "approved", "executing")


@dataclass
class Summary:
    """What a compacted incident's objects said."""

    events: list[Event] = field(default_factory=list)
    tool_calls: list[ToolCall] = field(default_factory=list)
    commands: list[CommandRow] = field(default_factory=list)

    def merged(self, other: Summary) -> Summary:
        return Summary(
            events=_unique(self.events + other.events, lambda e: e.id),
            tool_calls=_unique(self.tool_calls + other.tool_calls, lambda c: c.id),
            commands=_unique(other.commands + self.commands, lambda c: c.token),
        )


def _unique(rows: list[Any], key: Any) -> list[Any]:
    seen: dict[Any, Any] = {}
    for row in rows:
        seen.setdefault(key(row), row)
    return list(seen.values())


def summary_name(incident: str) -> str:
    return "summary-" + objects.incident_name(incident)


def encode(summary: Summary) -> str:
    data = {
        "events": [e.model_dump(mode="json") for e in summary.events],
        "tool_calls": [c.model_dump(mode="json") for c in summary.tool_calls],
        "commands": [c.model_dump(mode="json") for c in summary.commands],
    }
    return base64.b64encode(gzip.compress(json.dumps(data, sort_keys=True).encode("utf-8"))).decode("ascii")


def decode(obj: dict[str, Any]) -> Summary:
    raw = json.loads(gzip.decompress(base64.b64decode(str(objects.spec(obj).get("compressed") or ""))))
    return Summary(
        events=[Event.model_validate(e) for e in raw.get("events") or []],
        tool_calls=[ToolCall.model_validate(c) for c in raw.get("tool_calls") or []],
        commands=[CommandRow.model_validate(c) for c in raw.get("commands") or []],
    )


@call_reads.fresh  # it reads to decide deletes and retries its summary write on a conflict: from the API each time
def compact(store: KubeStore, *, now: float, retention: float = DEFAULT_RETENTION) -> list[str]:
    """Compact every incident resolved at least `retention` seconds before `now`; the ids of those compacted."""
    due = [i.id for i in store.all_incidents() if i.closed_at is not None and i.closed_at + retention <= now]
    return [incident for incident in due if compact_one(store, incident, now=now)]


def compact_one(store: KubeStore, incident: str, *, now: float) -> bool:
    """Fold one incident's objects into its summary, then delete them; False when there was nothing to fold."""
    entries = [o for o in store.list_objects(ENTRIES, incident=incident) if objects.spec(o).get("type") != "summary"]
    entries = [o for o in entries if objects.spec(o).get("incident") == incident]
    commands = [
        o for o in store.list_objects(COMMANDS, incident=incident) if objects.spec(o).get("incident") == incident
    ]
    rows = {objects.name_of(o): r for o, r in zip(commands, store.command_rows(commands), strict=True)}
    in_place = {r.token for r in store.temporary_measures(incident=incident)}
    for name, row in rows.items():
        if row.state in objects.LIVE and row.expires_at <= now:
            rows[name] = row.model_copy(update={"state": "expired"})  # nobody read it since its time ran out
    folded = {name for name, row in rows.items() if row.token not in in_place and row.state not in UNFINISHED}
    decided = store.decisions()
    approvals = [a for name in sorted(folded) for a in decided.get(name, {}).values()]
    if not entries and not folded:
        return False
    by_command = {objects.name_of(o): o for o in commands}
    fresh = Summary(
        events=[objects.event_row(o) for o in entries if objects.spec(o).get("type") == "event"]
        + [objects.approval_event(a, by_command[str(objects.spec(a).get("command"))]) for a in approvals]
        + [e for name in sorted(folded) for e in objects.history_events(by_command[name])],
        tool_calls=[objects.tool_call_row(o) for o in entries if objects.spec(o).get("type") == "toolCall"],
        commands=[rows[name] for name in sorted(folded)],
    )
    while not _write_summary(store, incident, fresh):
        pass  # another replica merged its part first: read it again and merge ours
    # Approvals stay: the server's credentials may not delete them, or they could erase a denial. A command is
    # deleted only as it was read: one another replica claimed meanwhile (its time was up by this clock, not by the
    # claimer's) stays, and the next round folds what it did over what this one folded.
    for resource, gone in ((ENTRIES, entries), (COMMANDS, [o for o in commands if objects.name_of(o) in folded])):
        for obj in gone:
            store.delete_object(resource, objects.name_of(obj), resource_version=objects.resource_version(obj))
    return True


def _write_summary(store: KubeStore, incident: str, fresh: Summary) -> bool:
    current = store.get_object(ENTRIES, summary_name(incident))
    merged = fresh if current is None else decode(current).merged(fresh)
    body = {
        "type": "summary",
        "incident": incident,
        "compressed": encode(merged),
        "counts": {"events": len(merged.events), "toolCalls": len(merged.tool_calls), "commands": len(merged.commands)},
    }
    if current is None:
        obj = objects.new_object("JournalEntry", summary_name(incident), body, type="summary", incident=incident)
        try:
            store.kube.create(ENTRIES, obj, store.namespace)
        except errors.Conflict:
            return False
        return True
    return store.swap(ENTRIES, current, {"spec": body})

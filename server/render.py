"""A tool result's text: the facts a human or a model reads at a glance (the summary, then lines and tables), not the
JSON again. The structured content carries every field for programs; issue 13 holds text plus structured content to
at most 1.35 times the larger of the two.

The text shows every field that has a value, except where a result model's `Hint` says which fields and which table
columns a reader needs (the rest are for programs: ids, fingerprints, raw timestamps, preconditions). A field whose
value the summary already states (a whole word, SAID_MIN characters or more) is not repeated, though a table row's
identity column always is, a truncation that cut nothing is not mentioned, a table says what
all its rows share once above it, and a table cell is cut at CELL characters (server/render_cells.py) unless its
column is one the model must read whole. A plan's undo and diff: server/render_plans.py; log lines:
server/render_logs.py.

Layer: server (MCP wiring).
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from incident_response.server.render_cells import CELL, cell, cut_cell, empty, flat
from incident_response.server.render_logs import render_lines
from incident_response.server.render_plans import diff, relative, warning
from incident_response.tools.core.printable import printable

Rows = list[Any]
# A table of at least this many rows says a column with one value in every row once, above it.
SAME_ROWS = 3
# ...and the start and end all of a column's values share, when together at least this long.
SHARED_ENDS = 24
# A field holding a list of objects, rendered by a function of its rows and the summary (what is said already).
Special = Callable[[Rows, str], list[str]]


@dataclass(frozen=True)
class Hint:
    # The top-level fields the text shows, in order (None: all of them, in the model's order).
    fields: tuple[str, ...] | None = None
    # For a field holding a list of objects: the columns of its table (default: every column with a value).
    columns: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    # For a field holding a list of objects: rendered by this function instead of as a table.
    special: Mapping[str, Special] = field(default_factory=dict)
    # Shorter names for fields in the text.
    labels: Mapping[str, str] = field(default_factory=dict)
    # A field left out when this other field has a value (a token says the plan is pending; without one, the next
    # step says why it is blocked).
    unless: Mapping[str, str] = field(default_factory=dict)
    # A field shown under another field's value as its label (a blocked plan's `blocked: why`), which then is not
    # shown on its own.
    titled: Mapping[str, str] = field(default_factory=dict)
    # A command field shown relative to another (an undo that is the command with one word changed says only that).
    relative: Mapping[str, str] = field(default_factory=dict)
    # Table columns said whole, never cut at CELL (what a human must see exactly: a pending command).
    whole: frozenset[str] = frozenset()
    # For a field holding a list of objects: each said as one line, the lines then as a list of strings (a plan's
    # warnings: `check: brief`, render_plans.warning).
    lines: Mapping[str, Callable[[Any], str]] = field(default_factory=dict)


def render(model_name: str, data: Mapping[str, Any]) -> str:
    """The text of a result dumped as JSON-ready data (`summary` first)."""
    if model_name in TEXT_ONLY and data.get("format") == "json":  # asked for every field (the handoff's format=json)
        return json.dumps(dict(data), ensure_ascii=False, separators=(",", ":"))
    hint = HINTS.get(model_name, Hint())
    # One line, whatever it quotes: a newline inside a cluster string (an image) would add a line of its own.
    summary = printable(str(data.get("summary") or ""))
    lines = [summary] if summary else []
    shown = hint.fields if hint.fields is not None else [k for k in data if k != "summary"]
    for name in shown:
        value = data.get(name)
        if empty(value) or said(value, summary) or (isinstance(value, dict) and value.get("truncated") is False):
            continue
        if name in hint.unless and not empty(data.get(hint.unless[name])):
            continue
        if name in hint.titled.values() and not empty(data.get(title_of(hint, name))):
            continue
        if name in hint.titled and isinstance(value, str) and not empty(data.get(hint.titled[name])):
            lines.append(f"{data[hint.titled[name]]}: {value}")
            continue
        if name in hint.special and isinstance(value, list):
            if rendered := hint.special[name](value, summary):
                lines += [f"{hint.labels.get(name, name)}:", *rendered]
        elif name in hint.lines and isinstance(value, list):
            said_as = [hint.lines[name](item) for item in value]
            lines += render_field(hint.labels.get(name, name), said_as, None, summary, hint.whole)
        elif name in hint.relative and isinstance(value, str):
            base = hint.relative[name]
            lines.append(f"{hint.labels.get(name, name)}: {relative(value, data.get(base), base)}")
        else:
            lines += render_field(hint.labels.get(name, name), value, hint.columns.get(name), summary, hint.whole)
    return "\n".join(lines)


def title_of(hint: Hint, name: str) -> str:
    """The field titled by `name`'s value."""
    return next(titled for titled, title in hint.titled.items() if title == name)


# A row's identity: never left out of its table, even when the summary names every row (a table of bare numbers or
# yes/no says nothing: `checks: passed / no / yes` without which check).
IDENTITY = frozenset(
    {"name", "components", "component", "check", "node", "pod", "deployment", "question", "path", "revision"}
)
# A value shorter than this is never "said" by the summary: `no`, `0`, `api` appear in many other words and numbers.
SAID_MIN = 4


def said(value: Any, summary: str) -> bool:
    """A scalar the summary already states, as a whole word of at least SAID_MIN characters (`api` is not said by
    `api-bad`, nor `no` by `no load pressure`)."""
    if not isinstance(value, str | int | float) or isinstance(value, bool) or len(str(value)) < SAID_MIN:
        return False
    # Each occurrence, by its neighbours (what `(?<![\w./-])value(?![\w/-]|\.\w)` says, without compiling a regex
    # for every value: a first answer's values are all new to re's cache).
    word = str(value)
    at = summary.find(word)
    while at >= 0:
        end = at + len(word)
        if not (at and _joins(summary[at - 1], "./-")) and not (
            end < len(summary)
            and (_joins(summary[end], "/-") or (summary[end] == "." and _joins(summary[end + 1 : end + 2], "")))
        ):
            return True
        at = summary.find(word, at + 1)
    return False


def _joins(char: str, marks: str) -> bool:
    """A word character (re's word class: alphanumeric or `_`) or one of `marks`."""
    return char != "" and (char.isalnum() or char == "_" or char in marks)


def render_field(
    name: str, value: Any, columns: Sequence[str] | None, summary: str = "", whole: frozenset[str] = frozenset()
) -> list[str]:
    if isinstance(value, list) and value and all(isinstance(item, dict) for item in value):
        return [f"{name}:", *table(value, columns, summary, whole)]
    if isinstance(value, str) and "\n" in value:
        return [f"{name}:", value]
    if isinstance(value, list) and all(isinstance(item, str) for item in value) and len(", ".join(value)) > CELL:
        if len(value) == 1 and name.endswith("s"):
            return [f"{name[:-1]}: {value[0]}"]  # one warning, on one line
        return [f"{name}:", *(f"- {item}" for item in value)]  # whole: warnings and questions are not cut
    if isinstance(value, str):
        return [f"{name}: {value}"]
    if isinstance(value, list) and len(value) == 1 and name.endswith("s"):
        return [f"{name[:-1]}: {cell(value[0])}"]
    return [f"{name}: {cell(value)}"]


def table(
    rows: Sequence[Mapping[str, Any]],
    columns: Sequence[str] | None,
    summary: str = "",
    whole: frozenset[str] = frozenset(),
) -> list[str]:
    """Header, then one line per row, cells separated by ' | '; columns empty in every row, or whose every value the
    summary states (IDENTITY columns aside), are left out.
    Cells are cut at CELL characters, except in the `whole` columns (what the model
    must read: an event's message)."""
    keys = list(columns) if columns is not None else list(dict.fromkeys(k for row in rows for k in row))
    keys = [k for k in keys if any(not empty(row.get(k)) for row in rows)]
    keys = [k for k in keys if k in IDENTITY or not all(said(row.get(k), summary) for row in rows)] or keys[:1]

    def cut(text: str, k: str) -> str:
        return text if k in whole else cut_cell(text)

    if len(rows) < SAME_ROWS:
        return [" | ".join(keys), *(" | ".join(cut(flat(row.get(k)), k) for k in keys) for row in rows)]
    # What every row has in a column is said once, above the table: a whole value, or the start and end all the
    # values share (`Readiness probe failed: Get "http://10.244.…:8080/healthz": …`, the rows then the middle).
    said_once: list[str] = []
    shown: dict[str, list[str]] = {}
    middles: set[str] = set()  # columns whose cells are the part between a shared start and end
    for k in keys:
        values = [flat(row.get(k)) for row in rows]
        start, end = shared_ends(values)
        if len(set(values)) == 1 and len(keys) > 1:
            said_once.append(f"{k} {cut(values[0], k)}")
        elif len(start) + len(end) >= SHARED_ENDS and all(" " in v for v in values):  # prose, not names to copy
            said_once.append(f"{k} {start}…{end}")
            shown[k] = [cut(v[len(start) : len(v) - len(end)] or "-", k) for v in values]
            middles.add(k)
        else:
            shown[k] = [cut(v, k) for v in values]
    if not shown:  # every row alike: the table is their one value per column
        return [" | ".join(keys), " | ".join(cut(flat(rows[0].get(k)), k) for k in keys) + f" (x{len(rows)})"]
    head = ["every row: " + ", ".join(said_once)] if said_once else []
    columns_shown = [k for k in keys if k in shown]
    return [
        *head,
        " | ".join(f"{k} …" if k in middles else k for k in columns_shown),
        *(" | ".join(shown[k][i] for k in columns_shown) for i in range(len(rows))),
    ]


def shared_ends(values: Sequence[str]) -> tuple[str, str]:
    """The start and the end every value shares, each ending (starting) at a word's edge; none for equal values."""
    if len(set(values)) <= 1:
        return "", ""
    start = os.path.commonprefix(list(values))
    start = start[: max((i + 1 for i, c in enumerate(start) if not c.isalnum()), default=0)]
    rest = [v[len(start) :] for v in values]
    end = os.path.commonprefix([v[::-1] for v in rest])[::-1]
    end = end[min((i for i, c in enumerate(end) if not c.isalnum()), default=len(end)) :]
    return start, end


def events(rows: Rows, summary: str = "") -> list[str]:
    """Every event group newest first, its message whole (the why: an OOMKilling's figures, a FailedScheduling's
    reasons)."""
    return table(rows, ("type", "reason", "object", "count", "last_seen", "message"), whole=frozenset({"message"}))


def revisions(rows: Rows, summary: str = "") -> list[str]:
    """The revisions the summary does not list already (`3* image; 2 image`: it lists the newest five)."""

    def listed(row: Any) -> bool:
        said_as = f"{row.get('revision')}{'*' if row.get('current') else ''} {', '.join(row.get('images') or [])}"
        return re.search(rf"(?:^|; ){re.escape(said_as)}(?:;|$)", summary) is not None

    rest = [row for row in rows if not listed(row)]
    return table(rest, ("revision", "images")) if rest else []


def checks(rows: Rows, summary: str = "") -> list[str]:
    """The checks the summary does not state already: by status (`known_good ok, stateful ok`), or by the reason a
    blocking check gives (its detail up to what next_step says instead, after the `kind name` the summary names just
    before it)."""

    def stated(row: Any) -> bool:
        said_as = re.escape(f"{row.get('check')} {row.get('status')}")
        why = str(row.get("detail") or "").partition("; instead, ")[0].split(" ", 2)[-1]
        return re.search(rf"\b{said_as}\b", summary) is not None or (len(why) >= SHARED_ENDS and why in summary)

    rest = [row for row in rows if not stated(row)]
    return table(rest, ("check", "status")) if rest else []


def names_of(items: Rows, summary: str = "") -> list[str]:
    """One line: every item (a list of names)."""
    return [", ".join(cell(item) for item in items)]


def names(column: str) -> Special:
    """One line: that column of every row."""

    def render_names(rows: Rows, summary: str = "") -> list[str]:
        return [", ".join(cell(row.get(column)) for row in rows)]

    return render_names


# Results whose facts are prose the model must read whole (log lines, event messages, the handoff's document): the
# tool declares no output schema and its result is the text alone, so a client that hands the model only the
# structured content (Claude Code, VS Code) and one that hands it only the text see the same thing, and the text is
# not paid for twice. The text then says every fact the structured content would have; the handoff's fields, for
# programs, are its format='json' (the text is then that JSON).
TEXT_ONLY = frozenset({"PodLogs", "EventList", "Handoff"})

# A pending plan's next step is the same recipe every time: the server's instructions carry it, with the approve
# command. A blocked plan's says why it is blocked.
PLAN_FIELDS = ("status", "token", "command", "undo_command", "diff", "warnings", "next_step")

HINTS: dict[str, Hint] = {
    "Assessment": Hint(
        ("problems", "problem_pods", "recent_rollouts", "hpas_at_max", "not_readable"),
        {"problems": ("rank", "impact", "components", "detail", "next_tool"),
         "problem_pods": ("name", "status", "restarts", "age"),
         "recent_rollouts": ("deployment", "revision", "minutes_ago", "images"),
         "hpas_at_max": ("name", "current_replicas", "max_replicas")},
    ),
    "PodList": Hint(("pods", "truncation"), {"pods": ("name", "ready", "status", "restarts", "age")}),
    # The summary lists the newest five revisions (the current starred): the table shows the others.
    "RolloutHistory": Hint(("revisions", "detail"), special={"revisions": revisions}),
    "RolloutStatus": Hint(("state", "failing_pods"), {"failing_pods": ("name", "status", "restarts")}),
    "TopPods": Hint(
        ("pods", "truncation"),
        {"pods": ("name", "cpu", "memory", "cpu_percent_of_limit", "memory_percent_of_limit")},
    ),
    "TopNodes": Hint(
        ("nodes",),
        {"nodes": ("name", "ready", "pressure", "cpu_percent", "memory_percent", "cpu_requests_percent",
                   "memory_requests_percent", "pods")},
    ),
    "HpaList": Hint(("hpas",), {"hpas": ("name", "current_replicas", "max_replicas", "at_max")}),
    "ServiceEndpoints": Hint(("ready", "not_ready"), special={"ready": names("pod"), "not_ready": names("pod")}),
    # Text only (TEXT_ONLY): the summary counts the groups and the Warning occurrences.
    "EventList": Hint(("events", "truncation"), special={"events": events}),
    # Text only (TEXT_ONLY): the summary says the pod, container, line count, redactions and a cut tail.
    "PodLogs": Hint(
        ("other_pods", "lines"),
        special={"lines": lambda lines, _: render_lines([str(line) for line in lines]), "other_pods": names_of},
        labels={"other_pods": "other pods"},
    ),
    "HelmHistory": Hint(("revisions",), {"revisions": ("revision", "status", "chart")}),
    "RollbackSafety": Hint(("items", "questions_for_human", "next_step"), special={"items": checks}),
    "DecisionEvaluation": Hint(("steps", "question", "answer_with", "cautions"), {"steps": ("question", "answer")}),
    "RecoveryReport": Hint(("checks", "recheck_at"), {"checks": ("name", "passed")}),
    # Text only (TEXT_ONLY): the summary (the title: the document has none), why this incident, the document.
    "Handoff": Hint(("chosen_because", "document"), labels={"chosen_because": "chosen"}),
    "ServerInfo": Hint(("permissions",), {"permissions": ("mitigation", "allowed")}),
    "Proposal": Hint(
        PLAN_FIELDS,
        special={"diff": diff},
        lines={"warnings": warning},
        labels={"undo_command": "undo", "next_step": "next"},
        unless={"status": "token", "next_step": "token"},
        titled={"next_step": "status"},
        relative={"undo_command": "command"},
    ),
    "MeasureList": Hint(("measures",), {"measures": ("measure_id", "restore_command")}),
    "CommandResult": Hint(
        ("status", "message", "applied_steps", "failed_step", "undo_applied", "changes"),
        {"changes": ("path", "planned", "now")},
    ),
    "PendingList": Hint(("commands",), {"commands": ("token", "state", "command")}, whole=frozenset({"command"})),
    "Declaration": Hint(("outcome", "warnings")),
}  # fmt: skip
